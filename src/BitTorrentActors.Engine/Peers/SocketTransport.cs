using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace BitTorrentActors.Engine.Peers;

/// <summary>
/// A connected TCP socket seen as an <see cref="IDuplexPipe"/>, the seam <see cref="PeerConnection"/> reads and
/// writes through (tests cross two in-memory pipes instead). Disposing it closes the socket.
/// </summary>
public sealed class SocketTransport : IDuplexPipe, IAsyncDisposable
{
    // Kernel buffers several times the most bytes a pipeline keeps in flight (request-pipeline.max x 16 KiB), so
    // a read loop that falls behind for a moment never fills the receive queue: a full queue is pruned, segments
    // are dropped and the peer stalls in retransmission backoff. The pipe reader's own buffer holds a few frames.
    private const int SocketBufferSize = 4 * 1024 * 1024;
    private const int ReadBufferSize = 64 * 1024;

    private readonly NetworkStream _stream;

    public SocketTransport(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
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

    public async ValueTask DisposeAsync()
    {
        // Closing the stream closes the socket, which fails any read or write still pending on the pipes.
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
