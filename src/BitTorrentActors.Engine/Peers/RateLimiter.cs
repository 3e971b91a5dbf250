using System.Diagnostics;

namespace BitTorrentActors.Engine.Peers;

/// <summary>
/// A byte-rate limit shared by every connection of a torrent: the one shared, thread-safe service the peers use
/// (PeerActors for uploads, the connections' read loops for downloads). Lock-free: it keeps the "theoretical
/// arrival time" of the next byte (GCRA, the virtual-time form of a token bucket) in one long updated by
/// compare-and-swap. <see cref="Reserve"/> books bytes and says how long the caller should wait before moving
/// them; it never blocks, so actors can call it and schedule a timer instead of sleeping.
/// </summary>
public sealed class RateLimiter
{
    /// <summary>Shared by everyone who has no limit configured.</summary>
    public static readonly RateLimiter Unlimited = new(0);

    private readonly long _bytesPerSecond;
    private readonly long _burstTicks;
    private long _nextFreeTicks;

    /// <param name="bytesPerSecond">0 means unlimited.</param>
    public RateLimiter(long bytesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytesPerSecond);
        _bytesPerSecond = bytesPerSecond;
        // A burst of a tenth of a second (at least two 16 KiB blocks) lets the pipeline stay full without
        // letting the average drift above the limit.
        var burstBytes = Math.Max(bytesPerSecond / 10, 2 * 16 * 1024);
        _burstTicks = bytesPerSecond == 0 ? 0 : CostTicks(burstBytes);
        _nextFreeTicks = Now();
    }

    public long BytesPerSecond => _bytesPerSecond;

    public bool IsUnlimited => _bytesPerSecond == 0;

    /// <summary>Books <paramref name="bytes"/> and returns how long to wait before sending them (zero: now).</summary>
    public TimeSpan Reserve(long bytes)
    {
        if (_bytesPerSecond == 0 || bytes <= 0)
        {
            return TimeSpan.Zero;
        }

        var cost = CostTicks(bytes);
        while (true)
        {
            var now = Now();
            var current = Volatile.Read(ref _nextFreeTicks);
            // An idle limiter banks nothing beyond the burst tolerance: idle time is not credit for later.
            var start = Math.Max(current, now);
            var next = start + cost;
            if (Interlocked.CompareExchange(ref _nextFreeTicks, next, current) == current)
            {
                var wait = next - _burstTicks - now;
                return wait > 0 ? TimeSpan.FromTicks(wait) : TimeSpan.Zero;
            }
        }
    }

    /// <summary>Books the bytes and waits off-thread as long as <see cref="Reserve"/> says (read loops only).</summary>
    public Task WaitAsync(long bytes, CancellationToken cancellationToken)
    {
        var wait = Reserve(bytes);
        return wait > TimeSpan.Zero ? Task.Delay(wait, cancellationToken) : Task.CompletedTask;
    }

    private long CostTicks(long bytes) => (long)(bytes * (double)TimeSpan.TicksPerSecond / _bytesPerSecond);

    private static long Now() => Stopwatch.GetElapsedTime(0).Ticks;
}
