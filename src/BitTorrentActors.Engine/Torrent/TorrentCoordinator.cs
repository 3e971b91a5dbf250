using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>
/// One per torrent: owns the lifecycle (checking -> downloading -> complete or seeding, or failed), spawns and
/// supervises the tracker, scheduler, writer and one PeerActor per connection (dialled or accepted), runs the
/// choker, and publishes progress to the observer given at creation (the console).
/// </summary>
public sealed partial class TorrentCoordinator : ReceiveActor, IWithTimers
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

    /// <summary>The reply to <see cref="Stop"/>, with the session's final transfer totals (every peer's last
    /// report counted).</summary>
    public sealed record Stopped(long Uploaded, long Downloaded);

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

    /// <summary>To the observer once the existing data is checked: how many pieces are already verified.</summary>
    public sealed record Checked(int VerifiedPieces, int PieceCount);

    /// <summary>To the observer: every piece verified and the files complete (when seeding, seeding goes on).</summary>
    public sealed record Completed(long TotalBytes, long Downloaded, TimeSpan Elapsed);

    /// <summary>To the observer while seeding: uploaded / total reached the requested seed ratio.</summary>
    public sealed record SeedRatioReached(long Uploaded, double Ratio);

    /// <summary>To the observer: the torrent cannot go on (disk error, ...), with one clear line.</summary>
    public sealed record Failed(string Reason);

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Rechoke
    {
        public static readonly Rechoke Instance = new();
    }

    private sealed record StopTimedOut
    {
        public static readonly StopTimedOut Instance = new();
    }

    /// <summary>Sent to self once every peer has stopped, so their last transfer reports (sent as they stop)
    /// are counted before the observer hears the totals.</summary>
    private sealed record ReportCompletion
    {
        public static readonly ReportCompletion Instance = new();
    }

    /// <summary>Failed pieces a peer may have contributed to before it is banned (it is banned at once when it
    /// alone supplied a bad piece).</summary>
    private const int MaxHashFailuresPerPeer = 3;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TorrentContext _context;
    private readonly IActorRef _observer;
    private readonly TorrentParts _parts;
    private readonly CoordinatorOptions _options;
    private readonly PeerRoster _roster;
    private readonly TransferMeter _meter = new();
    private readonly Bitfield _verified;
    private readonly Dictionary<IActorRef, PeerEntry> _peers = [];
    private readonly Dictionary<IPEndPoint, int> _hashFailures = [];
    // Peers banned this session, by actor: their blocks outlive them in pieces other peers finish (see OnPieceFailed).
    private readonly HashSet<IActorRef> _bannedPeers = [];
    private readonly HashSet<PeerId> _bannedIds = [];
    private readonly Choker<IActorRef> _choker;
    private readonly RateLimiter _uploadLimit;
    private readonly RateLimiter _downloadLimit;
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private IActorRef _writer = ActorRefs.Nobody;
    private IActorRef _scheduler = ActorRefs.Nobody;
    private IActorRef? _tracker;
    private IActorRef? _stopRequester;
    private TorrentState _state = TorrentState.Checking;
    private long _verifiedBytes;
    private bool _completionReported;
    private bool _ratioReported;
    private bool _trackerStopped;

    public TorrentCoordinator(TorrentContext context, IActorRef observer, TorrentParts parts, CoordinatorOptions? options = null)
    {
        _context = context;
        _observer = observer;
        _parts = parts;
        _options = options ?? CoordinatorOptions.Default;
        _verified = new Bitfield(context.PieceCount);
        var local = PeerRoster.LocalAddresses();
        _roster = new PeerRoster(context.Settings.PeerRetry,
            peer => peer.Port == context.ListenPort && local.Contains(peer.Address));
        _choker = new Choker<IActorRef>(context.Settings.Upload.UnchokeSlots);
        _uploadLimit = new RateLimiter(context.Settings.Upload.RateLimit);
        _downloadLimit = new RateLimiter(context.Settings.Download.RateLimit);

        Receive<FileWriterActor.CheckCompleted>(OnCheckCompleted);
        Receive<AddPeers>(m => OnPeersFound(m.Peers, "added"));
        Receive<TrackerActor.PeersFound>(m => OnPeersFound(m.Peers, m.Tracker));
        Receive<TrackerActor.TrackerStatus>(OnTrackerStatus);
        Receive<ListenerActor.IncomingPeer>(OnIncomingPeer);
        Receive<PeerActor.Connected>(OnPeerConnected);
        Receive<PeerActor.TransferReport>(OnTransferReport);
        Receive<PeerActor.InterestChanged>(OnInterestChanged);
        Receive<PeerActor.BothSeeds>(m => _roster.Retire(m.EndPoint));
        Receive<PeerActor.Misbehaved>(m => Ban(Sender, m.EndPoint, m.Reason));
        Receive<FileWriterActor.PieceVerified>(OnPieceVerified);
        Receive<FileWriterActor.PieceFailed>(OnPieceFailed);
        Receive<FileWriterActor.DiskFailed>(m => Fail(m.Reason));
        Receive<Terminated>(OnTerminated);
        Receive<Tick>(_ => OnTick());
        Receive<Rechoke>(_ => OnRechoke());
        Receive<Stop>(_ => BeginStop(Sender));
        Receive<TrackerActor.StoppedAnnounced>(_ =>
        {
            _trackerStopped = true;
            FinishStop();
        });
        Receive<StopTimedOut>(_ => FinishStop(force: true));
        Receive<ReportCompletion>(_ => OnReportCompletion());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TorrentContext context, IActorRef observer, TorrentParts parts, CoordinatorOptions? options = null) =>
        Akka.Actor.Props.Create(() => new TorrentCoordinator(context, observer, parts, options));

    /// <summary>A peer that throws is stopped (its blocks return to the pool when the scheduler sees it go);
    /// the tracker sits under its own backoff supervisor; anything else failing ends the torrent visibly.</summary>
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(exception =>
        {
            _log.Warning("A child of torrent {Name} failed: {Error}", _context.Metainfo.Name, exception.Message);
            return Directive.Stop;
        });

    protected override void PreStart()
    {
        _writer = Context.Watch(Context.ActorOf(_parts.Writer(_context, Self), "writer"));
        _scheduler = Context.Watch(Context.ActorOf(_parts.Scheduler(_context), "scheduler"));
        _writer.Tell(FileWriterActor.CheckExistingData.Instance);
        _log.Info("Checking existing data of {Name} ({Size} bytes, {Pieces} pieces)",
            _context.Metainfo.Name, _context.Metainfo.TotalLength, _context.PieceCount);
        Timers.StartPeriodicTimer("tick", Tick.Instance, _context.Settings.ProgressInterval);
        Timers.StartPeriodicTimer("rechoke", Rechoke.Instance, _context.Settings.Upload.RechokeInterval);
        _options.Listener?.Tell(new ListenerActor.RegisterTorrent(_context.InfoHash, Self));
    }

    private void OnTrackerStatus(TrackerActor.TrackerStatus status)
    {
        // The tracker actor already logs each failure once; the coordinator only keeps the detail.
        _log.Debug("Tracker {Tracker} ok={Ok}: {Message}", status.Tracker, status.Ok, status.Message);
    }

    private void Publish() => _observer.Tell(new Progress(_state, _verified.Count, _context.PieceCount,
        _verifiedBytes, _context.Metainfo.TotalLength, _meter.DownloadRate, _meter.UploadRate,
        _meter.Downloaded, _meter.Uploaded, _peers.Count));

    /// <summary>What the coordinator knows of one connection (dialled or accepted).</summary>
    private sealed class PeerEntry(IPEndPoint endPoint, bool incoming, TimeSpan since)
    {
        public IPEndPoint EndPoint { get; } = endPoint;

        public bool Incoming { get; } = incoming;

        public TimeSpan Since { get; } = since;

        /// <summary>Null until the handshake is done.</summary>
        public PeerId? Id { get; set; }

        public bool Interested { get; set; }

        public bool Unchoked { get; set; }

        public long DownloadRate { get; set; }

        public long UploadRate { get; set; }
    }
}

/// <summary>How a torrent runs beyond its context.</summary>
/// <param name="Seed">Keep seeding after completion (state Seeding) instead of closing every connection.</param>
/// <param name="SeedRatio">While seeding, tell the observer once uploaded / total reaches this.</param>
/// <param name="Listener">The process's <see cref="ListenerActor"/>; null: no incoming connections.</param>
public sealed record CoordinatorOptions(bool Seed = false, double? SeedRatio = null, IActorRef? Listener = null)
{
    public static readonly CoordinatorOptions Default = new();
}
