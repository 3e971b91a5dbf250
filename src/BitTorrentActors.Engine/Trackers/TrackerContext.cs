using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Trackers;

/// <summary>
/// What the tracker actor needs of a torrent: which hash to announce, where, who we are, and the <c>left</c> to
/// report until the owner says otherwise. A torrent with its metainfo
/// (<see cref="Torrent.TorrentContext.ForTracker"/>) and a magnet still fetching it
/// (<see cref="Metadata.MagnetContext.ForTracker"/>) both make one.
/// </summary>
/// <param name="InitialLeft">Reported as <c>left</c> until an <see cref="TrackerActor.UpdateTransfer"/>: the whole
/// length for a torrent, a non-zero stand-in for a magnet (0 would make trackers take us for a seed).</param>
public sealed record TrackerContext(
    InfoHash InfoHash,
    IReadOnlyList<IReadOnlyList<string>> AnnounceTiers,
    long InitialLeft,
    PeerId LocalPeerId,
    int ListenPort,
    BtaSettings Settings)
{
    /// <summary>The session's shared services; null outside a session, where the transport must be given.</summary>
    public Session.SessionServices? Services { get; init; }
}
