using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using BitTorrentActors.Protocol.Lsd;

namespace BitTorrentActors.Engine.Lsd;

/// <summary>
/// <see cref="ILsdTransport"/> on a UDP socket bound to port 6771 of every address with SO_REUSEADDR (other
/// clients on the host bind it too), in the group 239.192.152.143 on the interface of bta.listen-address, sending
/// there with 32 hops and multicast loopback on: libtorrent's socket exactly (<c>lsd::start</c>). Only the
/// session makes one, and only where <see cref="LsdGuard"/> allows. No actor state lives here.
/// </summary>
public sealed class LsdUdpTransport : ILsdTransport
{
    private readonly Socket _socket;
    private readonly IPEndPoint _group = new(IPAddress.Parse(LsdMessage.Group4), LsdMessage.GroupPort);
    private readonly CancellationTokenSource _closing = new();
    private int _started;

    /// <param name="interfaceAddress">The IPv4 address whose interface joins the group and sends (the listen
    /// address); <see cref="IPAddress.Any"/>: the kernel's choice.</param>
    public LsdUdpTransport(IPAddress interfaceAddress)
    {
        ArgumentNullException.ThrowIfNull(interfaceAddress);
        if (interfaceAddress.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new SocketException((int)SocketError.AddressFamilyNotSupported);
        }
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _socket.Bind(new IPEndPoint(IPAddress.Any, LsdMessage.GroupPort));
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership,
                new MulticastOption(_group.Address, interfaceAddress));
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 32);
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true);
            if (!interfaceAddress.Equals(IPAddress.Any))
            {
                _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface,
                    interfaceAddress.GetAddressBytes());
            }
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        Description = $"{_group} on {interfaceAddress}";
    }

    public string Description { get; }

    public void Start(IActorRef receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            throw new InvalidOperationException("the LSD transport is already started");
        }
        _ = ReceiveLoop(receiver, _closing.Token);
    }

    public bool Send(ReadOnlyMemory<byte> datagram)
    {
        if (_closing.IsCancellationRequested)
        {
            return false;
        }
        _ = SendAsync(datagram);
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

    private async Task SendAsync(ReadOnlyMemory<byte> datagram)
    {
        try
        {
            await _socket.SendToAsync(datagram, SocketFlags.None, _group, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Multicast is lossy anyway: the next interval announces again.
        }
    }

    private async Task ReceiveLoop(IActorRef receiver, CancellationToken token)
    {
        // One byte more than an announce may have, so the codec sees (and refuses) a longer one instead of a cut one.
        var buffer = new byte[LsdMessage.MaxDatagramLength + 1];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
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
                continue;
            }
            receiver.Tell(new LsdActor.DatagramReceived(buffer.AsSpan(0, received.ReceivedBytes).ToArray(),
                (IPEndPoint)received.RemoteEndPoint));
        }
    }
}
