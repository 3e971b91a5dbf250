using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Peers.Extensions;
using BitTorrentActors.Protocol.Extensions;
using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Engine.Peers.PeerActor;

namespace BitTorrentActors.Engine.Metadata;

/// <summary>
/// One connection of a metadata fetch: dials, handshakes with the extension (BEP 10) and fast (BEP 6) bits, sends
/// our extension handshake without a <c>metadata_size</c> (and have-none when the fast extension is on: we have no
/// pieces), then asks for the ut_metadata pieces its parent says and hands back what arrives. Incoming ut_metadata
/// requests are rejected (we lack the metadata); everything else a peer may send is ignored. A peer without BEP 10
/// or ut_metadata is closed. The socket and framing are <see cref="PeerConnection"/>'s, as for a PeerActor. A
/// connection the listener accepted for the magnet starts from its transport instead of dialling, and answers the
/// peer's handshake once it has read it (as a PeerActor does for an incoming peer).
/// </summary>
public sealed class MetadataPeerActor : ReceiveActor, IWithTimers
{
    /// <summary>From the fetcher: ask the peer for this metadata piece.</summary>
    public sealed record RequestPiece(int Piece);

    /// <summary>To the fetcher: the BitTorrent handshake is done.</summary>
    public sealed record PeerConnected(IPEndPoint EndPoint);

    /// <summary>To the fetcher: the peer's extension handshake offers ut_metadata (with its size, if it said).</summary>
    public sealed record MetadataOffered(IPEndPoint EndPoint, long? MetadataSize);

    /// <summary>To the fetcher: a ut_metadata data message.</summary>
    public sealed record PieceArrived(IPEndPoint EndPoint, int Piece, long TotalSize, ReadOnlyMemory<byte> Data)
        : INoSerializationVerificationNeeded;

    /// <summary>To the fetcher: a ut_metadata reject.</summary>
    public sealed record PieceRejected(IPEndPoint EndPoint, int Piece);

    /// <summary>To the fetcher: peers the peer told us of (BEP 11), for the fetch to try.</summary>
    public sealed record PeersLearned(IReadOnlyList<IPEndPoint> Peers);

    /// <summary>To the fetcher, before stopping: the peer broke the protocol; it is not dialled again.</summary>
    public sealed record PeerMisbehaved(IPEndPoint EndPoint, string Reason);

    /// <summary>To the fetcher: an incoming peer's extension handshake named the port it listens on (its
    /// <paramref name="EndPoint"/> has the port it dialled from, which no one can dial).</summary>
    public sealed record ListenAddressLearned(IPEndPoint EndPoint, IPEndPoint ListenAddress);

    private const string ConnectTimer = "connect";
    private const string HandshakeTimer = "handshake";
    private const string TickTimer = "tick";

    private readonly IPEndPoint _remote;
    private readonly MagnetContext _context;
    private readonly IActorRef _fetcher;
    private readonly Func<IPEndPoint, CancellationToken, Task<IDuplexPipe>> _connect;
    private readonly CancellationTokenSource _connectCancel = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    // An accepted connection (the listener has read its handshake's first 48 bytes and left them in the pipe).
    private readonly IDuplexPipe? _incoming;
    private bool _handshakeSent;
    private Task<IDuplexPipe>? _connecting;
    private PeerConnection? _connection;
    private byte _peerMetadataId;
    private TimeSpan _lastSent;

    public MetadataPeerActor(IPEndPoint remote, MagnetContext context, IActorRef fetcher, Func<IPEndPoint, CancellationToken, Task<IDuplexPipe>> connect)
        : this(remote, context, fetcher, connect, incoming: null)
    {
    }

    /// <param name="incoming">An accepted connection's transport; null: dial <paramref name="remote"/>.</param>
    public MetadataPeerActor(IPEndPoint remote, MagnetContext context, IActorRef fetcher,
        Func<IPEndPoint, CancellationToken, Task<IDuplexPipe>> connect, IDuplexPipe? incoming)
    {
        _remote = remote;
        _context = context;
        _fetcher = fetcher;
        _connect = connect;
        _incoming = incoming;
        Receive<TransportReady>(m => OnTransport(m.Transport));
        Receive<ConnectFailed>(m => Close("connect failed: " + m.Reason));
        Receive<ConnectTimedOut>(_ => Close("connect timed out"));
        Receive<RequestPiece>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IPEndPoint remote, MagnetContext context, IActorRef fetcher, Func<IPEndPoint, CancellationToken, Task<IDuplexPipe>> connect) =>
        Akka.Actor.Props.Create(() => new MetadataPeerActor(remote, context, fetcher, connect));

