using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Peers;

/// <summary>Construction, the Connecting and Handshaking states, and how the actor ends.</summary>
public sealed partial class PeerActor : IWithTimers
{
    private const string ConnectTimerKey = "connect-timeout";
    private const string HandshakeTimerKey = "handshake-timeout";
    private const string TickTimerKey = "tick";
    private const string ReportTimerKey = "report";

    private readonly TorrentContext _context;
    private readonly BtaSettings _settings;
    private readonly IPEndPoint _remote;
    private readonly IActorRef _coordinator;
    private readonly IActorRef _scheduler;
    private readonly IActorRef _writer;
    private readonly Func<IPEndPoint, CancellationToken, Task<IDuplexPipe>> _connect;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _connectCancel = new();
    private readonly RateLimiter? _downloadLimit;
    private readonly IDuplexPipe? _incoming;
    private Task<IDuplexPipe>? _connecting;
    private PeerConnection? _connection;
    private bool _handshakeSent;
    private bool _fastAgreed;

    public PeerActor(
        TorrentContext context,
        IPEndPoint remote,
        IActorRef coordinator,
        IActorRef scheduler,
        IActorRef writer,
        Func<IPEndPoint, CancellationToken, Task<IDuplexPipe>>? connect = null,
        PeerSetup? setup = null)
    {
        setup ??= PeerSetup.Default;
        _context = context;
        _settings = context.Settings;
        _remote = remote;
        _coordinator = coordinator;
        _scheduler = scheduler;
        _writer = writer;
        _connect = connect ?? SocketTransport.ConnectAsync;
        _pipeline = new RequestPipeline(_settings.RequestPipeline, _settings.BlockSize);
        _downloadRate = new RateMeter(RateWindow, 8, Now());
        _uploadRate = new RateMeter(RateWindow, 8, Now());
        _uploads = new UploadQueue(_settings.Upload.MaxRequestsPerPeer);
        _uploadLimit = setup.UploadLimit ?? RateLimiter.Unlimited;
        _downloadLimit = setup.DownloadLimit;
        _ourPieces = setup.OurPieces?.Clone() ?? new Bitfield(context.PieceCount);
        _peerPieces = new Bitfield(context.PieceCount);
        _incoming = setup.Incoming;
        if (_incoming is null)
        {
            Connecting();
        }
        else
        {
            Handshaking();
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>A connection to <paramref name="remote"/>: dialled, or already accepted when
    /// <paramref name="setup"/> carries an incoming transport; <paramref name="connect"/> replaces the TCP
    /// dialer (tests pass in-memory pipes).</summary>
    public static Props Props(
        TorrentContext context,
        IPEndPoint remote,
        IActorRef coordinator,
        IActorRef scheduler,
        IActorRef writer,
        Func<IPEndPoint, CancellationToken, Task<IDuplexPipe>>? connect = null,
        PeerSetup? setup = null) =>
        Akka.Actor.Props.Create(() => new PeerActor(context, remote, coordinator, scheduler, writer, connect, setup));

    protected override void PreStart()
    {
        if (_incoming is not null)
        {
            // The listener read only the handshake's first 48 bytes and left them in the pipe for our reader.
            StartConnection(_incoming, sendFirst: false);
            return;
        }

        Timers.StartSingleTimer(ConnectTimerKey, ConnectTimedOut.Instance, _settings.Timeouts.Connect);
        _connectCancel.CancelAfter(_settings.Timeouts.Connect);
        _connecting = _connect(_remote, _connectCancel.Token);
        _connecting.PipeTo(Self, success: t => new TransportReady(t), failure: ex => new ConnectFailed(ex.Message));
    }

    protected override void PostStop()
    {
        _connectCancel.Cancel();
        _connectCancel.Dispose();
        ReportTransfer();
        if (_connection is not null)
        {
            _ = _connection.DisposeAsync().AsTask();
        }
        else if (_incoming is IAsyncDisposable accepted)
        {
            _ = accepted.DisposeAsync().AsTask();
        }
        else if (_connecting is not null)
        {
            // Stopped while dialling: a transport that still turns up must not leak its socket.
            _ = DisposeWhenConnectedAsync(_connecting);
        }
    }

    private static async Task DisposeWhenConnectedAsync(Task<IDuplexPipe> connecting)
    {
        try
        {
            if (await connecting.ConfigureAwait(false) is IAsyncDisposable late)
            {
                await late.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // The dial failed or was cancelled: there is no transport to close.
        }
    }

    /// <summary>Any exception in a handler ends this peer only; a restart would silently redial.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is IFromReadLoop fromReadLoop)
        {
            // Credit back to the read loop for every one of its messages, handled or not.
            _connection?.Consumed(fromReadLoop.Credits);
        }

        try
        {
            return base.AroundReceive(receive, message);
        }
        catch (Exception ex)
        {
            _log.Warning(ex, "Peer {EndPoint} failed on {Message}: {Reason}", _remote, message.GetType().Name, ex.Message);
            Context.Stop(Self);
            return true;
        }
    }

    private void Connecting()
    {
        Receive<TransportReady>(m => BeginHandshake(m.Transport, sendFirst: true));
        Receive<ConnectFailed>(m => Close("connect failed: " + m.Reason));
        Receive<ConnectTimedOut>(_ => Close("connect timed out"));
        NotActiveYet();
    }

    private void BeginHandshake(IDuplexPipe transport, bool sendFirst)
    {
        Timers.Cancel(ConnectTimerKey);
        StartConnection(transport, sendFirst);
        Become(Handshaking);
    }

    private void StartConnection(IDuplexPipe transport, bool sendFirst)
    {
        _connection = new PeerConnection(transport, _context.PieceCount, _downloadLimit);
        _connection.Start(Self);
        if (sendFirst)
        {
            SendHandshake();
        }

        Timers.StartSingleTimer(HandshakeTimerKey, HandshakeTimedOut.Instance, _settings.Timeouts.Handshake);
    }

    private void Handshaking()
    {
        Receive<HandshakeReceived>(m => OnHandshake(m.Handshake));
        Receive<HandshakeTimedOut>(_ => Close("handshake timed out"));
        Receive<ConnectionFailed>(m => Misbehave(m.Reason));
        Receive<ConnectionClosed>(m => Close(m.Reason));
        NotActiveYet();
    }

    /// <summary>Messages that only make sense once Active; none of them may be lost or crash the actor.</summary>
    private void NotActiveYet()
    {
        Receive<AssignBlocks>(m => _scheduler.Tell(new PieceSchedulerActor.BlocksReleased(Self, m.Blocks)));
        Receive<BlocksArrived>(m => m.ReleaseAll());
        // Not sent now: the bitfield sent after the handshake includes it.
        Receive<AnnounceHave>(m => _ourPieces.Set(m.Piece));
        Receive<SetChoke>(m => _log.Debug("Peer {EndPoint}: choke={Choke} before the handshake, ignored", _remote, m.Choke));
        Receive<FileWriterActor.BlockRead>(m => m.Data.Release());
        Receive<FileWriterActor.BlocksRead>(m => Array.ForEach(m.Blocks, b => b.Data.Release()));
    }

    private void OnHandshake(Handshake handshake)
    {
        if (new InfoHash(handshake.InfoHash) != _context.InfoHash)
        {
            Misbehave("wrong info-hash " + Convert.ToHexStringLower(handshake.InfoHash));
            return;
        }

        if (handshake.PeerId.Equals(_context.LocalPeerId))
        {
            Misbehave("connected to ourselves (our own peer id)");
            return;
        }

        // An incoming connection answers only once it knows the torrent is ours.
        if (!_handshakeSent)
        {
            SendHandshake();
        }

        Timers.Cancel(HandshakeTimerKey);
        _fastAgreed = handshake.SupportsFastExtension;
        _coordinator.Tell(new Connected(Self, _remote, handshake.PeerId));
        SendOurPieces();
        if (handshake.SupportsDht && _context.Dht is { Port: > 0 and <= ushort.MaxValue } dht)
        {
            // BEP 5: a peer that runs a DHT node learns ours (and may ping it into its table).
            _connection!.SendPort((ushort)dht.Port);
        }
        if (handshake.SupportsExtensionProtocol)
        {
            StartExtensions();
        }

        Flush();

        _log.Debug("Peer {EndPoint} connected: {PeerId} ({Client}), fast extension {Fast}",
            _remote, handshake.PeerId, handshake.PeerId.ClientName ?? "unknown", _fastAgreed);
        Timers.StartPeriodicTimer(TickTimerKey, Tick.Instance, TickInterval());
        Timers.StartPeriodicTimer(ReportTimerKey, Report.Instance, ReportInterval);
        Become(Active);
    }

    private void SendHandshake()
    {
        // Fast extension (BEP 6) and extension protocol (BEP 10: ut_metadata, ut_pex) on; DHT (BEP 5) when the
        // session runs a node and the torrent is public.
        var reserved = HandshakeReserved.FastExtension | HandshakeReserved.ExtensionProtocol
            | (_context.Dht is null ? HandshakeReserved.None : HandshakeReserved.Dht);
        _connection!.SendHandshake(new Handshake(_context.InfoHash.ToArray(), _context.LocalPeerId, reserved));
        _handshakeSent = true;
        Flush();
    }

    private void Flush()
    {
        _connection!.Flush();
        _lastSent = Now();
    }

    /// <summary>The peer went away or timed out: not its fault, so it may be dialled again.</summary>
    private void Close(string reason)
    {
        _log.Debug("Peer {EndPoint} closed: {Reason}", _remote, reason);
        Context.Stop(Self);
    }

    /// <summary>The peer proved bad: the coordinator hears it so it is not dialled again.</summary>
    private void Misbehave(string reason)
    {
        _log.Warning("Peer {EndPoint} misbehaved: {Reason}", _remote, reason);
        _coordinator.Tell(new Misbehaved(_remote, reason));
        Context.Stop(Self);
    }

    /// <summary>Fine enough for the shortest timeout, at most once a second (tests use short timeouts).</summary>
    private TimeSpan TickInterval()
    {
        var t = _settings.Timeouts;
        var shortest = new[] { t.Request, t.Idle, _settings.KeepAliveInterval }.Min() / 4;
        return TimeSpan.FromTicks(Math.Clamp(shortest.Ticks, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.TicksPerSecond));
    }

    private static TimeSpan Now() => Stopwatch.GetElapsedTime(0);

    private sealed record ConnectTimedOut
    {
        public static readonly ConnectTimedOut Instance = new();
    }

    private sealed record HandshakeTimedOut
    {
        public static readonly HandshakeTimedOut Instance = new();
    }

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Report
    {
        public static readonly Report Instance = new();
    }
}
