using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>What every actor of one torrent needs to know, fixed for the torrent's lifetime.</summary>
/// <param name="DownloadDirectory">The folder the user named; the torrent's files land under it as
/// <c>TorrentFile.Path</c> says (a multi-file torrent inside its name folder).</param>
/// <param name="ListenPort">The port we announce and accept on (the settings' port unless overridden).</param>
public sealed record TorrentContext(
    TorrentMetainfo Metainfo,
    PeerId LocalPeerId,
    string DownloadDirectory,
    BtaSettings Settings,
    int ListenPort)
{
    /// <summary>The session's shared services (tracker transports, session-wide limits); null outside a session,
    /// where every tracker transport must be given explicitly.</summary>
    public Session.SessionServices? Services { get; init; }

    /// <summary>The session's DHT node as the peer wire sees it (BEP 5); null when the DHT is off or the torrent
    /// is private (BEP 27), so its peers see no DHT bit and get no PORT message.</summary>
    public Dht.DhtWire? Dht { get; init; }

    public InfoHash InfoHash => Metainfo.InfoHash;

    public int PieceCount => Metainfo.PieceCount;

    /// <summary>What the tracker actor announces: the metainfo's trackers, its whole length as <c>left</c>.</summary>
    public Trackers.TrackerContext ForTracker() =>
        new(InfoHash, Metainfo.AnnounceTiers, Metainfo.TotalLength, LocalPeerId, ListenPort, Settings) { Services = Services };
}
