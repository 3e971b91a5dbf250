using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BitTorrentActors.Engine.Tests.Swarm;

namespace BitTorrentActors.Engine.Tests.Hostile;

/// <summary>What a <see cref="ScriptedPeer"/> does once our client has dialled it.</summary>
public enum HostileBehaviour
{
    /// <summary>Handshake, full bitfield, unchoke, serves every request with the right bytes.</summary>
    Honest,

    /// <summary>As honest, but every block it serves has bytes flipped.</summary>
    CorruptBlocks,

    /// <summary>Answers the handshake with another torrent's info-hash.</summary>
    WrongInfoHash,

    /// <summary>After the handshake, a frame whose length prefix is 0x7FFFFFFF, then a stream of junk.</summary>
    OversizedLength,

    /// <summary>After the handshake, a frame whose length prefix is 0xFFFFFFF0 (negative as an int32).</summary>
    NegativeLength,

    /// <summary>A bitfield one byte longer than the torrent's piece count allows.</summary>
    WrongSizeBitfield,

    /// <summary>Full bitfield, never unchokes, then a stream of piece blocks nobody asked for.</summary>
    UnrequestedBlocks,

    /// <summary>Full bitfield, interested, then thousands of request messages.</summary>
    RequestFlood,

    /// <summary>No pieces, says interested, then never requests a block (an idle leecher): reads until closed.</summary>
    InterestedIdle,

    /// <summary>Full bitfield, then nothing: never unchokes, sends no keep-alive, reads until closed.</summary>
    NeverUnchokes,

    /// <summary>Full bitfield, never unchokes, then an endless stream of have messages for pieces it already claimed.</summary>
    HaveFlood,

    /// <summary>Accepts the TCP connection, reads the client's handshake and never sends a byte.</summary>
    Silent,

    /// <summary>A few frames with ids no BEP defines, then serves honestly.</summary>
    UnknownIdsThenHonest,

    /// <summary>Sets the BEP 10 bit; full bitfield, then an extension handshake that is not bencode.</summary>
    MalformedExtended,

    /// <summary>Sets the BEP 10 bit; full bitfield, an extension handshake, then seven ut_pex messages at once.</summary>
    PexFlood,

    /// <summary>Sets the BEP 10 bit; full bitfield, an extension handshake, then ut_pex messages of
    /// <see cref="ScriptedPeer.PexFloodSize"/> fresh dead loopback addresses each, back to back, until closed.</summary>
    PexAddressFlood,

    /// <summary>As <see cref="PexAddressFlood"/>, but only the six messages a minute libtorrent allows, then it
    /// never unchokes and reads until closed.</summary>
    PexAddressesAtLimit,
}

