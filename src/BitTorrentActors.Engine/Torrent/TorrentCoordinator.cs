using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Trackers;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>
/// One per torrent: owns the lifecycle (checking -> downloading -> complete/seeding, or failed), spawns and
/// supervises the tracker, scheduler, writer and one PeerActor per connection, and publishes progress to the
/// observer given at creation (the console).
/// </summary>
public sealed class TorrentCoordinator : ReceiveActor, IWithTimers
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
    public sealed record Completed(long TotalBytes, long Downloaded, TimeSpan Elapsed);

    /// <summary>To the observer: the torrent cannot go on (disk error, ...), with one clear line.</summary>
    public sealed record Failed(string Reason);

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
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
    private readonly PeerRoster _roster;
    private readonly TransferMeter _meter = new();
    private readonly Bitfield _verified;
    private readonly Dictionary<IActorRef, IPEndPoint> _peers = [];
    private readonly Dictionary<IPEndPoint, int> _hashFailures = [];
    // Peers banned this session, by actor: their blocks outlive them in pieces other peers finish (see OnPieceFailed).
    private readonly HashSet<IActorRef> _bannedPeers = [];
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private IActorRef _writer = ActorRefs.Nobody;
    private IActorRef _scheduler = ActorRefs.Nobody;
    private IActorRef? _tracker;
    private IActorRef? _stopRequester;
    private TorrentState _state = TorrentState.Checking;
    private long _verifiedBytes;
    private bool _completionReported;

    public TorrentCoordinator(TorrentContext context, IActorRef observer, TorrentParts parts)
    {
        _context = context;
        _observer = observer;
        _parts = parts;
        _verified = new Bitfield(context.PieceCount);
        var local = PeerRoster.LocalAddresses();
        _roster = new PeerRoster(context.Settings.PeerRetry,
            peer => peer.Port == context.ListenPort && local.Contains(peer.Address));

        Receive<FileWriterActor.CheckCompleted>(OnCheckCompleted);
        Receive<AddPeers>(m => OnPeersFound(m.Peers, "added"));
        Receive<TrackerActor.PeersFound>(m => OnPeersFound(m.Peers, m.Tracker));
        Receive<TrackerActor.TrackerStatus>(OnTrackerStatus);
        Receive<PeerActor.Connected>(OnPeerConnected);
        Receive<PeerActor.TransferReport>(m => _meter.Add(m.Downloaded, m.Uploaded));
        Receive<PeerActor.Misbehaved>(m =>
        {
            _bannedPeers.Add(Sender);
            Ban(m.EndPoint, m.Reason);
        });
        Receive<FileWriterActor.PieceVerified>(OnPieceVerified);
        Receive<FileWriterActor.PieceFailed>(OnPieceFailed);
        Receive<FileWriterActor.DiskFailed>(m => Fail(m.Reason));
        Receive<Terminated>(OnTerminated);
        Receive<Tick>(_ => OnTick());
        Receive<Stop>(_ => BeginStop(Sender));
        Receive<TrackerActor.StoppedAnnounced>(_ => FinishStop());
        Receive<StopTimedOut>(_ => FinishStop());
        Receive<ReportCompletion>(_ => OnReportCompletion());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TorrentContext context, IActorRef observer, TorrentParts parts) =>
        Akka.Actor.Props.Create(() => new TorrentCoordinator(context, observer, parts));

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
    }

    private void OnCheckCompleted(FileWriterActor.CheckCompleted message)
    {
        if (_state != TorrentState.Checking)
        {
            return;
        }
        if (Bitfield.FromWire(message.VerifiedPieces.Span, _context.PieceCount) is { } onDisk)
        {
            foreach (var piece in onDisk.GetSetIndices())
            {
                _verified.Set(piece);
            }
        }
        _verifiedBytes = message.VerifiedBytes;
        _scheduler.Tell(new PieceSchedulerActor.Start(message.VerifiedPieces));
        if (_parts.Tracker is { } tracker && _context.Metainfo.AnnounceTiers.Count > 0)
        {
            _tracker = Context.Watch(Context.ActorOf(tracker(_context, Self), "tracker"));
        }
        if (_verified.IsComplete)
        {
            OnComplete();
            return;
        }
        _state = TorrentState.Downloading;
        Publish();
        ConnectMore();
    }

    private void OnPeersFound(IReadOnlyList<IPEndPoint> peers, string source)
    {
        var added = _roster.Add(peers);
        if (added > 0)
        {
            _log.Debug("{Added} new peers from {Source} ({Known} known)", added, source, _roster.Known);
        }
        ConnectMore();
    }

    private void OnTrackerStatus(TrackerActor.TrackerStatus status)
    {
        // The tracker actor already logs each failure once; the coordinator only keeps the detail.
        _log.Debug("Tracker {Tracker} ok={Ok}: {Message}", status.Tracker, status.Ok, status.Message);
    }

    private void ConnectMore()
    {
        if (_state != TorrentState.Downloading)
        {
            return;
        }
        var limit = Math.Min(_context.Settings.MaxPeersPerTorrent, _context.Settings.MaxConnections);
        foreach (var endpoint in _roster.TakeCandidates(DateTime.UtcNow, limit - _peers.Count))
        {
            var spawn = new PeerSpawn(_context, endpoint, Self, _scheduler, _writer);
            var peer = Context.ActorOf(_parts.Peer(spawn), $"peer-{endpoint.Address}-{endpoint.Port}".Replace(':', '_'));
            _peers.Add(Context.Watch(peer), endpoint);
        }
    }

    private void OnPeerConnected(PeerActor.Connected message)
    {
        _roster.Connected(message.EndPoint);
        _log.Debug("Connected to {EndPoint} ({Client})", message.EndPoint, message.RemoteId.ClientName ?? message.RemoteId.ToString());
    }

    private void OnPieceVerified(FileWriterActor.PieceVerified message)
    {
        if (!_verified.Set(message.Piece))
        {
            return;
        }
        _verifiedBytes += _context.Metainfo.GetPieceSize(message.Piece);
        _scheduler.Tell(new PieceSchedulerActor.PieceVerified(message.Piece));
        var have = new PeerActor.AnnounceHave(message.Piece);
        foreach (var peer in _peers.Keys)
        {
            peer.Tell(have);
        }
        if (_verified.IsComplete && _state == TorrentState.Downloading)
        {
            OnComplete();
        }
    }

    private void OnPieceFailed(FileWriterActor.PieceFailed message)
    {
        _scheduler.Tell(new PieceSchedulerActor.PieceFailed(message.Piece));
        _log.Warning("Piece {Piece} failed its hash check ({Contributors} peers contributed)", message.Piece, message.Contributors.Count);
        // Blamed on a banned contributor alone: a peer banned with its blocks already in started pieces leaves them
        // for honest peers to finish, and those failures must not add up to a ban of the honest peers.
        if (message.Contributors.Any(_bannedPeers.Contains))
        {
            return;
        }
        foreach (var contributor in message.Contributors)
        {
            if (!_peers.TryGetValue(contributor, out var endpoint))
            {
                continue;
            }
            var failures = _hashFailures[endpoint] = _hashFailures.GetValueOrDefault(endpoint) + 1;
            if (message.Contributors.Count == 1 || failures >= MaxHashFailuresPerPeer)
            {
                Ban(endpoint, $"sent data that failed the hash check of piece {message.Piece}");
                _bannedPeers.Add(contributor);
                Context.Stop(contributor);
            }
        }
    }

    private void Ban(IPEndPoint endpoint, string reason)
    {
        if (!_roster.IsBanned(endpoint))
        {
            _log.Warning("Banned peer {EndPoint}: {Reason}", endpoint, reason);
            _roster.Ban(endpoint, reason);
        }
    }

    private void OnTerminated(Terminated message)
    {
        if (_peers.Remove(message.ActorRef, out var endpoint))
        {
            _roster.Disconnected(endpoint, DateTime.UtcNow);
            if (_state == TorrentState.Completed && _peers.Count == 0 && !_completionReported)
            {
                Self.Tell(ReportCompletion.Instance);
            }
            return;
        }
        if (message.ActorRef.Equals(_tracker))
        {
            _tracker = null;
            if (_state == TorrentState.Stopping)
            {
                FinishStop();
            }
            return;
        }
        if (_state is not (TorrentState.Stopping or TorrentState.Failed))
        {
            Fail($"internal error: the torrent's {message.ActorRef.Path.Name} stopped unexpectedly");
        }
    }

    private void OnTick()
    {
        _meter.Sample();
        _tracker?.Tell(new TrackerActor.UpdateTransfer(_meter.Uploaded, _meter.Downloaded,
            _context.Metainfo.TotalLength - _verifiedBytes));
        Publish();
        ConnectMore();
    }

    private void OnComplete()
    {
        _state = TorrentState.Completed;
        _tracker?.Tell(new TrackerActor.AnnounceNow(AnnounceEvent.Completed));
        _log.Info("Torrent {Name} complete: {Bytes} bytes verified in {Elapsed}", _context.Metainfo.Name,
            _context.Metainfo.TotalLength, _elapsed.Elapsed);
        // Without seeding (a later issue) the connections only cost the peers a slot.
        foreach (var peer in _peers.Keys)
        {
            Context.Stop(peer);
        }
        if (_peers.Count == 0)
        {
            Self.Tell(ReportCompletion.Instance);
        }
    }

    private void OnReportCompletion()
    {
        if (_completionReported)
        {
            return;
        }
        _completionReported = true;
        _meter.Sample();
        Publish();
        _observer.Tell(new Completed(_context.Metainfo.TotalLength, _meter.Downloaded, _elapsed.Elapsed));
    }

    private void Fail(string reason)
    {
        if (_state == TorrentState.Failed)
        {
            return;
        }
        _state = TorrentState.Failed;
        _log.Error("Torrent {Name} failed: {Reason}", _context.Metainfo.Name, reason);
        foreach (var peer in _peers.Keys)
        {
            Context.Stop(peer);
        }
        Publish();
        _observer.Tell(new Failed(reason));
    }

    private void BeginStop(IActorRef requester)
    {
        _stopRequester = requester;
        if (_state == TorrentState.Stopping)
        {
            return;
        }
        _state = TorrentState.Stopping;
        foreach (var peer in _peers.Keys)
        {
            Context.Stop(peer);
        }
        if (_tracker is null)
        {
            FinishStop();
            return;
        }
        _tracker.Tell(TrackerActor.AnnounceStopped.Instance);
        Timers.StartSingleTimer("stop", StopTimedOut.Instance, _context.Settings.Tracker.Timeout + TimeSpan.FromSeconds(1));
    }

    private void FinishStop()
    {
        if (_stopRequester is null)
        {
            return;
        }
        _stopRequester.Tell(Stopped.Instance);
        _stopRequester = null;
        Context.Stop(Self);
    }

    private void Publish() => _observer.Tell(new Progress(_state, _verified.Count, _context.PieceCount,
        _verifiedBytes, _context.Metainfo.TotalLength, _meter.DownloadRate, _meter.UploadRate,
        _meter.Downloaded, _meter.Uploaded, _peers.Count));
}
