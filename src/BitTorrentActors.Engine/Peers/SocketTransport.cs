using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace BitTorrentActors.Engine.Peers;

/// <summary>
/// A connected TCP socket seen as an <see cref="IDuplexPipe"/>, the seam <see cref="PeerConnection"/> reads and
/// writes through (tests cross two in-memory pipes instead), and as an <see cref="IGatherSend"/>, which the send
/// loop prefers to <see cref="Output"/>. Disposing it closes the socket.
/// </summary>
public sealed class SocketTransport : IDuplexPipe, IGatherSend, IAsyncDisposable
{
    // Kernel buffers several times the most bytes a pipeline keeps in flight (request-pipeline.max x 16 KiB), so
    // a read loop that falls behind for a moment never fills the receive queue: a full queue is pruned, segments
    // are dropped and the peer stalls in retransmission backoff. The pipe reader's own buffer holds a few frames.
    private const int SocketBufferSize = 4 * 1024 * 1024;
    private const int ReadBufferSize = 64 * 1024;

    private readonly NetworkStream _stream;
    private readonly Socket _socket;
    private readonly List<ArraySegment<byte>> _gather = [];
    private CancellationTokenRegistration _closeOnCancel;

    public SocketTransport(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        socket.NoDelay = true;
        socket.ReceiveBufferSize = SocketBufferSize;
        socket.SendBufferSize = SocketBufferSize;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: ReadBufferSize, minimumReadSize: 16 * 1024, leaveOpen: true));
        Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    /// <summary>The default dialer: a TCP connect that honours <paramref name="cancellationToken"/> (the connect timeout).</summary>
    public static async Task<IDuplexPipe> ConnectAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
            return new SocketTransport(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends every byte of <paramref name="buffers"/> with one gather write per socket wake-up (sendmsg, an iovec a
    /// segment), never concurrently with itself or with <see cref="Output"/>. <paramref name="cancellationToken"/>
    /// closes the socket, which is the only way to stop a send the peer never reads (a buffer-list send takes no
    /// token); it is the same token on every call (the connection's closing). Always true: a socket whose peer
    /// stopped reading fails the send instead.
    /// </summary>
    public async ValueTask<bool> SendAsync(ReadOnlySequence<byte> buffers, CancellationToken cancellationToken)
    {
        if (_closeOnCancel == default)
        {
            _closeOnCancel = cancellationToken.UnsafeRegister(static socket => ((Socket)socket!).Dispose(), _socket);
        }

        cancellationToken.ThrowIfCancellationRequested();
        _gather.Clear();
        foreach (var segment in buffers)
        {
            if (segment.IsEmpty)
            {
                continue;
            }

            // Pipe segments come from array pools; any other memory is copied once rather than refused.
            _gather.Add(MemoryMarshal.TryGetArray(segment, out var array) ? array : new ArraySegment<byte>(segment.ToArray()));
        }

        if (_gather.Count == 0)
        {
            return true;
        }

        try
        {
            // On a stream socket the buffer-list send completes only when all of it was sent.
            await _socket.SendAsync(_gather, SocketFlags.None).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is SocketException or ObjectDisposedException)
        {
            throw new OperationCanceledException("the connection is closing", ex, cancellationToken);
        }
        finally
        {
            _gather.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closeOnCancel.DisposeAsync().ConfigureAwait(false);
        // Closing the stream closes the socket, which fails any read or write still pending on the pipes.
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// A transport that takes a sequence of buffers as one write, so the send loop hands the outbox's segments to the
/// kernel as they are. Through <see cref="IDuplexPipe.Output"/> each segment was first copied into the stream
/// writer's own buffers and sent with one sendto per part: 2 per 16 KiB block, 34,821 sendto in 3 s of seeding to
/// one libtorrent leecher (strace -c, issue 14).
/// </summary>
public interface IGatherSend
{
    /// <summary>Sends all of <paramref name="buffers"/>; false when the other side no longer reads.</summary>
    ValueTask<bool> SendAsync(ReadOnlySequence<byte> buffers, CancellationToken cancellationToken);
}
