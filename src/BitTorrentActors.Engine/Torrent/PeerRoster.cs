using System.Net;
using System.Net.NetworkInformation;
using BitTorrentActors.Engine.Hosting;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>
/// The coordinator's book of peers: every address heard of, which are being dialled or connected, when a
/// failed one may be tried again (exponential backoff), and which are banned. One entry per address and port,
/// so the same peer is never dialled twice. Plain state owned by the coordinator actor; time is passed in.
/// </summary>
internal sealed class PeerRoster
{
    /// <summary>
    /// Addresses kept at most (libtorrent's <c>max_peerlist_size</c>, 3000): trackers give up to 200 per announce,
    /// but PEX and the DHT let any peer name addresses, 50 a message; beyond this new ones are dropped, so a
    /// flood grows neither memory nor dial attempts (each kept address is dialled at most MaxAttempts times).
    /// </summary>
    public const int DefaultMaxKnown = 3000;

    private readonly PeerRetrySettings _retry;
    private readonly int _maxKnown;
    private readonly Func<IPEndPoint, bool> _isSelf;
    private readonly Dictionary<IPEndPoint, Entry> _entries = [];
    private readonly Dictionary<IPEndPoint, string> _banned = [];
    private readonly HashSet<IPAddress> _bannedAddresses = [];
    private readonly HashSet<IPEndPoint> _retired = [];

    public PeerRoster(PeerRetrySettings retry, Func<IPEndPoint, bool> isSelf, int maxKnown = DefaultMaxKnown)
    {
        _retry = retry;
        _maxKnown = maxKnown;
        _isSelf = isSelf;
    }

    public int Known => _entries.Count;
    public int Active { get; private set; }
    public int BannedCount => _banned.Count;

    /// <summary>Adds addresses; returns how many were new. Ourselves, banned, port 0 and duplicates are skipped,
    /// and everything once <see cref="DefaultMaxKnown"/> (or the bound given) addresses are known.</summary>
    public int Add(IEnumerable<IPEndPoint> peers)
    {
        var added = 0;
        foreach (var peer in peers)
        {
            if (_entries.Count >= _maxKnown)
            {
                break;
            }
            var key = Normalize(peer);
            if (key.Port == 0 || _banned.ContainsKey(key) || _bannedAddresses.Contains(key.Address) || _retired.Contains(key)
                || _entries.ContainsKey(key) || _isSelf(key))
            {
                continue;
            }
            _entries.Add(key, new Entry());
            added++;
        }
        return added;
    }

    /// <summary>Idle addresses whose retry time has come: candidates for a slot that peer turnover frees.</summary>
    public int Waiting(DateTime now) => _entries.Values.Count(e => !e.Active && e.RetryAt <= now);

    /// <summary>Picks up to <paramref name="slots"/> idle peers whose retry time has come and marks them active.</summary>
    public IReadOnlyList<IPEndPoint> TakeCandidates(DateTime now, int slots)
    {
        var taken = new List<IPEndPoint>();
        // Fewest failures first: fresh addresses before ones that already let us down.
        foreach (var (endpoint, entry) in _entries.OrderBy(e => e.Value.Failures))
        {
            if (taken.Count >= slots)
            {
                break;
            }
            if (!entry.Active && entry.RetryAt <= now)
            {
                entry.Active = true;
                Active++;
                taken.Add(endpoint);
            }
        }
        return taken;
    }

    public void Connected(IPEndPoint peer)
    {
        if (_entries.TryGetValue(Normalize(peer), out var entry))
        {
            entry.EverConnected = true;
        }
    }

    /// <summary>The connection ended (or never came up): schedule a retry with backoff, or forget the peer
    /// after too many failures.</summary>
    public void Disconnected(IPEndPoint peer, DateTime now)
    {
        var key = Normalize(peer);
        if (!_entries.TryGetValue(key, out var entry))
        {
            return;
        }
        if (entry.Active)
        {
            entry.Active = false;
            Active--;
        }
        entry.Failures++;
        if (entry.Failures >= _retry.MaxAttempts)
        {
            _entries.Remove(key);
            return;
        }
        var backoff = _retry.MinBackoff * Math.Pow(2, entry.Failures - 1);
        entry.RetryAt = now + (backoff > _retry.MaxBackoff ? _retry.MaxBackoff : backoff);
    }

    /// <summary>Never dial this peer again this session.</summary>
    public void Ban(IPEndPoint peer, string reason)
    {
        var key = Normalize(peer);
        if (_entries.Remove(key, out var entry) && entry.Active)
        {
            Active--;
        }
        _banned.TryAdd(key, reason);
        // On loopback every peer shares 127.0.0.1 (tests, local swarms): there only the exact address and
        // port, and the peer id the coordinator keeps, are banned.
        if (!IPAddress.IsLoopback(key.Address))
        {
            _bannedAddresses.Add(key.Address);
        }
    }

    public bool IsBanned(IPEndPoint peer) => _banned.ContainsKey(Normalize(peer));

    /// <summary>Whether a peer connecting to us is banned: its address, or (loopback) its exact endpoint.</summary>
    public bool IsRefused(IPEndPoint incoming)
    {
        var key = Normalize(incoming);
        return _banned.ContainsKey(key) || _bannedAddresses.Contains(key.Address);
    }

    /// <summary>A peer not worth dialling again (a seed while we seed): forgotten, and not re-added this session.</summary>
    public void Retire(IPEndPoint peer)
    {
        var key = Normalize(peer);
        if (_entries.Remove(key, out var entry) && entry.Active)
        {
            Active--;
        }
        _retired.Add(key);
    }

    private static IPEndPoint Normalize(IPEndPoint peer) =>
        peer.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(peer.Address.MapToIPv4(), peer.Port) : peer;

    /// <summary>This machine's own addresses (loopback and every interface), read once per torrent, for
    /// self-detection: trackers such as opentracker list the announcing client among the peers.</summary>
    public static HashSet<IPAddress> LocalAddresses()
    {
        var addresses = new HashSet<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback, IPAddress.Any, IPAddress.IPv6Any };
        try
        {
            foreach (var unicast in NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses))
            {
                addresses.Add(unicast.Address);
            }
        }
        catch (NetworkInformationException)
        {
            // Without the interface list only loopback counts as ourselves; the peer-id check still catches the rest.
        }
        return addresses;
    }

    private sealed class Entry
    {
        public bool Active { get; set; }
        public bool EverConnected { get; set; }
        public int Failures { get; set; }
        public DateTime RetryAt { get; set; } = DateTime.MinValue;
    }
}
