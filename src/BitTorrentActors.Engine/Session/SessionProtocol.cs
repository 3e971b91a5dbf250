using System.Net;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Session;

/// <summary>A message about one torrent: the info-hash is its routing key, here to the session's child and later
/// to a cluster shard region through the same extractor (<see cref="TorrentMessageExtractor"/>).</summary>
public interface ITorrentCommand
{
    InfoHash InfoHash { get; }
}

/// <summary>Where a peer address was learned. Private torrents (BEP 27) accept only <see cref="Tracker"/>,
/// <see cref="Manual"/> and <see cref="Incoming"/> peers: the one place that rule lives is the coordinator.</summary>
public enum PeerSource
{
    Tracker,
    Manual,
    Incoming,
    Dht,
    Pex,
    Lsd,
}

/// <summary>What a torrent is doing, as the session and every front-end see it (Transmission's status codes map
/// onto these one to one: see <see cref="TorrentActivityExtensions.TransmissionStatus"/>).</summary>
public enum TorrentActivity
{
    /// <summary>Paused by the user (Transmission's "stopped").</summary>
    Stopped,
    QueuedToCheck,
    Checking,
    QueuedToDownload,
    Downloading,
    QueuedToSeed,
    Seeding,
    /// <summary>Every wanted piece is verified and the torrent is not seeding (seed ratio reached, or seeding off).</summary>
    Finished,
    /// <summary>The torrent cannot go on; <see cref="TorrentStatus.Error"/> says why. Start retries it.</summary>
    Failed,
    /// <summary>Added from a magnet, fetching its metadata from peers (BEP 9); Transmission shows this as
    /// downloading with <c>metadataPercentComplete</c> below 1.</summary>
    FetchingMetadata,
}

public static class TorrentActivityExtensions
{
    /// <summary>Transmission RPC's <c>status</c>: 0 stopped, 1 queued to check, 2 checking, 3 queued to download,
    /// 4 downloading, 5 queued to seed, 6 seeding.</summary>
    public static int TransmissionStatus(this TorrentActivity activity) => activity switch
    {
        TorrentActivity.QueuedToCheck => 1,
        TorrentActivity.Checking => 2,
        TorrentActivity.QueuedToDownload => 3,
        TorrentActivity.Downloading or TorrentActivity.FetchingMetadata => 4,
        TorrentActivity.QueuedToSeed => 5,
        TorrentActivity.Seeding => 6,
        _ => 0,
    };

    public static bool IsRunning(this TorrentActivity activity) =>
        activity is TorrentActivity.Checking or TorrentActivity.Downloading or TorrentActivity.Seeding
            or TorrentActivity.FetchingMetadata;
}

/// <summary>How a torrent is added; every field but the metainfo is optional.</summary>
/// <param name="DownloadDirectory">Null: the session's download folder.</param>
/// <param name="Paused">Added stopped (Transmission's <c>paused</c>).</param>
/// <param name="Seed">Keep seeding after completion (the daemon's default); false: finish and close peers.</param>
/// <param name="SeedRatio">Stop seeding at uploaded / size; null: the session's limit (none by default).</param>
/// <param name="Peers">Peers to dial besides the trackers' (source <see cref="PeerSource.Manual"/>).</param>
/// <param name="Files">Which files to fetch and at what priority; null: all, normal.</param>
/// <param name="SkipQueue">Start at once even when the queue is full (the CLI's own torrent, torrent-start-now).</param>
public sealed record AddTorrentOptions(
    string? DownloadDirectory = null,
    bool Paused = false,
    bool Seed = true,
    double? SeedRatio = null,
    IReadOnlyList<IPEndPoint>? Peers = null,
    FileSelection? Files = null,
    bool SkipQueue = false)
{
    public static readonly AddTorrentOptions Default = new();
}

/// <summary>A change to one torrent's options; null fields stay as they are.</summary>
/// <param name="DownloadLimit">Bytes per second, 0 = unlimited.</param>
/// <param name="UploadLimit">Bytes per second, 0 = unlimited.</param>
/// <param name="SeedRatio">A ratio, or <see cref="double.NaN"/> to clear the torrent's own limit.</param>
public sealed record TorrentOptionsUpdate(
    FileSelection? Files = null,
    long? DownloadLimit = null,
    long? UploadLimit = null,
    double? SeedRatio = null,
    int? PeerLimit = null);

/// <summary>A change to the session's settings; null fields stay as they are.</summary>
public sealed record SessionSettingsUpdate(
    string? DownloadDirectory = null,
    long? DownloadLimit = null,
    long? UploadLimit = null,
    int? MaxActiveDownloads = null,
    int? MaxActiveSeeds = null,
    bool? QueueEnabled = null,
    int? PeerLimitGlobal = null,
    int? PeerLimitPerTorrent = null,
    double? SeedRatioLimit = null,
    bool? SeedRatioLimited = null);

