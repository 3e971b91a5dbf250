using System.Net;

namespace BitTorrentActors.Engine.Dht;

/// <summary>
/// Per-source-address limit on incoming DHT datagrams, so one flooding address cannot use up the node (answers,
/// table updates, CPU) while others keep being served. A token bucket per address: <c>perSecond</c> tokens a
/// second up to <c>burst</c>; a datagram takes one. An address that empties its bucket is refused for
/// <c>blockFor</c> whatever it sends meanwhile, then starts again with a full bucket. The defaults are
/// libtorrent's <c>dos_blocker</c>: 5 packets a second averaged over 10 seconds (<c>dht_block_ratelimit</c>),
/// then blocked for 5 minutes (<c>dht_block_timeout</c>).
/// <para>
/// Memory is bounded: at most <c>maxAddresses</c> addresses are tracked, the least recently heard one forgotten
/// first (a forgotten address starts again with a full bucket, which is harmless: a flooder is never the least
/// recently heard). Clock-free: every call takes <c>now</c>.
/// </para>
/// </summary>
public sealed class QueryRateLimiter
{
    private readonly double _perSecond;
    private readonly double _burst;
    private readonly int _maxAddresses;
    private readonly TimeSpan _blockFor;
    private readonly Dictionary<IPAddress, LinkedListNode<Entry>> _byAddress = [];
    private readonly LinkedList<Entry> _recency = new();

    public QueryRateLimiter(double perSecond = 5, int burst = 50, int maxAddresses = 4096, TimeSpan? blockFor = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAddresses, 1);
        _perSecond = perSecond;
        _burst = burst;
        _maxAddresses = maxAddresses;
        _blockFor = blockFor ?? TimeSpan.FromMinutes(5);
    }

    public int TrackedAddresses => _byAddress.Count;

    /// <summary>Datagrams refused since the start (for the node's statistics).</summary>
    public long Refused { get; private set; }

    /// <summary>True when a datagram from <paramref name="source"/> may be handled now; false to drop it.</summary>
    public bool TryAcquire(IPAddress source, TimeSpan now)
    {
        if (source.IsIPv4MappedToIPv6)
        {
            source = source.MapToIPv4();
        }
        if (_byAddress.TryGetValue(source, out var node))
        {
            _recency.Remove(node);
            _recency.AddFirst(node);
        }
        else
        {
            if (_byAddress.Count >= _maxAddresses)
            {
                var oldest = _recency.Last!;
                _recency.RemoveLast();
                _byAddress.Remove(oldest.Value.Address);
            }
            node = _recency.AddFirst(new Entry(source, _burst, now));
            _byAddress[source] = node;
        }

        var entry = node.Value;
        if (entry.BlockedUntil is { } until)
        {
            if (now < until)
            {
                Refused++;
                return false;
            }
            entry.BlockedUntil = null;
            entry.Tokens = _burst;
            entry.RefilledAt = now;
        }
        var elapsed = (now - entry.RefilledAt).TotalSeconds;
        if (elapsed > 0)
        {
            entry.Tokens = Math.Min(_burst, entry.Tokens + elapsed * _perSecond);
            entry.RefilledAt = now;
        }
        if (entry.Tokens >= 1)
        {
            entry.Tokens -= 1;
            return true;
        }
        if (_blockFor > TimeSpan.Zero)
        {
            entry.BlockedUntil = now + _blockFor;
        }
        Refused++;
        return false;
    }

    private sealed class Entry(IPAddress address, double tokens, TimeSpan now)
    {
        public IPAddress Address { get; } = address;
        public double Tokens { get; set; } = tokens;
        public TimeSpan RefilledAt { get; set; } = now;
        public TimeSpan? BlockedUntil { get; set; }
    }
}
