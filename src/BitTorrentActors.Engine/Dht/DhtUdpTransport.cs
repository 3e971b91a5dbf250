using System.Net;
using Akka.Actor;
using BitTorrentActors.Engine.Network;

namespace BitTorrentActors.Engine.Dht;

/// <summary>
/// <see cref="IDhtTransport"/> over a <see cref="UdpService"/>: in a session its shared socket (the datagrams
/// starting with 'd' are the node's, the rest the UDP tracker client's), for tests and tools a service of its own.
/// Every datagram for the node goes to it as a <see cref="DhtNodeActor.DatagramReceived"/>; sends go out
/// asynchronously. No actor state lives here.
/// </summary>
public sealed class DhtUdpTransport : IDhtTransport
{
    private readonly UdpService _udp;
    private readonly bool _ownsService;
    private readonly Func<IPAddress, bool> _allow;
    private readonly CancellationTokenSource _closing = new();
    private int _started;
    private long _refused;

    /// <summary>A transport with a socket of its own (tests, tools).</summary>
    /// <param name="bind">The local address and port (port 0 picks one).</param>
    /// <param name="allow">Destinations the node may send to (the session's loopback-only guard); null: any.</param>
    public DhtUdpTransport(IPEndPoint bind, Func<IPAddress, bool>? allow = null)
    {
        ArgumentNullException.ThrowIfNull(bind);
        _udp = new UdpService(bind.Address);
        _ownsService = true;
        _allow = allow ?? (static _ => true);
        try
        {
            LocalEndPoint = _udp.Bind(bind.Port);
        }
        catch
        {
            _udp.Dispose();
            throw;
        }
    }

    /// <summary>The node's side of the session's shared socket, already bound by the session (<see cref="UdpService.TryBind"/>).</summary>
    public DhtUdpTransport(UdpService shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        _udp = shared;
        _allow = shared.Allows;
        LocalEndPoint = shared.LocalEndPoint ?? throw new InvalidOperationException("the session's UDP socket is not bound");
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Sends refused by the address filter, for the node's status and the guard's test.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public void Start(IActorRef receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            throw new InvalidOperationException("the DHT transport is already started");
        }
        _udp.SetKrpcHandler((datagram, from) => receiver.Tell(new DhtNodeActor.DatagramReceived(datagram.ToArray(), from)));
    }

    public bool Send(ReadOnlyMemory<byte> datagram, IPEndPoint destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!_allow(destination.Address))
        {
            Interlocked.Increment(ref _refused);
            return false;
        }
        if (_closing.IsCancellationRequested || destination.AddressFamily != LocalEndPoint.AddressFamily)
        {
            return false;
        }
        _ = SendAsync(datagram, destination);
        return true;
    }

    /// <summary>Detaches the node; the session's socket stays open for the trackers (it closes with the session).</summary>
    public void Dispose()
    {
        if (_closing.IsCancellationRequested)
        {
            return;
        }
        _closing.Cancel();
        _udp.SetKrpcHandler(null);
        if (_ownsService)
        {
            _udp.Dispose();
        }
    }

    private async Task SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint destination)
    {
        try
        {
            await _udp.SendAsync(datagram, destination, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // UDP is lossy anyway: the query's timeout deals with a datagram that never left.
        }
    }
}
