using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Network;

/// <summary>
/// One per process: accepts TCP connections on the listen address and port, reads the first 48 bytes of each
/// handshake (up to the info-hash) within the handshake timeout, and hands the connection to the coordinator
/// registered for that info-hash; unknown info-hashes and connections over the global limit are closed. The
/// accept loop and the prefix reads run as tasks and only send messages here.
/// </summary>
public sealed class ListenerActor : ReceiveActor
{
    /// <summary>From a coordinator: route connections for this info-hash to me (unregistered when I stop).</summary>
    public sealed record RegisterTorrent(InfoHash InfoHash, IActorRef Coordinator);

    /// <summary>From a coordinator: how many connections (incoming and outgoing) it has now; the listener adds
    /// them up to hold the process-wide <c>max-connections</c>.</summary>
    public sealed record ConnectionCount(InfoHash InfoHash, int Count);

    /// <summary>To a coordinator: a peer connected to us for its torrent. The whole handshake is still unread in
    /// <paramref name="Transport"/>, which the coordinator now owns (and disposes if it refuses the peer).</summary>
    public sealed record IncomingPeer(IDuplexPipe Transport, IPEndPoint Remote) : INoSerializationVerificationNeeded;

    /// <summary>From the session: the most connections across all torrents (RPC peer-limit-global).</summary>
    public sealed record SetMaxConnections(int Limit);

    /// <summary>Ask where the listener is bound; replies <see cref="Bound"/> (EndPoint null when binding failed).</summary>
    public sealed record GetBound
    {
        public static readonly GetBound Instance = new();
    }

    /// <summary>Where the listener is bound, or (EndPoint null) why it could not bind. Also told to the parent
    /// once the bind is tried, so the session announces the port actually bound (port 0 binds any free one).
    /// Local only (parent and child, or a caller in the same process): an IPEndPoint is not serialisable.</summary>
    public sealed record Bound(IPEndPoint? EndPoint, string? Error = null) : INoSerializationVerificationNeeded;

    private sealed record Accepted(Socket Socket) : INoSerializationVerificationNeeded;

    private sealed record PrefixRead(SocketTransport Transport, IPEndPoint Remote, InfoHash? InfoHash, string? Error) : INoSerializationVerificationNeeded
    {
        public PendingHandshake Wait { get; init; } = null!;
    }

    /// <summary>An accepted socket whose handshake prefix is being read; cancelling it closes the read.</summary>
    private sealed record PendingHandshake(IPEndPoint Remote, CancellationTokenSource Cancel);

    private sealed record AcceptFailed(string Reason);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IPEndPoint _bindTo;
    private int _maxConnections;
    private readonly TimeSpan _handshakeTimeout;
    private readonly Dictionary<InfoHash, IActorRef> _torrents = [];
    private readonly Dictionary<InfoHash, int> _counts = [];
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _socket;
    private string? _bindError;
    private int _pending;
    // Oldest first: the one to close when too many sockets are silent.
    private readonly LinkedList<PendingHandshake> _waiting = new();

    public ListenerActor(IPAddress address, int port, int maxConnections, TimeSpan handshakeTimeout)
    {
        _bindTo = new IPEndPoint(address, port);
        _maxConnections = maxConnections;
        _handshakeTimeout = handshakeTimeout;
        Receive<RegisterTorrent>(OnRegister);
        Receive<SetMaxConnections>(m => _maxConnections = Math.Max(1, m.Limit));
        Receive<ConnectionCount>(m =>
        {
            if (_torrents.ContainsKey(m.InfoHash))
            {
                _counts[m.InfoHash] = m.Count;
            }
        });
        Receive<Terminated>(m => Unregister(m.ActorRef));
        Receive<GetBound>(_ => Sender.Tell(BoundNow()));
        Receive<Accepted>(m => OnAccepted(m.Socket));
        Receive<PrefixRead>(OnPrefixRead);
        Receive<AcceptFailed>(m => _log.Error("The peer listener on {EndPoint} stopped accepting: {Reason}", _bindTo, m.Reason));
    }

    public static Props Props(IPAddress address, int port, int maxConnections, TimeSpan handshakeTimeout) =>
        Akka.Actor.Props.Create(() => new ListenerActor(address, port, maxConnections, handshakeTimeout));

    /// <summary>Connections counted against the limit: those the coordinators hold plus those still handshaking.</summary>
    private int Total => _counts.Values.Sum() + _pending;

    /// <summary>Incoming connections still waiting for their handshake, at most.</summary>
    private int MaxPendingHandshakes => Math.Max(4, _maxConnections / 4);

    protected override void PreStart()
    {
        var socket = new Socket(_bindTo.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(_bindTo);
            socket.Listen(128);
        }
        catch (SocketException ex)
        {
            // Downloading still works by dialling out; only incoming peers are lost. The parent hears why and
            // decides (the command line refuses to run; a daemon carries on), so this is a warning, not an error.
            socket.Dispose();
            _bindError = ex.Message;
            _log.Warning("Cannot listen for peers on {EndPoint}: {Reason}", _bindTo, ex.Message);
            Context.Parent.Tell(BoundNow());
            return;
        }

        _socket = socket;
        _log.Info("Listening for peers on {EndPoint}", socket.LocalEndPoint);
        Context.Parent.Tell(BoundNow());
        var self = Self;
        var token = _stopping.Token;
        _ = Task.Run(() => AcceptLoopAsync(socket, self, token));
    }

