using System.Net;
using Akka.Actor;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>
/// One per torrent: owns the lifecycle (checking -> downloading -> complete/seeding, or error), spawns and
/// supervises the tracker, scheduler, writer and one PeerActor per connection, and publishes progress to the
/// observer given at creation (the console).
/// </summary>
public sealed partial class TorrentCoordinator : ReceiveActor
{
    public enum TorrentState
    {
        Checking,
        Downloading,
        Seeding,
        Completed,
        Stopping,
        Failed,
    }

    /// <summary>Peers from any source (tracker, command line, tests).</summary>
    public sealed record AddPeers(IReadOnlyList<IPEndPoint> Peers);

    /// <summary>Stop cleanly: announce stopped, close peers, flush; reply <see cref="Stopped"/>.</summary>
    public sealed record Stop
    {
        public static readonly Stop Instance = new();
    }

    public sealed record Stopped
    {
        public static readonly Stopped Instance = new();
    }

    /// <summary>To the observer every progress interval and on every state change.</summary>
    public sealed record Progress(
        TorrentState State,
        int VerifiedPieces,
        int PieceCount,
        long VerifiedBytes,
        long TotalBytes,
        long DownloadRate,
        long UploadRate,
        long Downloaded,
        long Uploaded,
        int Peers);

    /// <summary>To the observer: every piece verified and the files complete.</summary>
    public sealed record Completed(long TotalBytes, TimeSpan Elapsed);

    /// <summary>To the observer: the torrent cannot go on (disk error, ...), with one clear line.</summary>
    public sealed record Failed(string Reason);
}