/// <summary>
/// A scripted BitTorrent peer on 127.0.0.1 (port chosen by the OS) for our client to dial. It serves
/// <see cref="SwarmContent"/> bytes (or lies about them) according to a <see cref="HostileBehaviour"/> and records
/// every connection: when it came, when the client closed it, what crossed. Every session and the listener stop
/// at <c>lifetime</c> or on Dispose, whichever comes first.
/// </summary>
public sealed partial class ScriptedPeer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _lifetime;
    private readonly ConcurrentQueue<ScriptedConnection> _connections = new();
    private readonly ConcurrentBag<Task> _sessions = [];
    /// <summary>One clock for every scripted peer in the process, so times of different peers compare.</summary>
    private static readonly long Epoch = Stopwatch.GetTimestamp();

    private readonly byte[] _content;
    private readonly int _pieceLength;
    private readonly byte[] _infoHash;
    private readonly Task _acceptLoop;

    public ScriptedPeer(SwarmTorrent torrent, HostileBehaviour behaviour, TimeSpan lifetime, TimeSpan blockDelay = default, bool interleaveBatches = false)
    {
        Behaviour = behaviour;
        BlockDelay = blockDelay;
        InterleaveBatches = interleaveBatches;
        _content = [.. torrent.Content.Files.SelectMany(f => f.Bytes)];
        _pieceLength = torrent.Content.PieceLength;
        PieceCount = (int)((_content.LongLength + _pieceLength - 1) / _pieceLength);
        _infoHash = torrent.InfoHash.ToArray();
        _lifetime = new CancellationTokenSource(lifetime);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public HostileBehaviour Behaviour { get; }

    /// <summary>Pause before each served block: slows an honest source so the hostile peer is met mid-download.</summary>
    public TimeSpan BlockDelay { get; }

    /// <summary>Answers the requests that arrived together one block of each piece at a time, last blocks first
    /// (legal, and it leaves a corrupt peer's blocks in several started pieces before any of them completes).</summary>
    public bool InterleaveBatches { get; }

    public IPEndPoint EndPoint { get; }

    /// <summary>The accept loop: it ends without a fault however the peer is disposed.</summary>
    internal Task AcceptLoop => _acceptLoop;

    /// <summary>The command-line argument that makes our client dial this peer.</summary>
    public string PeerArgument => $"{EndPoint.Address}:{EndPoint.Port}";

    public int PieceCount { get; }

    /// <summary>Every connection accepted so far, in order.</summary>
    public IReadOnlyList<ScriptedConnection> Connections => [.. _connections];

    /// <summary>The clock every <see cref="ScriptedConnection"/> time is on, shared by all scripted peers.</summary>
    public static TimeSpan Now => Stopwatch.GetElapsedTime(Epoch);

    /// <summary>Waits until the first connection was closed by the client (or the peer's lifetime ended).</summary>
    public async Task<ScriptedConnection> WaitForFirstCloseAsync(TimeSpan timeout)
    {
        using var bounded = new CancellationTokenSource(timeout);
        while (_connections.IsEmpty)
        {
            await Task.Delay(20, bounded.Token).ConfigureAwait(false);
        }
        var first = Connections[0];
        await first.Closed.WaitAsync(bounded.Token).ConfigureAwait(false);
        return first;
    }

    /// <summary>One line per connection, for assertion messages.</summary>
    public string Describe() =>
        $"{Behaviour} peer {EndPoint}: {_connections.Count} connection(s)\n"
        + string.Join('\n', Connections.Select(c => "  " + c));

    public void Dispose()
    {
        // Cancel before Stop, so the accept loop knows any exception from here on is the stop.
        _lifetime.Cancel();
        _listener.Stop();
        try
        {
            // The loop first: once it ended no session is added, so the snapshot below is complete. ToArray is
            // ConcurrentBag's atomic snapshot (spreading the bag while the loop adds to it threw IndexOutOfRange).
            _acceptLoop.Wait(TimeSpan.FromSeconds(5));
            Task.WhenAll(_sessions.ToArray()).Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Sessions end by cancellation or a reset socket; what they recorded is all that matters.
        }
        _lifetime.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_lifetime.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_lifetime.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_lifetime.IsCancellationRequested)
            {
                // Lifetime over or disposed. TcpListener.Stop racing an accept throws OperationCanceledException,
                // SocketException, ObjectDisposedException, InvalidOperationException or NullReferenceException.
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                // A client that reset before it was accepted: keep accepting.
                continue;
            }
            var connection = new ScriptedConnection(_connections.Count + 1, Now);
            _connections.Enqueue(connection);
            _sessions.Add(Task.Run(() => RunSessionAsync(socket, connection)));
        }
    }

    private async Task RunSessionAsync(Socket socket, ScriptedConnection connection)
    {
        socket.NoDelay = true;
        using var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            await ScriptAsync(stream, connection, _lifetime.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or TimeoutException)
        {
            connection.Note(ex is OperationCanceledException ? "lifetime ended" : ex.GetType().Name + ": " + ex.Message);
        }
        finally
        {
            // However the script ended, the connection is over now; a client close seen earlier keeps its time.
            connection.MarkClosed(Now, byClient: false);
        }
    }
}
