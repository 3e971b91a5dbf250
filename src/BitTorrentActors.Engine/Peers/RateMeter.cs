namespace BitTorrentActors.Engine.Peers;

/// <summary>
/// Bytes per second over a short sliding window of fixed buckets: cheap enough to feed on every block, and quick
/// to follow a peer that speeds up or stalls. Single-threaded (one actor owns it); time is passed in so tests
/// drive it without a clock.
/// </summary>
internal sealed class RateMeter
{
    private readonly long[] _bytes;
    private readonly long[] _bucketIds;
    private readonly long _bucketTicks;
    private readonly TimeSpan _start;

    public RateMeter(TimeSpan window, int buckets, TimeSpan start)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _bytes = new long[buckets];
        _bucketIds = new long[buckets];
        Array.Fill(_bucketIds, -1);
        _bucketTicks = Math.Max(1, window.Ticks / buckets);
        _start = start;
    }

    public TimeSpan Window => TimeSpan.FromTicks(_bucketTicks * _bytes.Length);

    public void Add(long bytes, TimeSpan now)
    {
        var id = BucketId(now);
        var slot = (int)(id % _bytes.Length);
        if (_bucketIds[slot] != id)
        {
            _bucketIds[slot] = id;
            _bytes[slot] = 0;
        }

        _bytes[slot] += bytes;
    }

    public long BytesPerSecond(TimeSpan now)
    {
        var current = BucketId(now);
        long sum = 0;
        for (var i = 0; i < _bytes.Length; i++)
        {
            if (_bucketIds[i] > current - _bytes.Length && _bucketIds[i] <= current)
            {
                sum += _bytes[i];
            }
        }

        // A young connection divides by its age, not the full window, so its first second is not under-counted;
        // at least one bucket, so a single early block does not read as an absurd rate.
        var covered = Math.Clamp((now - _start).Ticks, _bucketTicks, _bucketTicks * _bytes.Length);
        return (long)(sum * (double)TimeSpan.TicksPerSecond / covered);
    }

    private long BucketId(TimeSpan now) => Math.Max(0, (now - _start).Ticks) / _bucketTicks;
}
