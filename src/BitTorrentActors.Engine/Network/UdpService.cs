using System.Net;
using System.Net.Sockets;

namespace BitTorrentActors.Engine.Network;

/// <summary>One datagram as received, handed to the service's handler on its receive loop (copy what is kept).</summary>
public delegate void DatagramHandler(ReadOnlySpan<byte> datagram, IPEndPoint from);

/// <summary>
/// The session's UDP socket, one per address family, shared by the DHT node and the UDP tracker client and
/// demultiplexed by the first byte as libtorrent does (session_impl::on_udp_packet): a KRPC message is a bencoded
/// dictionary, so it starts with 'd'; a BEP 15 tracker reply starts with its 4-byte big-endian action 0..3, so its
/// first byte is 0x00. Datagrams for a part with no handler (no DHT in this session) are dropped and counted.
/// </summary>
/// <remarks>
/// The socket of bta.listen-address's family binds the port given to <see cref="TryBind"/> (the DHT port) when
/// the session calls it before first use; otherwise, and for the other family, an ephemeral port. No actor state
/// lives here: the sockets, the two handlers (set once by their owners, read by the receive loop) and counters.
/// The lock guards only the opening of a socket, never a send or a receive.
/// </remarks>
public sealed class UdpService : IDisposable
{
    // Room for a datagram longer than any part accepts, so each part sees (and refuses) it whole, not truncated.
    private const int MaxDatagram = 64 * 1024;

    private readonly IPAddress _bindAddress;
    private readonly Func<IPAddress, bool> _allow;
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _opening = new();
    private volatile Socket? _v4;
    private volatile Socket? _v6;
    private volatile DatagramHandler? _krpc;
    private volatile DatagramHandler? _tracker;
    private long _dropped;

    /// <param name="bindAddress">The local address (bta.listen-address); null or any: every interface. A socket
    /// of the other family than the address binds that family's any-address.</param>
    /// <param name="allow">Destinations it may send to (the session's loopback-only guard); null: any.</param>
    public UdpService(IPAddress? bindAddress = null, Func<IPAddress, bool>? allow = null)
    {
        _bindAddress = bindAddress ?? IPAddress.Any;
        _allow = allow ?? (static _ => true);
    }

    /// <summary>Datagrams dropped because no part of the session takes their kind (or they were empty).</summary>
    public long DroppedDatagrams => Interlocked.Read(ref _dropped);

    /// <summary>False for a destination the session must never send to.</summary>
    public bool Allows(IPAddress address) => _allow(address);

    /// <summary>Where the socket of bta.listen-address's family is bound; null until it is opened.</summary>
    public IPEndPoint? LocalEndPoint => (Primary() is { } socket ? socket.LocalEndPoint : null) as IPEndPoint;

    /// <summary>
    /// Opens the socket of bta.listen-address's family on <paramref name="port"/> (0: any free port) and returns
    /// where it is bound; null with the reason when the port is taken. When it is already open (a tracker request
    /// came first) its endpoint is returned as it is: the port is not changed under a request in flight.
    /// </summary>
    public IPEndPoint? TryBind(int port, out string? error)
    {
        error = null;
        try
        {
            return Bind(port);
        }
        catch (SocketException e)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>As <see cref="TryBind"/>, throwing the socket's <see cref="SocketException"/>.</summary>
    public IPEndPoint Bind(int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, ushort.MaxValue);
        return (IPEndPoint)Open(_bindAddress.AddressFamily, port).LocalEndPoint!;
    }

    /// <summary>The DHT's datagrams (first byte 'd'); null: dropped. Set by the node's transport.</summary>
    public void SetKrpcHandler(DatagramHandler? handler) => _krpc = handler;

    /// <summary>Every other datagram (BEP 15 replies); null: dropped. Set by the UDP tracker client.</summary>
    public void SetTrackerHandler(DatagramHandler? handler) => _tracker = handler;

    /// <summary>
    /// Sends <paramref name="datagram"/> on the socket of the destination's family (opened on first use).
    /// Throws <see cref="SocketException"/> (access denied for a destination the guard refuses, or the socket's
    /// own error), <see cref="ObjectDisposedException"/> once the session closed it, or
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!_allow(destination.Address))
        {
            // The guard holds here too, whoever calls: not one datagram leaves for a refused address.
            throw new SocketException((int)SocketError.AccessDenied);
        }
        var socket = Open(destination.AddressFamily, 0);
        await socket.SendToAsync(datagram, SocketFlags.None, destination, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        lock (_opening)
        {
            if (_closing.IsCancellationRequested)
            {
                return;
            }
            _closing.Cancel();
            _v4?.Dispose();
            _v6?.Dispose();
        }
    }

    private Socket? Primary() => _bindAddress.AddressFamily == AddressFamily.InterNetworkV6 ? _v6 : _v4;

    private Socket Open(AddressFamily family, int port)
    {
        if ((family == AddressFamily.InterNetwork ? _v4 : family == AddressFamily.InterNetworkV6 ? _v6 : null) is { } open)
        {
            return open;
        }
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new SocketException((int)SocketError.AddressFamilyNotSupported);
        }
        lock (_opening)
        {
            ObjectDisposedException.ThrowIf(_closing.IsCancellationRequested, this);
            var existing = family == AddressFamily.InterNetwork ? _v4 : _v6;
            if (existing is not null)
            {
                return existing;
            }
            var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                if (family == AddressFamily.InterNetworkV6)
                {
                    socket.DualMode = false;
                }
                var local = _bindAddress.AddressFamily == family
                    ? _bindAddress
                    : family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any;
                // Only the listen address's family takes the DHT port; the other family's socket is for trackers.
                socket.Bind(new IPEndPoint(local, _bindAddress.AddressFamily == family ? port : 0));
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            if (family == AddressFamily.InterNetwork)
            {
                _v4 = socket;
            }
            else
            {
                _v6 = socket;
            }
            _ = Task.Run(() => ReceiveLoopAsync(socket));
            return socket;
        }
    }

    private async Task ReceiveLoopAsync(Socket socket)
    {
        var buffer = new byte[MaxDatagram];
        EndPoint any = new IPEndPoint(
            socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        var token = _closing.Token;
        while (!token.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // An ICMP error from an earlier send (port unreachable, message too long) surfacing here: it
                // belongs to no request we could name, and each part's own timeout deals with it.
                continue;
            }
            Dispatch(buffer.AsSpan(0, received.ReceivedBytes), (IPEndPoint)received.RemoteEndPoint);
        }
    }

    private void Dispatch(ReadOnlySpan<byte> datagram, IPEndPoint from)
    {
        var handler = datagram.Length == 0 ? null : datagram[0] == (byte)'d' ? _krpc : _tracker;
        if (handler is null)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        try
        {
            handler(datagram, from);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A handler's bug must not end the receive loop that every other part of the session depends on.
            Interlocked.Increment(ref _dropped);
        }
    }
}
