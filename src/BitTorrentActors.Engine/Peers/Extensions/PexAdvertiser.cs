using System.Net;
using BitTorrentActors.Protocol.Extensions;

namespace BitTorrentActors.Engine.Peers.Extensions;

/// <summary>
/// BEP 11, sending side, for the whole torrent (owned by the coordinator, which knows every connection): what each
/// peer was last told, and the added/dropped difference it is due next. The first message carries up to
/// <see cref="MaxFirstAdded"/> peers, every later one at most <see cref="PexMessage.MaxPeersPerMessage"/> added and
/// as many dropped, as libtorrent sends them (it cuts off a peer that sends more). Pure: the caller decides when
/// (at most once a minute) and to whom.
/// </summary>
/// <typeparam name="TKey">How the caller names a connection (its actor).</typeparam>
internal sealed class PexAdvertiser<TKey>
    where TKey : notnull
{
    /// <summary>libtorrent's first message to a peer may list up to 100 added peers; BEP 11 bounds the later ones.</summary>
    public const int MaxFirstAdded = 100;

    private readonly Dictionary<TKey, HashSet<IPEndPoint>> _told = [];

    /// <summary>
    /// The message due to <paramref name="peer"/> given the advertisable peers now (<paramref name="current"/>:
    /// listen addresses and flags), never including <paramref name="self"/> (the peer's own listen address), or
    /// null when nothing changed since what it was last told. The book is updated as if the message was sent.
    /// </summary>
    public PexMessage? Next(TKey peer, IPEndPoint? self, IReadOnlyDictionary<IPEndPoint, PexFlags> current)
    {
        ArgumentNullException.ThrowIfNull(current);
        var first = !_told.TryGetValue(peer, out var told);
        told ??= [];
        var added = current
            .Where(p => !p.Key.Equals(self) && !told.Contains(p.Key))
            .Take(first ? MaxFirstAdded : PexMessage.MaxPeersPerMessage)
            .Select(p => new PexPeer(p.Key, p.Value))
            .ToArray();
        var dropped = told
            .Where(p => !current.ContainsKey(p))
            .Take(PexMessage.MaxPeersPerMessage)
            .ToArray();
        if (added.Length == 0 && dropped.Length == 0)
        {
            return null;
        }

        foreach (var p in added)
        {
            told.Add(p.EndPoint);
        }

        foreach (var p in dropped)
        {
            told.Remove(p);
        }

        _told[peer] = told;
        return new PexMessage(added, dropped);
    }

    /// <summary>The connection ended: a new one to the same peer starts afresh.</summary>
    public void Forget(TKey peer) => _told.Remove(peer);
}