/// <summary>One connected peer as a front-end lists it.</summary>
public sealed record PeerSummary(
    string Address,
    int Port,
    string Client,
    bool Incoming,
    bool PeerChoking,
    bool PeerInterested,
    bool AmChoking,
    bool AmInterested,
    long DownloadRate,
    long UploadRate,
    double Progress);

/// <summary>One tracker as a front-end lists it.</summary>
public sealed record TrackerSummary(
    string Url,
    int Tier,
    bool LastAnnounceSucceeded,
    string LastAnnounceResult,
    DateTimeOffset? LastAnnounceTime,
    int LastAnnouncePeerCount,
    DateTimeOffset? NextAnnounceTime);

/// <summary>One file of a torrent with how much of it is verified.</summary>
public sealed record FileStatus(string Path, long Length, long BytesCompleted, bool Wanted, FilePriority Priority);

/// <summary>A snapshot of one torrent, from the session's cache (the coordinator reports every progress interval
/// and on every state change). Only serialisable data.</summary>
public sealed record TorrentStatus(
    InfoHash InfoHash,
    int Id,
    string Name,
    string DownloadDirectory,
    TorrentActivity Activity,
    string? Error,
    long TotalSize,
    int PieceCount,
    int PieceSize,
    int VerifiedPieces,
    long VerifiedBytes,
    long WantedBytes,
    long WantedVerifiedBytes,
    long DownloadRate,
    long UploadRate,
    long DownloadedEver,
    long UploadedEver,
    int ConnectedPeers,
    int PeersSendingToUs,
    int PeersGettingFromUs,
    int QueuePosition,
    DateTimeOffset AddedAt,
    DateTimeOffset? DoneAt,
    DateTimeOffset? ActivityAt,
    bool IsPrivate,
    long DownloadLimit,
    long UploadLimit,
    double? SeedRatio)
{
    /// <summary>0..1 of a magnet's metadata fetched (Transmission's metadataPercentComplete); 1 once the torrent
    /// has its metainfo. Below 1 the sizes, pieces and files are unknown (0).</summary>
    public double MetadataPercentComplete { get; init; } = 1;

    /// <summary>While fetching metadata: the connected peers whose extension handshake offers it.</summary>
    public int MetadataPeersOffering { get; init; }

    public bool HasMetadata => MetadataPercentComplete >= 1;

    /// <summary>Cluster mode: the node hosting the torrent (its cluster hostname:port, the RPC's bta-node); null
    /// for a single-node daemon.</summary>
    public string? Node { get; init; }

    /// <summary>Bytes of wanted pieces still missing (Transmission's leftUntilDone).</summary>
    public long LeftUntilDone => Math.Max(0, WantedBytes - WantedVerifiedBytes);

    /// <summary>0..1 of the wanted bytes (Transmission's percentDone; 0 while the metadata is missing).</summary>
    public double PercentDone => !HasMetadata ? 0 : WantedBytes == 0 ? 1 : WantedVerifiedBytes / (double)WantedBytes;

    /// <summary>Every wanted piece verified (Transmission's isFinished means stopped after that; see Activity).</summary>
    public bool IsComplete => HasMetadata && WantedVerifiedBytes >= WantedBytes;
}

/// <summary>A torrent in full: its status, files, peers, trackers and verified pieces.</summary>
public sealed record TorrentDetails(
    TorrentStatus Status,
    IReadOnlyList<FileStatus> Files,
    IReadOnlyList<PeerSummary> Peers,
    IReadOnlyList<TrackerSummary> Trackers,
    byte[] VerifiedPieces,
    string? Comment,
    string? Creator,
    DateTimeOffset? DateCreated,
    string MagnetLink);

/// <summary>The session's settings as they are now.</summary>
public sealed record SessionSettingsSnapshot(
    string DownloadDirectory,
    long DownloadLimit,
    long UploadLimit,
    int MaxActiveDownloads,
    int MaxActiveSeeds,
    bool QueueEnabled,
    int PeerLimitGlobal,
    int PeerLimitPerTorrent,
    int ListenPort,
    double SeedRatioLimit,
    bool SeedRatioLimited)
{
    /// <summary>The session runs a DHT node (bta.dht.enabled): session-get's dht-enabled.</summary>
    public bool DhtEnabled { get; init; }

    /// <summary>Local service discovery is on (bta.lsd.enabled): session-get's lpd-enabled.</summary>
    public bool LsdEnabled { get; init; }
}

/// <summary>Totals since the session started and over all sessions (Transmission's session-stats).</summary>
public sealed record SessionStats(
    int TorrentCount,
    int ActiveTorrentCount,
    int PausedTorrentCount,
    long DownloadRate,
    long UploadRate,
    long DownloadedThisSession,
    long UploadedThisSession,
    long DownloadedEver,
    long UploadedEver,
    TimeSpan Uptime);
