using System.Globalization;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Text;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Trackers;

public sealed partial class TrackerActor : IWithTimers
{
    private const string AnnounceTimer = "announce";
    private const string StopDeadlineTimer = "stop-deadline";

    /// <summary>Extra wait over the tracker timeout before giving up on a stopped announce (the transport's own
    /// timeout should fire first; this covers a transport that ignores it).</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(1);

    private readonly TrackerContext _context;
    private readonly IActorRef _coordinator;
    private readonly ITrackerTransport _transport;
    private readonly Session.SessionServices? _ownServices;
    private readonly TrackerSettings _settings;
    private readonly TrackerTiers _tiers;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, string> _trackerIds = new(StringComparer.Ordinal);
    // Per tracker: failures in a row and when it may be asked again. A tracker backing off is left out of rounds,
    // so a dead tier costs one timeout per backoff period, not one per announce, while the others keep working.
    private readonly Dictionary<string, (int Failures, DateTime RetryAt)> _backoff = new(StringComparer.Ordinal);
    // The last warning each tracker gave, so the console shows a warning once per change, not once per announce.
    private readonly Dictionary<string, string?> _warnings = new(StringComparer.Ordinal);
    private readonly List<IActorRef> _stopWaiters = [];

    private long _uploaded;
    private long _downloaded;
    private long _left;

    // BEP 3: "started" is repeated until a tracker accepts it; an explicit event likewise until it is accepted.
    private AnnounceEvent _nextEvent = AnnounceEvent.Started;
    private IReadOnlyList<string> _round = [];
    private int _roundIndex;
    private long _attempt;
    private bool _inFlight;
    private bool _announceRequested;
    private CancellationTokenSource? _inFlightCancel;
    private string? _lastAnswered;

    // Public because Akka creates actors by reflection; use Props or SupervisedProps.
    /// <param name="transport">Null: the session's transports, or (outside a session) a UDP socket and HTTP
    /// client of this actor's own, disposed when it stops.</param>
    public TrackerActor(TrackerContext context, IActorRef coordinator, ITrackerTransport? transport)
    {
        _context = context;
        _coordinator = coordinator;
        if (transport is null && context.Services is null)
        {
            _ownServices = new Session.SessionServices(context.Settings);
        }
        _transport = transport ?? context.Services?.TrackerTransport ?? _ownServices!.TrackerTransport;
        _settings = context.Settings.Tracker;
        // Until the coordinator reports otherwise we claim to need everything, the safe side for a tracker.
        _left = context.InitialLeft;

        var supported = new List<List<string>>();
        foreach (var tier in context.AnnounceTiers)
        {
            supported.Add(tier.Where(_transport.Supports).ToList());
        }
        // BEP 12: each tier shuffled once, here, when the torrent is loaded.
        _tiers = new TrackerTiers(supported, Random.Shared);
        Announcing();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        foreach (var url in _context.AnnounceTiers.SelectMany(t => t).Where(u => !_transport.Supports(u)))
        {
            var reason = CompositeTrackerTransport.Unsupported(url);
            _log.Warning("Tracker {Tracker} skipped: {Reason}", url, reason);
            _coordinator.Tell(new TrackerStatus(url, false, reason, null, null));
        }
        if (_tiers.IsEmpty)
        {
            _log.Warning("Torrent {InfoHash} has no usable tracker", _context.InfoHash);
        }
        // Through the mailbox rather than directly, so an UpdateTransfer sent right after creation is usually
        // already queued and the "started" announce reports real totals.
        Self.Tell(AnnounceTick.Instance);
    }

    protected override void PostStop()
    {
        _ownServices?.Dispose();
        _inFlightCancel?.Cancel();
        _inFlightCancel?.Dispose();
    }

    private void Announcing()
    {
        Receive<UpdateTransfer>(SetTransfer);
        Receive<AnnounceTick>(_ =>
        {
            if (!_inFlight)
            {
                StartRound();
            }
        });
        Receive<AnnounceNow>(m =>
        {
            if (m.Event == AnnounceEvent.Stopped)
            {
                BeginStop();
                return;
            }
            if (m.Event != AnnounceEvent.None)
            {
                _nextEvent = m.Event;
            }
            if (_inFlight)
            {
                _announceRequested = true;
                return;
            }
            Timers.Cancel(AnnounceTimer);
            StartRound();
        });
        Receive<AnnounceStopped>(_ => BeginStop());
        Receive<AnnounceDone>(OnAnnounceDone);
    }

    private void Stopping()
    {
        Receive<AnnounceStopped>(_ => _stopWaiters.Add(Sender));
        Receive<AnnounceDone>(done =>
        {
            if (done.Attempt != _attempt)
            {
                return;
            }
            Report(done);
            if (!done.Outcome.Success)
            {
                _log.Warning("Tracker {Tracker} stopped announce failed: {Reason}", done.Url,
                    RemoteText.Sanitize(done.Outcome.Failure?.Reason));
            }
            FinishStop();
        });
        Receive<StopDeadline>(_ =>
        {
            _log.Warning("Tracker {Tracker} stopped announce failed: no answer within {Timeout}", _lastAnswered,
                _settings.Timeout);
            FinishStop();
        });
        ReceiveAny(_ => { });
    }

    private void Stopped()
    {
        Receive<AnnounceStopped>(_ => Sender.Tell(StoppedAnnounced.Instance));
        ReceiveAny(_ => { });
    }