    /// <summary>A peer that connected to us for this magnet: its handshake is still unread in
    /// <paramref name="transport"/>, which this actor now owns.</summary>
    public static Props Incoming(IPEndPoint remote, MagnetContext context, IActorRef fetcher, IDuplexPipe transport) =>
        Akka.Actor.Props.Create(() => new MetadataPeerActor(remote, context, fetcher, static (_, _) => Task.FromException<IDuplexPipe>(
            new InvalidOperationException("an incoming connection does not dial")), transport));

    protected override void PreStart()
    {
        if (_incoming is not null)
        {
            StartConnection(_incoming, sendFirst: false);
            return;
        }
        var timeout = _context.Settings.Timeouts.Connect;
        Timers.StartSingleTimer(ConnectTimer, ConnectTimedOut.Instance, timeout);
        _connectCancel.CancelAfter(timeout);
        _connecting = _connect(_remote, _connectCancel.Token);
        _connecting.PipeTo(Self, success: t => new TransportReady(t), failure: ex => new ConnectFailed(ex.Message));
    }

    protected override void PostStop()
    {
        _connectCancel.Cancel();
        _connectCancel.Dispose();
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

    /// <summary>Credit back to the read loop for each of its messages; an exception ends this peer only.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is IFromReadLoop fromReadLoop)
        {
            _connection?.Consumed(fromReadLoop.Credits);
        }
        try
        {
            return base.AroundReceive(receive, message);
        }
        catch (Exception ex)
        {
            _log.Warning(ex, "Metadata peer {EndPoint} failed on {Message}: {Reason}", _remote, message.GetType().Name, ex.Message);
            Context.Stop(Self);
            return true;
        }
    }

    private void OnTransport(IDuplexPipe transport)
    {
        Timers.Cancel(ConnectTimer);
        StartConnection(transport, sendFirst: true);
    }

    private void StartConnection(IDuplexPipe transport, bool sendFirst)
    {
        // Piece count 0: the torrent's size is unknown, so a bitfield is only bounded, not checked.
        _connection = new PeerConnection(transport, pieceCount: 0);
        _connection.Start(Self);
        if (sendFirst)
        {
            SendHandshake();
        }
        Timers.StartSingleTimer(HandshakeTimer, HandshakeTimedOut.Instance, _context.Settings.Timeouts.Handshake);
        Become(Handshaking);
    }

    private void SendHandshake()
    {
        _connection!.SendHandshake(new Handshake(_context.InfoHash.ToArray(), _context.LocalPeerId,
            HandshakeReserved.FastExtension | HandshakeReserved.ExtensionProtocol));
        _handshakeSent = true;
        Flush();
    }

    private void Handshaking()
    {
        Receive<HandshakeReceived>(m => OnHandshake(m.Handshake));
        Receive<HandshakeTimedOut>(_ => Close("handshake timed out"));
        Connected();
    }

    private void OnHandshake(Handshake handshake)
    {
        if (new Protocol.Metainfo.InfoHash(handshake.InfoHash) != _context.InfoHash)
        {
            Misbehave("wrong info-hash " + Convert.ToHexStringLower(handshake.InfoHash));
            return;
        }
        if (handshake.PeerId.Equals(_context.LocalPeerId))
        {
            Misbehave("connected to ourselves (our own peer id)");
            return;
        }
        if (!handshake.SupportsExtensionProtocol)
        {
            // Without BEP 10 there is no way to ask for the metadata.
            Close("no extension protocol (BEP 10)");
            return;
        }
        // An incoming connection answers only once it knows the torrent is ours.
        if (!_handshakeSent)
        {
            SendHandshake();
        }
        _fetcher.Tell(new PeerConnected(_remote));
        var ours = LocalExtensions.Handshake(isPrivate: false, metadataSize: null, _context.ListenPort,
            _context.Settings.Upload.MaxRequestsPerPeer, _remote.Address);
        _connection!.SendExtended(0, ours.Encode());
        if (handshake.SupportsFastExtension)
        {
            // BEP 6: after the handshake, a bitfield, have-all or have-none; we have nothing.
            _connection.SendHaveNone();
        }
        Flush();
        // The extension handshake must follow within the same bound as the BitTorrent one.
        Timers.StartSingleTimer(HandshakeTimer, HandshakeTimedOut.Instance, _context.Settings.Timeouts.Handshake);
        Timers.StartPeriodicTimer(TickTimer, Tick.Instance, TickInterval());
        Become(AwaitingExtensions);
    }

