using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Trackers;

/// <summary>
/// The one UDP service every torrent shares (BEP 15): one socket per address family, opened on first use, a
/// receive loop that hands each datagram to the request waiting for its transaction id, and the connection ids
/// trackers gave us. It holds no actor state: actors only await the tasks it returns (piped back to them), so the
/// concurrent dictionaries below are its only shared state and no lock is needed.
/// </summary>
/// <remarks>
/// The session owns one instance (see <c>SessionServices</c>) and disposes it when it stops; <c>bta peers</c>,
/// <c>bta scrape</c> and tests make their own. Its sockets bind to the configured listen address. A reply is accepted only when
/// its transaction id is one we are waiting for and it came from the endpoint that request went to; anything
/// else (late, forged, wrong id) is dropped.
/// </remarks>
public sealed class UdpTrackerSocket : IDisposable
{
    private const int MaxDatagram = 64 * 1024;

    private readonly ConcurrentDictionary<int, Pending> _pending = new();
    private readonly ConcurrentDictionary<IPEndPoint, ConnectionId> _connectionIds = new();
    private readonly Lazy<Socket> _v4;
    private readonly Lazy<Socket> _v6;
    private readonly CancellationTokenSource _closing = new();
    private readonly IPAddress _bindAddress;
    private readonly Func<IPAddress, bool> _allow;
    private long _ignored;

    /// <param name="bindAddress">The local address (bta.listen-address); null or any: every interface. A socket
    /// of the other family than the address binds that family's any-address.</param>
    /// <param name="allow">Destinations it may send to (the session's loopback-only guard); null: any.</param>
    public UdpTrackerSocket(IPAddress? bindAddress = null, Func<IPAddress, bool>? allow = null)
    {
        _bindAddress = bindAddress ?? IPAddress.Any;
        _allow = allow ?? (static _ => true);
        _v4 = new Lazy<Socket>(() => Open(AddressFamily.InterNetwork), LazyThreadSafetyMode.ExecutionAndPublication);
        _v6 = new Lazy<Socket>(() => Open(AddressFamily.InterNetworkV6), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Datagrams dropped because nobody waited for their transaction id from their sender.</summary>
    public long IgnoredDatagrams => Interlocked.Read(ref _ignored);

    /// <summary>False for a destination the session must never send to.</summary>
    public bool Allows(IPAddress address) => _allow(address);

    /// <summary>A connection id received from <paramref name="tracker"/> less than a minute ago, if any.</summary>
    public bool TryGetConnectionId(IPEndPoint tracker, out long connectionId)
    {
        connectionId = 0;
        if (_connectionIds.TryGetValue(tracker, out var known) && DateTime.UtcNow < known.Expires)
        {
            connectionId = known.Id;
            return true;
        }
        return false;
    }

    public void RememberConnectionId(IPEndPoint tracker, long connectionId, DateTime receivedUtc) =>
        _connectionIds[tracker] = new ConnectionId(connectionId, receivedUtc + UdpTrackerPackets.ConnectionIdLifetime);

    /// <summary>Forgets the tracker's connection id (after an error the next request connects afresh).</summary>
    public void ForgetConnectionId(IPEndPoint tracker) => _connectionIds.TryRemove(tracker, out _);

    /// <summary>
    /// Sends the request built by <paramref name="write"/> for a fresh random transaction id and waits for the
    /// reply, retransmitting the same datagram after baseTimeout * 2^n (n = 0, 1, ..., capped at 8) up to
    /// <paramref name="attempts"/> sends. Returns the reply, or null when every wait ran out. Socket errors throw
    /// <see cref="SocketException"/>; cancellation throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<byte[]?> RequestAsync(
        IPEndPoint tracker, Func<int, byte[]> write, TimeSpan baseTimeout, int attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tracker);
        ArgumentNullException.ThrowIfNull(write);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(attempts);
        if (!_allow(tracker.Address))
        {
            // The guard holds here too, whoever calls: not one datagram leaves for a refused address.
            throw new SocketException((int)SocketError.AccessDenied);
        }
        var socket = SocketFor(tracker.AddressFamily);
        var (transactionId, pending) = Register(tracker);
        try
        {
            var datagram = write(transactionId);
            for (var attempt = 0; attempt < attempts; attempt++)
            {
                await socket.SendToAsync(datagram, SocketFlags.None, tracker, cancellationToken).ConfigureAwait(false);
                try
                {
                    return await pending.Reply.Task
                        .WaitAsync(UdpTrackerPackets.RetransmitTimeout(attempt, baseTimeout), cancellationToken)
                        .ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // BEP 15: no answer within the wait, send the same request again and wait twice as long.
                }
            }
            return null;
        }
        finally
        {
            _pending.TryRemove(transactionId, out _);
        }
    }

    public void Dispose()
    {
        _closing.Cancel();
        if (_v4.IsValueCreated)
        {
            _v4.Value.Dispose();
        }
        if (_v6.IsValueCreated)
        {
            _v6.Value.Dispose();
        }
        _closing.Dispose();
    }

    private (int TransactionId, Pending Pending) Register(IPEndPoint tracker)
    {
        var pending = new Pending(tracker,
            new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        while (true)
        {
            // Random ids (not a counter): an off-path sender cannot guess which reply we are waiting for.
            var id = BinaryPrimitives.ReadInt32LittleEndian(RandomNumberGenerator.GetBytes(sizeof(int)));
            if (_pending.TryAdd(id, pending))
            {
                return (id, pending);
            }
        }
    }

    private Socket SocketFor(AddressFamily family)
    {
        ObjectDisposedException.ThrowIf(_closing.IsCancellationRequested, this);
        return family switch
        {
            AddressFamily.InterNetwork => _v4.Value,
            AddressFamily.InterNetworkV6 => _v6.Value,
            _ => throw new SocketException((int)SocketError.AddressFamilyNotSupported),
        };
    }

    private Socket Open(AddressFamily family)
    {
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
            socket.Bind(new IPEndPoint(local, 0));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _ = Task.Run(() => ReceiveLoopAsync(socket));
        return socket;
    }

    private async Task ReceiveLoopAsync(Socket socket)
    {
        var buffer = new byte[MaxDatagram];
        EndPoint any = new IPEndPoint(
            socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (!_closing.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _closing.Token)
                    .ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // An ICMP "port unreachable" from an earlier send can surface here (Windows, some stacks): it
                // belongs to no request we could name, and the request's own timeout reports it.
                continue;
            }
            Dispatch(buffer.AsSpan(0, received.ReceivedBytes), (IPEndPoint)received.RemoteEndPoint);
        }
    }

    private void Dispatch(ReadOnlySpan<byte> datagram, IPEndPoint from)
    {
        if (datagram.Length >= 8
            && _pending.TryGetValue(BinaryPrimitives.ReadInt32BigEndian(datagram[4..]), out var pending)
            && SameEndPoint(pending.Tracker, from))
        {
            pending.Reply.TrySetResult(datagram.ToArray());
            return;
        }
        Interlocked.Increment(ref _ignored);
    }

    private static bool SameEndPoint(IPEndPoint expected, IPEndPoint actual) =>
        expected.Port == actual.Port
        && (expected.Address.Equals(actual.Address)
            || (actual.Address.IsIPv4MappedToIPv6 && expected.Address.Equals(actual.Address.MapToIPv4())));

    private sealed record Pending(IPEndPoint Tracker, TaskCompletionSource<byte[]> Reply);

    private readonly record struct ConnectionId(long Id, DateTime Expires);
}
