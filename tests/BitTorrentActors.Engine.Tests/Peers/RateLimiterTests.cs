using BitTorrentActors.Engine.Peers;

namespace BitTorrentActors.Engine.Tests.Peers;

/// <summary>The session-wide limit on top of a torrent's: bookings go to both, the longer wait wins, and a limit
/// changed at run time (RPC session-set) applies to the next booking.</summary>
public sealed class RateLimiterTests
{
    [Fact]
    public void A_session_limit_holds_back_a_torrent_that_has_none()
    {
        var session = new RateLimiter(1_000_000);
        var torrent = new RateLimiter(0, parent: session);

        var wait = torrent.Reserve(3_000_000);

        // 3 MB at 1 MB/s, less the 0.1 s burst allowance.
        Assert.InRange(wait.TotalSeconds, 2.5, 3.0);
        Assert.False(torrent.IsUnlimited);
    }

    [Fact]
    public void The_tighter_of_the_two_limits_decides()
    {
        var session = new RateLimiter(10_000_000);
        var torrent = new RateLimiter(1_000_000, parent: session);

        Assert.InRange(torrent.Reserve(2_000_000).TotalSeconds, 1.5, 2.0);
    }

    [Fact]
    public void A_limit_lifted_at_run_time_no_longer_holds_back_new_bookings()
    {
        var session = new RateLimiter(1_000);
        var torrent = new RateLimiter(0, parent: session);
        Assert.True(torrent.Reserve(100_000) > TimeSpan.FromSeconds(10));

        session.SetRate(0);

        Assert.Equal(TimeSpan.Zero, torrent.Reserve(100_000));
        Assert.True(torrent.IsUnlimited);
        Assert.Throws<InvalidOperationException>(() => RateLimiter.Unlimited.SetRate(5));
    }
}