    private void AwaitingExtensions()
    {
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.Extended && m.ExtendedId == 0, m => OnExtensionHandshake(m.Payload ?? []));
        Receive<HandshakeTimedOut>(_ => Close("no extension handshake"));
        Receive<Tick>(_ => OnTick());
        Connected();
    }

    private void OnExtensionHandshake(byte[] payload)
    {
        Timers.Cancel(HandshakeTimer);
        if (!ExtensionHandshake.TryParse(new ReadOnlySequence<byte>(payload), out var theirs, out var error))
        {
            Misbehave(error);
            return;
        }
        _peerMetadataId = theirs.IdOf(LocalExtensions.UtMetadata);
        if (_peerMetadataId == 0)
        {
            Close("the peer does not offer ut_metadata");
            return;
        }
        if (_incoming is not null && theirs.ListenPort is > 0 and <= ushort.MaxValue and var port)
        {
            _fetcher.Tell(new ListenAddressLearned(_remote, new IPEndPoint(_remote.Address, port)));
        }
        _fetcher.Tell(new MetadataOffered(_remote, theirs.MetadataSize));
        Become(Fetching);
    }

    private void Fetching()
    {
        Receive<RequestPiece>(m => Send(_peerMetadataId, MetadataMessage.EncodeRequest(m.Piece)));
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.Extended && m.ExtendedId == LocalExtensions.UtMetadataId,
            m => OnMetadataMessage(m.Payload ?? []));
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.Extended && m.ExtendedId == LocalExtensions.UtPexId,
            m => OnPex(m.Payload ?? []));
        Receive<Tick>(_ => OnTick());
        Connected();
    }

    private void OnMetadataMessage(byte[] payload)
    {
        if (!MetadataMessage.TryParse(new ReadOnlySequence<byte>(payload), out var message, out var unknown, out var error))
        {
            Misbehave(error);
            return;
        }
        if (unknown)
        {
            return; // BEP 9: ignore unknown msg_types.
        }
        switch (message.Type)
        {
            case MetadataMessageType.Request:
                Send(_peerMetadataId, MetadataMessage.EncodeReject(message.Piece));
                break;
            case MetadataMessageType.Data:
                _fetcher.Tell(new PieceArrived(_remote, message.Piece, message.TotalSize, message.Data));
                break;
            case MetadataMessageType.Reject:
                _fetcher.Tell(new PieceRejected(_remote, message.Piece));
                break;
        }
    }

    private void OnPex(byte[] payload)
    {
        // Only a hint for the fetch; a malformed one costs nothing (the peer layer polices PEX proper).
        if (PexMessage.TryParse(new ReadOnlySequence<byte>(payload), PexMessage.MaxPeersPerMessage, out var pex, out _)
            && pex.Added.Count > 0)
        {
            _fetcher.Tell(new PeersLearned([.. pex.Added.Select(p => p.EndPoint)]));
        }
    }

    /// <summary>What any connected state handles: the rest of the wire is ignored, the socket's end ends us.</summary>
    private void Connected()
    {
        Receive<RequestPiece>(_ => { });
        Receive<BlocksArrived>(m => m.ReleaseAll());
        Receive<WireMessage>(_ => { });
        Receive<HavesArrived>(_ => { });
        Receive<RequestsArrived>(_ => { });
        Receive<OutboxDrained>(_ => { });
        Receive<ConnectionFailed>(m => Misbehave(m.Reason));
        Receive<ConnectionClosed>(m => Close(m.Reason));
    }

    private void OnTick()
    {
        var settings = _context.Settings;
        if (_connection!.SinceLastReceived > settings.Timeouts.Idle)
        {
            Close($"nothing received for {settings.Timeouts.Idle}");
            return;
        }
        if (Now() - _lastSent >= settings.KeepAliveInterval)
        {
            _connection.SendKeepAlive();
            Flush();
        }
    }

    private void Send(byte id, byte[] payload)
    {
        _connection!.SendExtended(id, payload);
        Flush();
    }

    private void Flush()
    {
        _connection!.Flush();
        _lastSent = Now();
    }

    private void Close(string reason)
    {
        _log.Debug("Metadata peer {EndPoint} closed: {Reason}", _remote, reason);
        Context.Stop(Self);
    }

    private void Misbehave(string reason)
    {
        _log.Warning("Metadata peer {EndPoint} misbehaved: {Reason}", _remote, reason);
        _fetcher.Tell(new PeerMisbehaved(_remote, reason));
        Context.Stop(Self);
    }

    private TimeSpan TickInterval()
    {
        var shortest = new[] { _context.Settings.Timeouts.Idle, _context.Settings.KeepAliveInterval }.Min() / 4;
        return TimeSpan.FromTicks(Math.Clamp(shortest.Ticks, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.TicksPerSecond));
    }

    private static TimeSpan Now() => Stopwatch.GetElapsedTime(0);

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
}
