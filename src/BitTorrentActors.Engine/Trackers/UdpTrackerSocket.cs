using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using BitTorrentActors.Engine.Network;
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
/// <summary>
/// The UDP tracker client's side of the session's <see cref="UdpService"/> (BEP 15): it hands each reply to the
/// request waiting for its transaction id, and keeps the connection ids trackers gave us. It holds no actor
/// state: actors only await the tasks it returns (piped back to them), so the concurrent dictionaries below are
/// its only shared state and no lock is needed.
/// </summary>
/// <remarks>
/// The session's instance shares the session's socket with the DHT node (see <c>SessionServices</c>); <c>bta
/// peers</c>, <c>bta scrape</c> and tests make their own, which opens a service of its own on an ephemeral port. A
/// reply is accepted only when its transaction id is one we are waiting for and it came from the endpoint that
/// request went to; anything else (late, forged, wrong id, a DHT datagram's neighbour) is dropped.
/// </remarks>
public sealed class UdpTrackerSocket : IDisposable
{
    private readonly ConcurrentDictionary<int, Pending> _pending = new();
    private readonly ConcurrentDictionary<IPEndPoint, ConnectionId> _connectionIds = new();
    private readonly UdpService _udp;
    private readonly bool _ownsService;
    private long _ignored;

    /// <summary>A client with a UDP service of its own (commands and tests).</summary>
    /// <param name="bindAddress">The local address (bta.listen-address); null or any: every interface.</param>
    /// <param name="allow">Destinations it may send to (the session's loopback-only guard); null: any.</param>
    public UdpTrackerSocket(IPAddress? bindAddress = null, Func<IPAddress, bool>? allow = null)
        : this(new UdpService(bindAddress, allow), ownsService: true)
    {
    }

    /// <summary>A client on the session's shared socket: it takes every datagram not for the DHT.</summary>
    public UdpTrackerSocket(UdpService shared)
        : this(shared, ownsService: false)
    {
    }

    private UdpTrackerSocket(UdpService udp, bool ownsService)
    {
        ArgumentNullException.ThrowIfNull(udp);
        _udp = udp;
        _ownsService = ownsService;
        _udp.SetTrackerHandler(Dispatch);
    }

    /// <summary>Datagrams dropped because nobody waited for their transaction id from their sender.</summary>
    public long IgnoredDatagrams => Interlocked.Read(ref _ignored);

    /// <summary>False for a destination the session must never send to.</summary>
    public bool Allows(IPAddress address) => _udp.Allows(address);

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
        if (!_udp.Allows(tracker.Address))
        {
            // The guard holds here too, whoever calls: not one datagram leaves for a refused address.
            throw new SocketException((int)SocketError.AccessDenied);
        }
        var (transactionId, pending) = Register(tracker);
        try
        {
            var datagram = write(transactionId);
            for (var attempt = 0; attempt < attempts; attempt++)
            {
                await _udp.SendAsync(datagram, tracker, cancellationToken).ConfigureAwait(false);
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
        _udp.SetTrackerHandler(null);
        if (_ownsService)
        {
            _udp.Dispose();
        }
        foreach (var pending in _pending.Values)
        {
            // A request in flight ends now rather than waiting out its retransmissions on a closed socket.
            pending.Reply.TrySetException(new ObjectDisposedException(nameof(UdpTrackerSocket)));
        }
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
