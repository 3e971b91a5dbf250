using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using BitTorrentActors.Protocol.Dht;

namespace BitTorrentActors.Engine.Dht;

/// <summary>
/// <see cref="IDhtTransport"/> over its own UDP socket bound to one address (until the session shares its UDP
/// service with the node). A receive loop tells the node every datagram; sends go out asynchronously. No actor
/// state lives here: the socket and a cancellation source are all it holds.
/// </summary>
public sealed class DhtUdpTransport : IDhtTransport
{
    // Room for a datagram longer than KRPC allows, so the codec sees (and refuses) it whole instead of truncated.
    private const int ReceiveBuffer = KrpcCodec.MaxDatagramLength + 512;

    private readonly Socket _socket;
    private readonly Func<IPAddress, bool> _allow;
    private readonly CancellationTokenSource _closing = new();
    private int _started;

    /// <param name="bind">The local address and port (bta.listen-address and the DHT port; port 0 picks one).</param>
    /// <param name="allow">Destinations the node may send to (the session's loopback-only guard); null: any.</param>
    public DhtUdpTransport(IPEndPoint bind, Func<IPAddress, bool>? allow = null)
    {
        ArgumentNullException.ThrowIfNull(bind);
        _allow = allow ?? (static _ => true);
        _socket = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.Bind(bind);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Sends refused by the address filter, for the node's status and the guard's test.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    private long _refused;

    public void Start(IActorRef receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            throw new InvalidOperationException("the DHT transport is already started");
        }
        _ = ReceiveLoop(receiver, _closing.Token);
    }

    public bool Send(ReadOnlyMemory<byte> datagram, IPEndPoint destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!_allow(destination.Address))
        {
            Interlocked.Increment(ref _refused);
            return false;
        }
        if (_closing.IsCancellationRequested || destination.AddressFamily != _socket.AddressFamily)
        {
            return false;
        }
        _ = SendAsync(datagram, destination);
        return true;
    }

    public void Dispose()
    {
        if (!_closing.IsCancellationRequested)
        {
            _closing.Cancel();
        }
        _socket.Dispose();
    }

    private async Task SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint destination)
    {
        try
        {
            await _socket.SendToAsync(datagram, SocketFlags.None, destination, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // UDP is lossy anyway: the query's timeout deals with a datagram that never left.
        }
    }

    private async Task ReceiveLoop(IActorRef receiver, CancellationToken token)
    {
        var buffer = new byte[ReceiveBuffer];
        EndPoint any = _socket.AddressFamily == AddressFamily.InterNetworkV6
            ? new IPEndPoint(IPAddress.IPv6Any, 0)
            : new IPEndPoint(IPAddress.Any, 0);
        while (!token.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                // An ICMP error surfacing on the socket (port unreachable, message too long): not fatal.
                continue;
            }
            receiver.Tell(new DhtNodeActor.DatagramReceived(buffer.AsSpan(0, received.ReceivedBytes).ToArray(),
                (IPEndPoint)received.RemoteEndPoint));
        }
    }
}