    private Bound BoundNow() => new(_socket?.LocalEndPoint as IPEndPoint, _bindError);

    protected override void PostStop()
    {
        _stopping.Cancel();
        _socket?.Dispose();
        _stopping.Dispose();
    }

    private static async Task AcceptLoopAsync(Socket socket, IActorRef self, CancellationToken token)
    {
        try
        {
            while (!token.IsCancellationRequested)
            {
                var accepted = await socket.AcceptAsync(token).ConfigureAwait(false);
                self.Tell(new Accepted(accepted));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException && token.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            self.Tell(new AcceptFailed(ex.Message));
        }
    }

    private void OnRegister(RegisterTorrent message)
    {
        _torrents[message.InfoHash] = message.Coordinator;
        _counts[message.InfoHash] = 0;
        Context.Watch(message.Coordinator);
    }

    private void Unregister(IActorRef coordinator)
    {
        foreach (var (infoHash, _) in _torrents.Where(t => t.Value.Equals(coordinator)).ToList())
        {
            _torrents.Remove(infoHash);
            _counts.Remove(infoHash);
        }
    }

    private void OnAccepted(Socket socket)
    {
        var remote = socket.RemoteEndPoint as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);
        if (Total >= _maxConnections)
        {
            _log.Debug("Refused {Remote}: {Total} connections, the limit is {Limit}", remote, Total, _maxConnections);
            socket.Dispose();
            return;
        }
        if (_waiting.Count >= MaxPendingHandshakes && _waiting.First is { } oldest)
        {
            // Sockets that have not sent their handshake hold a quarter of the budget at most, and the longest
            // silent one makes way for the newcomer: a crowd of idle connections can neither use up the budget
            // nor keep a peer that talks from being heard (issue 17, item 6).
            _log.Debug("Closing {Remote}: the oldest of {Pending} connections without a handshake", oldest.Value.Remote, _waiting.Count);
            _waiting.RemoveFirst();
            oldest.Value.Cancel.Cancel();
        }

        _pending++;
        var transport = new SocketTransport(socket);
        var wait = new PendingHandshake(remote, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
        wait.Cancel.CancelAfter(_handshakeTimeout);
        _waiting.AddLast(wait);
        ReadPrefixAsync(transport, remote, _handshakeTimeout, wait).PipeTo(Self);
    }

    private static async Task<PrefixRead> ReadPrefixAsync(SocketTransport transport, IPEndPoint remote, TimeSpan timeout, PendingHandshake wait)
    {
        // Cancelled by the handshake timeout, by the listener stopping, or to make way for a newer connection;
        // disposed by the actor once it has this read's result.
        var timer = wait.Cancel;
        var infoHash = new byte[Handshake.InfoHashLength];
        try
        {
            while (true)
            {
                var result = await transport.Input.ReadAsync(timer.Token).ConfigureAwait(false);
                var status = Handshake.TryReadPrefix(result.Buffer, infoHash, out _);
                if (status == HandshakeReadStatus.Complete)
                {
                    // Nothing consumed, nothing marked examined: the peer's reader sees the whole handshake at once.
                    transport.Input.AdvanceTo(result.Buffer.Start);
                    return new PrefixRead(transport, remote, new InfoHash(infoHash), null) { Wait = wait };
                }

                if (status == HandshakeReadStatus.Invalid)
                {
                    return new PrefixRead(transport, remote, null, "not a BitTorrent handshake") { Wait = wait };
                }

                transport.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                if (result.IsCompleted)
                {
                    return new PrefixRead(transport, remote, null, "closed during the handshake") { Wait = wait };
                }
            }
        }
        catch (OperationCanceledException)
        {
            return new PrefixRead(transport, remote, null, $"no handshake within {timeout}") { Wait = wait };
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            return new PrefixRead(transport, remote, null, ex.Message) { Wait = wait };
        }
    }

    private void OnPrefixRead(PrefixRead message)
    {
        _pending--;
        _waiting.Remove(message.Wait);
        message.Wait.Cancel.Dispose();
        if (message.InfoHash is not { } infoHash)
        {
            _log.Debug("Dropped incoming {Remote}: {Reason}", message.Remote, message.Error);
            _ = message.Transport.DisposeAsync().AsTask();
            return;
        }

        if (!_torrents.TryGetValue(infoHash, out var coordinator))
        {
            _log.Debug("Dropped incoming {Remote}: unknown info-hash {InfoHash}", message.Remote, infoHash.ToHex());
            _ = message.Transport.DisposeAsync().AsTask();
            return;
        }

        // Counted at once, so a burst of connections cannot overshoot before the coordinator's next report.
        _counts[infoHash] = _counts.GetValueOrDefault(infoHash) + 1;
        coordinator.Tell(new IncomingPeer(message.Transport, message.Remote));
    }
}
