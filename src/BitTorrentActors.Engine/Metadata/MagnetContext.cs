using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Protocol.Extensions;
using BitTorrentActors.Protocol.Magnet;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Metadata;

/// <summary>What a torrent known only by its magnet needs while it fetches its metadata (BEP 9): the link (hash,
/// trackers, peers), who we are and the session's services. The <see cref="Torrent.TorrentContext"/> takes over
/// once the info dictionary is here.</summary>
/// <param name="ListenPort">The port we announce and accept on.</param>
public sealed record MagnetContext(MagnetLink Link, PeerId LocalPeerId, BtaSettings Settings, int ListenPort)
{
    /// <summary>The session's shared services; null outside a session (tests give a tracker transport).</summary>
    public Session.SessionServices? Services { get; init; }

    /// <summary>The process's listener: the fetcher registers for the info-hash, so peers that connect to us for
    /// the magnet while it fetches are used too (libtorrent takes them); null: no incoming connections.</summary>
    public Akka.Actor.IActorRef? Listener { get; init; }

    public InfoHash InfoHash => Link.InfoHash;

    /// <summary>The link's trackers, one tier each, in the order given (as libtorrent adds a magnet's).</summary>
    public IReadOnlyList<IReadOnlyList<string>> TrackerTiers => [.. Link.Trackers.Select(t => (IReadOnlyList<string>)[t])];

    /// <summary>
    /// Announces while the size is unknown report a <c>left</c> of one metadata piece, as libtorrent does: a
    /// <c>left</c> of 0 says "seed", and a tracker then may send no seeds, the very peers a magnet needs.
    /// </summary>
    public Trackers.TrackerContext ForTracker() =>
        new(InfoHash, TrackerTiers, MetadataMessage.PieceSize, LocalPeerId, ListenPort, Settings) { Services = Services };
}
