using System.Globalization;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Trackers;

public sealed partial class TrackerActor : IWithTimers
{
    private const string AnnounceTimer = "announce";
    private const string StopDeadlineTimer = "stop-deadline";

    /// <summary>Extra wait over the tracker timeout before giving up on a stopped announce (the transport's own
    /// timeout should fire first; this covers a transport that ignores it).</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(1);

    private readonly TorrentContext _context;
    private readonly IActorRef _coordinator;
    private readonly ITrackerTransport _transport;
    private readonly TrackerSettings _settings;
    private readonly TrackerTiers _tiers;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, string> _trackerIds = new(StringComparer.Ordinal);
    private readonly List<IActorRef> _stopWaiters = [];

    private long _uploaded;
    private long _downloaded;
    private long _left;

    // BEP 3: "started" is repeated until a tracker accepts it; an explicit event likewise until it is accepted.
    private AnnounceEvent _nextEvent = AnnounceEvent.Started;
    private IReadOnlyList<string> _round = [];
    private int _roundIndex;
    private int _failedRounds;
    private long _attempt;
    private bool _inFlight;
    private bool _announceRequested;
    private CancellationTokenSource? _inFlightCancel;
    private string? _lastAnswered;

    // Public because Akka creates actors by reflection; use Props or SupervisedProps.
    public TrackerActor(TorrentContext context, IActorRef coordinator, ITrackerTransport transport)
    {
        _context = context;
        _coordinator = coordinator;
        _transport = transport;
        _settings = context.Settings.Tracker;
        // Until the coordinator reports otherwise we claim to need everything, the safe side for a tracker.
        _left = context.Metainfo.TotalLength;

        var supported = new List<List<string>>();
        foreach (var tier in context.Metainfo.AnnounceTiers)
        {
            supported.Add(tier.Where(transport.Supports).ToList());
        }
        _tiers = new TrackerTiers(supported);
        Announcing();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        foreach (var url in _context.Metainfo.AnnounceTiers.SelectMany(t => t).Where(u => !_transport.Supports(u)))
        {
            _log.Warning("Tracker {Tracker} skipped: {Reason}", url, UnsupportedScheme);
            _coordinator.Tell(new TrackerStatus(url, false, UnsupportedScheme, null, null));
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
            if (!done.Result.Success)
            {
                _log.Warning("Tracker {Tracker} stopped announce failed: {Reason}", done.Url, done.Result.Failure?.Reason);
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
        _round = _tiers.InOrder();
        _roundIndex = 0;
        if (_round.Count > 0)
        {
            Send(_round[0], _nextEvent);
        }
    }

    private void Send(string url, AnnounceEvent announceEvent)
    {
        var attempt = ++_attempt;
        _inFlight = true;
        _inFlightCancel?.Dispose();
        _inFlightCancel = new CancellationTokenSource();
        _trackerIds.TryGetValue(url, out var trackerId);
        var request = BuildRequest(_context, announceEvent, _uploaded, _downloaded, _left, trackerId);
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
        if (done.Result.Response is { } response)
        {
            OnAnswered(done, response);
            return;
        }

        var reason = done.Result.Failure?.Reason ?? "no answer";
        if (++_roundIndex < _round.Count)
        {
            _log.Warning("Tracker {Tracker} failed: {Reason}; trying {Next}", done.Url, reason, _round[_roundIndex]);
            Send(_round[_roundIndex], _nextEvent);
            return;
        }
        // Every tracker failed: the pending event stays, so the retry carries it; an explicit request is covered.
        _announceRequested = false;
        var delay = TrackerBackoff.Delay(++_failedRounds, _settings.MinBackoff, _settings.MaxBackoff, Random.Shared);
        _log.Warning("Tracker {Tracker} failed: {Reason}; retrying in {Delay}", done.Url, reason, delay);
        Timers.StartSingleTimer(AnnounceTimer, AnnounceTick.Instance, delay);
    }

    private void OnAnswered(AnnounceDone done, AnnounceResponse response)
    {
        _lastAnswered = done.Url;
        _tiers.Promote(done.Url);
        _failedRounds = 0;
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

    /// <summary>One status per attempt, so the console can show every tracker's state (warnings included).</summary>
    private void Report(AnnounceDone done)
    {
        if (done.Result.Response is { } r)
        {
            var message = r.WarningMessage is { Length: > 0 } warning
                ? "warning: " + warning
                : string.Create(CultureInfo.InvariantCulture, $"{r.Peers.Count} peers");
            if (r.WarningMessage is { Length: > 0 })
            {
                _log.Warning("Tracker {Tracker} warns: {Warning}", done.Url, r.WarningMessage);
            }
            _coordinator.Tell(new TrackerStatus(done.Url, true, message, r.Complete, r.Incomplete));
        }
        else
        {
            _coordinator.Tell(new TrackerStatus(done.Url, false, done.Result.Failure?.Reason ?? "no answer", null, null));
        }
    }

    /// <summary>The tracker's interval, but never sooner than its min interval.</summary>
    internal static TimeSpan NextAnnounceDelay(AnnounceResponse response) =>
        response.MinInterval is { } min && min > response.Interval ? min : response.Interval;

    private sealed record AnnounceTick
    {
        public static readonly AnnounceTick Instance = new();
    }

    private sealed record StopDeadline
    {
        public static readonly StopDeadline Instance = new();
    }

    private sealed record AnnounceDone(long Attempt, string Url, AnnounceEvent Event, AnnounceResult Result);
}
