using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Trackers;
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

    /// <summary>Peers from any source, named: a private torrent (BEP 27) takes only tracker, manual and
    /// incoming peers, and the session's address filter (loopback-only) applies to all.</summary>
    public sealed record PeersDiscovered(InfoHash InfoHash, IReadOnlyList<IPEndPoint> Peers, PeerSource Source) : ITorrentCommand;

    /// <summary>Stop cleanly: announce stopped, close peers, flush; reply <see cref="Stopped"/>.</summary>
    public sealed record Stop(InfoHash InfoHash) : ITorrentCommand;

    /// <summary>Fetch only these files, at these priorities (the scheduler and writer follow).</summary>
    public sealed record SetFiles(InfoHash InfoHash, FileSelection Files) : ITorrentCommand;

    /// <summary>The torrent's own rate limits, bytes per second (0 = none; null = unchanged). The session's
    /// limits apply on top.</summary>
    public sealed record SetLimits(InfoHash InfoHash, long? DownloadLimit, long? UploadLimit) : ITorrentCommand;

    /// <summary>While seeding, report <see cref="SeedRatioReached"/> at this ratio (null: never).</summary>
    public sealed record SetSeedRatio(InfoHash InfoHash, double? Ratio) : ITorrentCommand;

    /// <summary>The most connections this torrent keeps (RPC peer-limit); at least 1.</summary>
    public sealed record SetPeerLimit(InfoHash InfoHash, int Limit) : ITorrentCommand;

    /// <summary>Announce to the trackers now (Transmission's torrent-reannounce).</summary>
    public sealed record Reannounce(InfoHash InfoHash) : ITorrentCommand;

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
        int Peers)
    {
        public InfoHash InfoHash { get; init; }

        /// <summary>Bytes of the wanted pieces (all of them unless files are deselected) and how many are verified.</summary>
        public long WantedBytes { get; init; }

        public long WantedVerifiedBytes { get; init; }

        /// <summary>The verified pieces in wire order (a copy).</summary>
        public byte[] VerifiedBitfield { get; init; } = [];

        public IReadOnlyList<PeerSummary> PeerList { get; init; } = [];

        public IReadOnlyList<TrackerSummary> Trackers { get; init; } = [];
    }

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
    private readonly Dictionary<string, TrackerSummary> _trackers = new(StringComparer.Ordinal);
    private readonly Func<IPAddress, bool> _addressAllowed;
    private FileSelection _files;
    // One byte per piece (FileSelection.PiecePriorities): 0 = not wanted.
    private byte[] _piecePriorities;
    private long _wantedBytes;
    private long _wantedVerifiedBytes;
    private int _wantedMissing;
    private double? _seedRatio;
    private int _peerLimit;
    // The stall detector's memory: the downloaded total when it last moved, and since when it has not.
    private long _stallDownloaded;
    private TimeSpan _stallSince;
    private bool _stallLogged;
    private IActorRef _writer = ActorRefs.Nobody;
    private IActorRef _scheduler = ActorRefs.Nobody;
    private IActorRef? _tracker;
    private IActorRef? _stopRequester;
    private TorrentState _state = TorrentState.Checking;
    private long _verifiedBytes;
    private bool _completionReported;
    private bool _ratioReported;
    private bool _trackerStopped;
    private bool _writerStopped;

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
        _uploadLimit = new RateLimiter(_options.UploadLimit ?? context.Settings.Upload.RateLimit, context.Services?.UploadLimit);
        _downloadLimit = new RateLimiter(_options.DownloadLimit ?? context.Settings.Download.RateLimit, context.Services?.DownloadLimit);
        _addressAllowed = context.Services?.AddressFilter ?? (static _ => true);
        _seedRatio = _options.SeedRatio;
        _peerLimit = _options.PeerLimit ?? Math.Min(context.Settings.MaxPeersPerTorrent, context.Settings.MaxConnections);
        _files = _options.Files is { } files && files.FileCount == context.Metainfo.Files.Count
            ? files
            : FileSelection.All(context.Metainfo.Files.Count);
        _piecePriorities = _files.PiecePriorities(context.Metainfo);
        CountWanted();
        Checking();
    }

    // ---- Phases: each one's table lists what the torrent does in it ----

    /// <summary>The writer re-hashes what is on disk (or trusts its resume data); peers heard of are remembered,
    /// not dialled, and incoming ones are refused.</summary>
    private void Checking()
    {
        _state = TorrentState.Checking;
        Receive<FileWriterActor.CheckCompleted>(OnCheckCompleted);
        Receive<FileWriterActor.DiskFailed>(m => Fail(m.Reason));
        Receive<PeersDiscovered>(m => Remember(m.Peers, m.Source));
        Receive<ListenerActor.IncomingPeer>(m => Refuse(m, "the torrent is checking its data"));
        ReceiveOptions();
        Receive<Tick>(_ => Publish());
        Receive<Stop>(_ => BeginStop(Sender));
        Receive<Terminated>(OnTerminated);
    }

    /// <summary>Fetching the wanted pieces from peers, and serving others what we have.</summary>
    private void Downloading()
    {
        _state = TorrentState.Downloading;
        // The stall detector counts from here.
        _stallSince = Stopwatch.GetElapsedTime(0);
        _stallDownloaded = _meter.Downloaded;
        Transferring();
    }

    /// <summary>Everything wanted is here; serving peers until stopped (or the seed ratio is reported).</summary>
    private void Seeding()
    {
        _state = TorrentState.Seeding;
        Transferring();
    }

    private void Transferring()
    {
        Receive<PeersDiscovered>(m => OnPeersDiscovered(m.Peers, m.Source));
        Receive<TrackerActor.PeersFound>(m => OnPeersDiscovered(m.Peers, PeerSource.Tracker));
        Receive<TrackerActor.TrackerStatus>(OnTrackerStatus);
        Receive<ListenerActor.IncomingPeer>(OnIncomingPeer);
        Receive<PeerActor.Connected>(OnPeerConnected);
        Receive<PeerActor.TransferReport>(OnTransferReport);
        Receive<PeerActor.InterestChanged>(OnInterestChanged);
        Receive<PeerActor.BothSeeds>(m => _roster.Retire(m.EndPoint));
        Receive<PeerActor.Misbehaved>(m => Ban(Sender, m.EndPoint, m.Reason));
        ReceivePeerExchange();
        Receive<FileWriterActor.PieceVerified>(OnPieceVerified);
        Receive<FileWriterActor.PieceFailed>(OnPieceFailed);
        Receive<FileWriterActor.DiskFailed>(m => Fail(m.Reason));
        ReceiveOptions();
        Receive<Reannounce>(_ => AnnounceToTracker(AnnounceEvent.None));
        Receive<Tick>(_ => OnTick());
        Receive<Rechoke>(_ => OnRechoke());
        Receive<ReportCompletion>(_ => OnReportCompletion());
        Receive<Stop>(_ => BeginStop(Sender));
        Receive<Terminated>(OnTerminated);
    }

    /// <summary>Complete and not seeding: the peers are closing, and the observer hears <see cref="Completed"/>
    /// once the last one has sent its final transfer report. Wanting more files resumes downloading.</summary>
    private void Finished()
    {
        _state = TorrentState.Completed;
        Receive<PeersDiscovered>(m => Remember(m.Peers, m.Source));
        Receive<TrackerActor.PeersFound>(m => Remember(m.Peers, PeerSource.Tracker));
        Receive<TrackerActor.TrackerStatus>(OnTrackerStatus);
        Receive<ListenerActor.IncomingPeer>(m => Refuse(m, "the torrent is complete and not seeding"));
        Receive<PeerActor.TransferReport>(OnTransferReport);
        Receive<FileWriterActor.DiskFailed>(m => Fail(m.Reason));
        ReceiveOptions();
        Receive<Reannounce>(_ => AnnounceToTracker(AnnounceEvent.None));
        Receive<Tick>(_ => OnQuietTick());
        Receive<ReportCompletion>(_ => OnReportCompletion());
        Receive<Stop>(_ => BeginStop(Sender));
        Receive<Terminated>(OnTerminated);
    }

    /// <summary>Peers closing, the tracker told <c>stopped</c>, the writer saving its resume data; then the reply
    /// to whoever asked, and the coordinator stops.</summary>
    private void Stopping()
    {
        _state = TorrentState.Stopping;
        Receive<PeerActor.TransferReport>(OnTransferReport);
        Receive<TrackerActor.StoppedAnnounced>(_ =>
        {
            _trackerStopped = true;
            FinishStop();
        });
        Receive<StopTimedOut>(_ => FinishStop(force: true));
        Receive<Stop>(_ => _stopRequester = Sender);
        Receive<ListenerActor.IncomingPeer>(m => Refuse(m, "the torrent is stopping"));
        Receive<Terminated>(OnTerminated);
    }

    /// <summary>Failed: the torrent cannot go on, the observer was told why; only a stop is still answered.</summary>
    private void Halted()
    {
        _state = TorrentState.Failed;
        Receive<PeerActor.TransferReport>(OnTransferReport);
        Receive<ListenerActor.IncomingPeer>(m => Refuse(m, "the torrent failed"));
        Receive<Tick>(_ => Publish());
        Receive<Stop>(_ => BeginStop(Sender));
        Receive<Terminated>(OnTerminated);
    }

    /// <summary>What a front-end may change in any running phase.</summary>
    private void ReceiveOptions()
    {
        Receive<SetFiles>(m => OnSetFiles(m.Files));
        Receive<SetLimits>(OnSetLimits);
        Receive<SetPeerLimit>(m =>
        {
            _peerLimit = Math.Max(1, m.Limit);
            ConnectMoreIfTransferring();
        });
        Receive<SetSeedRatio>(m =>
        {
            _seedRatio = m.Ratio;
            _ratioReported = false;
            CheckSeedRatio();
        });
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
        if (!_files.AllWanted)
        {
            // Before the check, so the writer creates no unwanted file.
            _writer.Tell(new FileWriterActor.SetWantedFiles(_files.Wanted));
            _scheduler.Tell(new PieceSchedulerActor.SetPiecePriorities(_piecePriorities));
        }
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
        var tier = 0;
        for (var i = 0; i < _context.Metainfo.AnnounceTiers.Count; i++)
        {
            if (_context.Metainfo.AnnounceTiers[i].Contains(status.Tracker))
            {
                tier = i;
                break;
            }
        }
        var previous = _trackers.GetValueOrDefault(status.Tracker);
        _trackers[status.Tracker] = new TrackerSummary(status.Tracker, tier, status.Ok, status.Message,
            DateTimeOffset.UtcNow, status.Ok ? _lastTrackerPeers : previous?.LastAnnouncePeerCount ?? 0, null);
    }

    private int _lastTrackerPeers;

    private void Publish() => _observer.Tell(new Progress(_state, _verified.Count, _context.PieceCount,
        _verifiedBytes, _context.Metainfo.TotalLength, _meter.DownloadRate, _meter.UploadRate,
        _meter.Downloaded, _meter.Uploaded, _peers.Count)
    {
        InfoHash = _context.InfoHash,
        WantedBytes = _wantedBytes,
        WantedVerifiedBytes = _wantedVerifiedBytes,
        VerifiedBitfield = _verified.AsSpan().ToArray(),
        // Arrays, not collection expressions: a compiler-made list type does not survive serialisation.
        PeerList = _peers.Values.Select(Summarize).ToArray(),
        Trackers = _trackers.Values.ToArray(),
    });

    private static PeerSummary Summarize(PeerEntry peer) => new(
        peer.EndPoint.Address.ToString(), peer.EndPoint.Port,
        peer.Id is { } id ? id.ClientName ?? "" : "",
        peer.Incoming,
        // The coordinator sees rates, not the peer's choke flags: a peer that sends is not choking us.
        PeerChoking: peer.DownloadRate == 0,
        PeerInterested: peer.Interested,
        AmChoking: !peer.Unchoked,
        AmInterested: peer.DownloadRate > 0,
        peer.DownloadRate, peer.UploadRate, Progress: 0);

    /// <summary>Recounts the wanted pieces against the verified ones (after a check or a file selection change).</summary>
    private void CountWanted()
    {
        _wantedBytes = 0;
        _wantedVerifiedBytes = 0;
        _wantedMissing = 0;
        for (var piece = 0; piece < _piecePriorities.Length; piece++)
        {
            if (_piecePriorities[piece] == 0)
            {
                continue;
            }
            var size = _context.Metainfo.GetPieceSize(piece);
            _wantedBytes += size;
            if (_verified.Get(piece))
            {
                _wantedVerifiedBytes += size;
            }
            else
            {
                _wantedMissing++;
            }
        }
    }

    private bool WantedComplete => _wantedMissing == 0;

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

        /// <summary>Stopped to make room for a newcomer; no longer counted against the limit.</summary>
        public bool Leaving { get; set; }
    }
}

/// <summary>How a torrent runs beyond its context.</summary>
/// <param name="Seed">Keep seeding after completion (state Seeding) instead of closing every connection.</param>
/// <param name="SeedRatio">While seeding, tell the observer once uploaded / total reaches this.</param>
/// <param name="Listener">The process's <see cref="ListenerActor"/>; null: no incoming connections.</param>
/// <param name="Files">Which files to fetch; null: all.</param>
/// <param name="DownloadLimit">The torrent's own download limit (bytes/s, 0 none); null: the settings'.</param>
/// <param name="UploadLimit">The torrent's own upload limit (bytes/s, 0 none); null: the settings'.</param>
/// <param name="CheckOnly">Check the data, report it, then stop (a verify of a paused torrent).</param>
/// <param name="PeerLimit">The most connections the torrent keeps; null: the settings'.</param>
public sealed record CoordinatorOptions(
    bool Seed = false,
    double? SeedRatio = null,
    IActorRef? Listener = null,
    FileSelection? Files = null,
    long? DownloadLimit = null,
    long? UploadLimit = null,
    bool CheckOnly = false,
    int? PeerLimit = null)
{
    public static readonly CoordinatorOptions Default = new();
}
