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

    private readonly RateLimiter? _parent;
    private Rate _rate;
    private long _nextFreeTicks;

    /// <param name="bytesPerSecond">0 means unlimited.</param>
    /// <param name="parent">A wider limit (the session's) that every booking here also books: the wait is the
    /// longer of the two.</param>
    public RateLimiter(long bytesPerSecond, RateLimiter? parent = null)
    {
        _rate = Rate.Of(bytesPerSecond);
        _parent = parent;
        _nextFreeTicks = Now();
    }

    public long BytesPerSecond => Volatile.Read(ref _rate).BytesPerSecond;

    /// <summary>Unlimited here and in every parent.</summary>
    public bool IsUnlimited => BytesPerSecond == 0 && (_parent is null || _parent.IsUnlimited);

    /// <summary>Changes the limit (an RPC session-set or torrent-set); bookings already made keep their times.</summary>
    public void SetRate(long bytesPerSecond)
    {
        // The shared Unlimited instance must stay what its name says.
        if (ReferenceEquals(this, Unlimited))
        {
            throw new InvalidOperationException("the shared unlimited limiter cannot change");
        }
        Volatile.Write(ref _rate, Rate.Of(bytesPerSecond));
    }

    /// <summary>Books <paramref name="bytes"/> and returns how long to wait before sending them (zero: now).</summary>
    public TimeSpan Reserve(long bytes)
    {
        var parentWait = _parent?.Reserve(bytes) ?? TimeSpan.Zero;
        var rate = Volatile.Read(ref _rate);
        if (rate.BytesPerSecond == 0 || bytes <= 0)
        {
            return parentWait;
        }

        var cost = rate.CostTicks(bytes);
        while (true)
        {
            var now = Now();
            var current = Volatile.Read(ref _nextFreeTicks);
            // An idle limiter banks nothing beyond the burst tolerance: idle time is not credit for later.
            var start = Math.Max(current, now);
            var next = start + cost;
            if (Interlocked.CompareExchange(ref _nextFreeTicks, next, current) == current)
            {
                var wait = next - rate.BurstTicks - now;
                return wait > parentWait.Ticks ? TimeSpan.FromTicks(wait) : parentWait;
            }
        }
    }

    /// <summary>Books the bytes and waits off-thread as long as <see cref="Reserve"/> says (read loops only).</summary>
    public Task WaitAsync(long bytes, CancellationToken cancellationToken)
    {
        var wait = Reserve(bytes);
        return wait > TimeSpan.Zero ? Task.Delay(wait, cancellationToken) : Task.CompletedTask;
    }

    private static long Now() => Stopwatch.GetElapsedTime(0).Ticks;

    /// <summary>A limit and its burst tolerance, swapped as one reference so a reader never sees half a change.</summary>
    private sealed class Rate
    {
        private Rate(long bytesPerSecond)
        {
            BytesPerSecond = bytesPerSecond;
            // A burst of a tenth of a second (at least two 16 KiB blocks) lets the pipeline stay full without
            // letting the average drift above the limit.
            BurstTicks = bytesPerSecond == 0 ? 0 : CostTicks(Math.Max(bytesPerSecond / 10, 2 * 16 * 1024));
        }

        public long BytesPerSecond { get; }

        public long BurstTicks { get; }

        public static Rate Of(long bytesPerSecond)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(bytesPerSecond);
            return new Rate(bytesPerSecond);
        }

        public long CostTicks(long bytes) => (long)(bytes * (double)TimeSpan.TicksPerSecond / BytesPerSecond);
    }
}