    private void SetTransfer(UpdateTransfer m)
    {
        _uploaded = m.Uploaded;
        _downloaded = m.Downloaded;
        _left = m.Left;
    }

    private void StartRound()
    {
        var now = DateTime.UtcNow;
        _round = _tiers.InOrder().Where(url => !_backoff.TryGetValue(url, out var b) || b.RetryAt <= now).ToList();
        _roundIndex = 0;
        if (_round.Count > 0)
        {
            Send(_round[0], _nextEvent);
        }
        else if (_backoff.Count > 0)
        {
            // Every tracker is backing off: come back when the first may be asked again.
            Timers.StartSingleTimer(AnnounceTimer, AnnounceTick.Instance, UntilFirstRetry(now));
        }
    }

    private void Send(string url, AnnounceEvent announceEvent)
    {
        var attempt = ++_attempt;
        _inFlight = true;
        _inFlightCancel?.Dispose();
        _inFlightCancel = new CancellationTokenSource();
        _trackerIds.TryGetValue(url, out var trackerId);
        // "completed" means nothing is left, whatever the last UpdateTransfer (up to a progress tick old) said.
        var left = announceEvent == AnnounceEvent.Completed ? 0 : _left;
        var request = BuildRequest(_context, announceEvent, _uploaded, _downloaded, left, trackerId);
        // A synchronous throw here is a bug in the transport: let it fail the actor so the supervisor restarts it.
        _transport.AnnounceAsync(url, request, _inFlightCancel.Token).PipeTo(
            Self,
            success: result => new AnnounceDone(attempt, url, announceEvent, result),
            failure: ex => new AnnounceDone(attempt, url, announceEvent,
                AnnounceResult.Fail(new TrackerFailure($"{ex.GetType().Name}: {ex.Message}"))));
    }

    private void OnAnnounceDone(AnnounceDone done)
    {
        if (done.Attempt != _attempt)
        {
            return; // An announce we gave up on (superseded); its answer no longer matters.
        }
        _inFlight = false;
        Report(done);
        if (done.Outcome.Response is { } response)
        {
            OnAnswered(done, response);
            return;
        }

        var reason = RemoteText.Sanitize(done.Outcome.Failure?.Reason ?? "no answer");
        var backoff = BackOff(done.Url);
        if (++_roundIndex < _round.Count)
        {
            _log.Warning("Tracker {Tracker} failed: {Reason}; retrying it in {Delay}, trying {Next}", done.Url, reason,
                backoff, _round[_roundIndex]);
            Send(_round[_roundIndex], _nextEvent);
            return;
        }
        // Every tracker failed: the pending event stays, so the retry carries it; an explicit request is covered.
        _announceRequested = false;
        _log.Warning("Tracker {Tracker} failed: {Reason}; retrying it in {Delay}", done.Url, reason, backoff);
        Timers.StartSingleTimer(AnnounceTimer, AnnounceTick.Instance, UntilFirstRetry(DateTime.UtcNow));
    }

    private void OnAnswered(AnnounceDone done, AnnounceResponse response)
    {
        _lastAnswered = done.Url;
        _tiers.Promote(done.Url);
        _backoff.Remove(done.Url);
        if (response.TrackerId is { Length: > 0 } trackerId)
        {
            _trackerIds[done.Url] = trackerId;
        }
        if (_nextEvent == done.Event)
        {
            _nextEvent = AnnounceEvent.None;
        }
        if (response.Peers.Count > 0)
        {
            _coordinator.Tell(new PeersFound(response.Peers, done.Url));
        }

        var delay = NextAnnounceDelay(response);
        _log.Info("Tracker {Tracker} answered {Event}: {Peers} peers, {Seeders} seeders, {Leechers} leechers; next in {Delay}",
            done.Url, done.Event, response.Peers.Count, response.Complete, response.Incomplete, delay);
        if (_announceRequested)
        {
            // An explicit event (completed) goes out at once; trackers expect it whatever the min interval says.
            _announceRequested = false;
            StartRound();
            return;
        }
        Timers.StartSingleTimer(AnnounceTimer, AnnounceTick.Instance, delay);
    }

    private void BeginStop()
    {
        Timers.CancelAll();
        _stopWaiters.Add(Sender);
        // Whatever was in flight is abandoned: stopping matters more, and its answer would be ignored anyway.
        _inFlightCancel?.Cancel();
        _inFlight = false;
        if (_lastAnswered is not { } url)
        {
            _log.Debug("No tracker accepted torrent {InfoHash}; nothing to stop", _context.InfoHash);
            FinishStop();
            return;
        }
        Become(Stopping);
        Send(url, AnnounceEvent.Stopped);
        Timers.StartSingleTimer(StopDeadlineTimer, StopDeadline.Instance, _settings.Timeout + StopGrace);
    }

    private void FinishStop()
    {
        Timers.CancelAll();
        _inFlight = false;
        foreach (var waiter in _stopWaiters.Where(w => !w.IsNobody()))
        {
            waiter.Tell(StoppedAnnounced.Instance);
        }
        _stopWaiters.Clear();
        Become(Stopped);
    }

    /// <summary>The tracker's interval, but never sooner than its min interval.</summary>
    internal static TimeSpan NextAnnounceDelay(AnnounceResponse response) =>
        response.MinInterval is { } min && min > response.Interval ? min : response.Interval;
}
