using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Tests.Trackers;

public sealed class TrackerBackoffTests
{
    private static readonly TimeSpan Min = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Max = TimeSpan.FromMinutes(10);

    [Fact]
    public void Delays_stay_between_min_and_max_and_grow_until_capped()
    {
        var random = new Random(1234);
        for (var failures = 1; failures <= 40; failures++)
        {
            for (var sample = 0; sample < 50; sample++)
            {
                Assert.InRange(TrackerBackoff.Delay(failures, Min, Max, random), Min, Max);
            }
        }
        // Jitter is ±20 %, so the 4th failure (nominal 40 s) always waits longer than the 2nd (nominal 10 s).
        Assert.True(TrackerBackoff.Delay(4, Min, Max, random) > TrackerBackoff.Delay(2, Min, Max, random) * 2);
        Assert.InRange(TrackerBackoff.Delay(30, Min, Max, random), Max * 0.8, Max);
    }

    [Fact]
    public void An_answering_tracker_moves_to_the_front_of_its_tier_only()
    {
        var tiers = new TrackerTiers([["a1", "a2", "a3"], [], ["b1", "b2"]]);

        tiers.Promote("a3");
        tiers.Promote("b2");
        tiers.Promote("unknown");

        Assert.Equal(["a3", "a1", "a2", "b2", "b1"], tiers.InOrder());
        Assert.True(new TrackerTiers([[], []]).IsEmpty);
    }

    [Theory]
    [InlineData(60, null, 60)]
    [InlineData(60, 30, 60)]
    [InlineData(60, 90, 90)]
    public void The_next_announce_waits_the_interval_but_never_less_than_the_min_interval(int interval, int? min, int expected)
    {
        var response = new AnnounceResponse(TimeSpan.FromSeconds(interval), min is { } m ? TimeSpan.FromSeconds(m) : null,
            null, null, null, [], null);

        Assert.Equal(TimeSpan.FromSeconds(expected), TrackerActor.NextAnnounceDelay(response));
    }
}
