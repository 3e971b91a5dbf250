using BitTorrentActors.Engine.Trackers;

namespace BitTorrentActors.Engine.Tests.Trackers;

public sealed class TrackerTiersTests
{
    private static readonly string[][] Torrent = [["a1", "a2", "a3", "a4"], ["b1", "b2"], ["c1"]];

    [Fact]
    public void Without_a_shuffle_the_torrents_order_is_kept()
    {
        Assert.Equal(["a1", "a2", "a3", "a4", "b1", "b2", "c1"], new TrackerTiers(Torrent).InOrder());
    }

    [Fact]
    public void Each_tier_is_shuffled_once_and_tiers_keep_their_order()
    {
        var firsts = new HashSet<string>();
        for (var seed = 0; seed < 40; seed++)
        {
            var tiers = new TrackerTiers(Torrent, new Random(seed));
            var order = tiers.InOrder();
            Assert.Equal(["a1", "a2", "a3", "a4"], order.Take(4).Order());
            Assert.Equal(["b1", "b2"], order.Skip(4).Take(2).Order());
            Assert.Equal("c1", order[6]);
            firsts.Add(order[0]);
            // Once: asking again does not reshuffle.
            Assert.Equal(order, tiers.InOrder());
        }
        // Every tracker of the first tier comes first for some client: load spreads over the tier.
        Assert.Equal(4, firsts.Count);
    }

    [Fact]
    public void A_tracker_that_answers_moves_to_the_front_of_its_own_tier_only()
    {
        var tiers = new TrackerTiers(Torrent);

        tiers.Promote("a3");
        tiers.Promote("b2");
        tiers.Promote("unknown");

        Assert.Equal(["a3", "a1", "a2", "a4", "b2", "b1", "c1"], tiers.InOrder());
    }

    [Fact]
    public void Duplicates_and_empty_tiers_are_dropped()
    {
        var tiers = new TrackerTiers([["x", "x"], [], ["y"]]);

        Assert.Equal(["x", "y"], tiers.InOrder());
        Assert.True(new TrackerTiers([[], []]).IsEmpty);
    }
}
