using System.Net;
using Akka.Actor;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Trackers;

/// <summary>
/// Announces to the torrent's trackers: <c>started</c>, then on the tracker's interval (never sooner than its
/// min interval), <c>completed</c> when done, <c>stopped</c> on shutdown. New peers go to the coordinator. A
/// failing tracker is retried with exponential backoff and never stops the download.
/// </summary>
public sealed partial class TrackerActor : ReceiveActor
{
    /// <summary>From the coordinator: the transfer totals the next announce reports.</summary>
    public sealed record UpdateTransfer(long Uploaded, long Downloaded, long Left);

    /// <summary>From the coordinator: announce this event now (Completed).</summary>
    public sealed record AnnounceNow(AnnounceEvent Event);

    /// <summary>From the coordinator on shutdown: announce <c>stopped</c> (bounded by the tracker timeout) and
    /// reply <see cref="StoppedAnnounced"/>.</summary>
    public sealed record AnnounceStopped
    {
        public static readonly AnnounceStopped Instance = new();
    }

    public sealed record StoppedAnnounced
    {
        public static readonly StoppedAnnounced Instance = new();
    }

    /// <summary>To the coordinator: peers a tracker returned.</summary>
    public sealed record PeersFound(IReadOnlyList<IPEndPoint> Peers, string Tracker);

    /// <summary>To the coordinator: a tracker's answer or failure, for the console and the log.</summary>
    public sealed record TrackerStatus(string Tracker, bool Ok, string Message, int? Seeders, int? Leechers);

    // Internal: the actor's own timers and piped announce results.
    private sealed record AnnounceTick
    {
        public static readonly AnnounceTick Instance = new();
    }

    private sealed record StopDeadline
    {
        public static readonly StopDeadline Instance = new();
    }

    private sealed record AnnounceDone(long Attempt, string Url, AnnounceEvent Event, AnnounceResult Outcome) : INoSerializationVerificationNeeded;
}
