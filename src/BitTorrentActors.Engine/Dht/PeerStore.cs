using System.Net;
using BitTorrentActors.Protocol.Dht;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Dht;

/// <summary>
/// The peers other nodes announced to us (<c>announce_peer</c>), which our <c>get_peers</c> answers hand out.
/// Bounded like libtorrent's <c>dht_storage</c>: at most <c>maxTorrents</c> info-hashes (the least recently
/// announced one is forgotten first) and <c>maxPeersPerTorrent</c> peers each (the stalest is replaced); a peer
/// not re-announced within <c>peerLifetime</c> is dropped. Clock-free: every call takes <c>now</c>.
/// </summary>
public sealed class PeerStore
{
    private readonly int _maxTorrents;
    private readonly int _maxPeersPerTorrent;
    private readonly TimeSpan _peerLifetime;
    private readonly Dictionary<InfoHash, Swarm> _swarms = [];

    /// <param name="maxTorrents">libtorrent <c>dht_max_torrents</c>: 2000.</param>
    /// <param name="maxPeersPerTorrent">libtorrent <c>dht_max_peers</c>: 500.</param>
    /// <param name="peerLifetime">How long an announce counts; 30 minutes (clients re-announce every 15).</param>
    public PeerStore(int maxTorrents = 2000, int maxPeersPerTorrent = 500, TimeSpan? peerLifetime = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTorrents, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPeersPerTorrent, 1);
        _maxTorrents = maxTorrents;
        _maxPeersPerTorrent = maxPeersPerTorrent;
        _peerLifetime = peerLifetime ?? TimeSpan.FromMinutes(30);
    }

    public int TorrentCount => _swarms.Count;

    public int PeerCount => _swarms.Values.Sum(s => s.Peers.Count);

    public void Announce(InfoHash infoHash, IPEndPoint peer, TimeSpan now)
    {
        peer = CompactNodeInfo.Normalise(peer);
        if (!_swarms.TryGetValue(infoHash, out var swarm))
        {
            if (_swarms.Count >= _maxTorrents)
            {
                Expire(now);
            }
            if (_swarms.Count >= _maxTorrents)
            {
                var oldest = _swarms.MinBy(s => s.Value.LastAnnounce).Key;
                _swarms.Remove(oldest);
            }
            swarm = new Swarm();
            _swarms[infoHash] = swarm;
        }
        swarm.LastAnnounce = now;
        if (!swarm.Peers.ContainsKey(peer) && swarm.Peers.Count >= _maxPeersPerTorrent)
        {
            swarm.Peers.Remove(swarm.Peers.MinBy(p => p.Value).Key);
        }
        swarm.Peers[peer] = now;
    }

    /// <summary>
    /// Up to <paramref name="max"/> live peers of the info-hash of one address family (<paramref name="ipv4"/> or IPv6),
    /// a random choice when there are more (so every announcer gets handed out).
    /// </summary>
    public IReadOnlyList<IPEndPoint> Peers(InfoHash infoHash, int max, bool ipv4, TimeSpan now, Random random)
    {
        if (!_swarms.TryGetValue(infoHash, out var swarm))
        {
            return [];
        }
        var live = swarm.Peers
            .Where(p => now - p.Value < _peerLifetime && CompactNodeInfo.IsIPv4(p.Key) == ipv4)
            .Select(p => p.Key)
            .ToArray();
        if (live.Length > max)
        {
            random.Shuffle(live);
        }
        return live.Take(Math.Max(0, max)).ToList();
    }

    /// <summary>Drops expired peers, and info-hashes left with none.</summary>
    public void Expire(TimeSpan now)
    {
        foreach (var (hash, swarm) in _swarms.ToList())
        {
            foreach (var stale in swarm.Peers.Where(p => now - p.Value >= _peerLifetime).Select(p => p.Key).ToList())
            {
                swarm.Peers.Remove(stale);
            }
            if (swarm.Peers.Count == 0)
            {
                _swarms.Remove(hash);
            }
        }
    }

    private sealed class Swarm
    {
        public Dictionary<IPEndPoint, TimeSpan> Peers { get; } = [];
        public TimeSpan LastAnnounce { get; set; }
    }
}
