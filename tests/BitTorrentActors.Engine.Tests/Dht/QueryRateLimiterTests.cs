using System.Net;
using BitTorrentActors.Engine.Dht;

namespace BitTorrentActors.Engine.Tests.Dht;

public class QueryRateLimiterTests
{
    private static readonly TimeSpan T0 = TimeSpan.FromHours(4);
    private static readonly IPAddress Flooder = IPAddress.Parse("127.0.0.66");
    private static readonly IPAddress Honest = IPAddress.Parse("127.0.0.2");

    [Fact]
    public void A_flood_of_1000_a_second_is_throttled_while_a_second_address_is_served()
    {
        var limiter = new QueryRateLimiter(perSecond: 5, burst: 50, blockFor: TimeSpan.Zero);
        var flooderAccepted = 0;
        var honestAccepted = 0;
        for (var ms = 0; ms < 10_000; ms++)
        {
            var now = T0 + TimeSpan.FromMilliseconds(ms);
            flooderAccepted += limiter.TryAcquire(Flooder, now) ? 1 : 0;
            if (ms % 250 == 0)
            {
                honestAccepted += limiter.TryAcquire(Honest, now) ? 1 : 0;
            }
        }

        // 10,000 datagrams in 10 s: the burst of 50 plus 5 a second.
        Assert.InRange(flooderAccepted, 50, 101);
        Assert.Equal(40, honestAccepted);
        Assert.Equal(10_000 - flooderAccepted, limiter.Refused);
    }

    [Fact]
    public void A_flooder_is_blocked_for_the_block_time_then_starts_with_a_full_bucket()
    {
        var limiter = new QueryRateLimiter(perSecond: 5, burst: 3, blockFor: TimeSpan.FromMinutes(5));
        for (var i = 0; i < 3; i++)
        {
            Assert.True(limiter.TryAcquire(Flooder, T0));
        }
        Assert.False(limiter.TryAcquire(Flooder, T0));

        // The bucket would have refilled after a second, but the block holds.
        Assert.False(limiter.TryAcquire(Flooder, T0 + TimeSpan.FromSeconds(10)));
        Assert.False(limiter.TryAcquire(Flooder, T0 + TimeSpan.FromMinutes(4.9)));
        for (var i = 0; i < 3; i++)
        {
            Assert.True(limiter.TryAcquire(Flooder, T0 + TimeSpan.FromMinutes(5)));
        }
        Assert.False(limiter.TryAcquire(Flooder, T0 + TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void Tokens_refill_at_the_rate_up_to_the_burst()
    {
        var limiter = new QueryRateLimiter(perSecond: 2, burst: 2, blockFor: TimeSpan.Zero);
        Assert.True(limiter.TryAcquire(Honest, T0));
        Assert.True(limiter.TryAcquire(Honest, T0));
        Assert.False(limiter.TryAcquire(Honest, T0));
        Assert.True(limiter.TryAcquire(Honest, T0 + TimeSpan.FromMilliseconds(500)));
        Assert.False(limiter.TryAcquire(Honest, T0 + TimeSpan.FromMilliseconds(500)));
        // A long pause refills only up to the burst.
        var later = T0 + TimeSpan.FromHours(1);
        Assert.True(limiter.TryAcquire(Honest, later));
        Assert.True(limiter.TryAcquire(Honest, later));
        Assert.False(limiter.TryAcquire(Honest, later));
    }

    [Fact]
    public void Memory_is_bounded_and_a_blocked_flooder_stays_blocked_among_many_addresses()
    {
        var limiter = new QueryRateLimiter(perSecond: 5, burst: 1, maxAddresses: 100, blockFor: TimeSpan.FromMinutes(5));
        Assert.True(limiter.TryAcquire(Flooder, T0));
        Assert.False(limiter.TryAcquire(Flooder, T0));

        for (var i = 0; i < 100_000; i++)
        {
            var now = T0 + TimeSpan.FromMilliseconds(i);
            limiter.TryAcquire(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]), now);
            if (i % 50 == 0)
            {
                Assert.False(limiter.TryAcquire(Flooder, now));
            }
        }

        Assert.Equal(100, limiter.TrackedAddresses);
    }

    [Fact]
    public void An_IPv4_mapped_address_is_the_same_source()
    {
        var limiter = new QueryRateLimiter(perSecond: 1, burst: 1, blockFor: TimeSpan.Zero);

        Assert.True(limiter.TryAcquire(Honest, T0));
        Assert.False(limiter.TryAcquire(Honest.MapToIPv6(), T0));
        Assert.Equal(1, limiter.TrackedAddresses);
    }
}
