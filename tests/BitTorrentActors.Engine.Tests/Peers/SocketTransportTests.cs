using System.Net;
using System.Net.Sockets;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Protocol.Tests.Wire;

namespace BitTorrentActors.Engine.Tests.Peers;

/// <summary>The gather send the peer send loop uses, on real loopback sockets.</summary>
public sealed class SocketTransportTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public SocketTransportTests() => _listener.Start();

    [Fact]
    public async Task A_sequence_of_many_segments_arrives_whole_and_in_order()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (transport, receiver) = await ConnectAsync();
        await using var _ = transport;
        using var __ = receiver;

        // 1,500 segments (more than IOV_MAX) of varying sizes, one of them empty.
        var parts = Enumerable.Range(0, 1500).Select(i => Pattern(i == 700 ? 0 : 1 + (i * 37 % 5000), seed: i)).ToArray();
        var expected = parts.SelectMany(p => p).ToArray();

        var receiving = ReceiveAsync(receiver, expected.Length, timeout.Token);
        await transport.SendAsync(WireTestData.Chain(parts), timeout.Token);
        await transport.SendAsync(WireTestData.Chain([Pattern(3, seed: 9)]), timeout.Token);

        var received = await receiving;
        Assert.Equal(expected, received[..expected.Length]);
        Assert.Equal(Pattern(3, seed: 9), received[expected.Length..]);
    }

    [Fact]
    public async Task Cancelling_ends_a_send_the_peer_never_reads_by_closing_the_socket()
    {
        var (transport, receiver) = await ConnectAsync();
        await using var _ = transport;
        using var __ = receiver;
        using var closing = new CancellationTokenSource();

        // Far more than both kernel buffers (4 MiB asked for each side) hold, and nobody reads.
        var sending = transport.SendAsync(WireTestData.Chain([.. Enumerable.Range(0, 64).Select(i => new byte[1024 * 1024])]), closing.Token).AsTask();
        await Task.Delay(200);
        Assert.False(sending.IsCompleted);

        await closing.CancelAsync();
        var finished = await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.Same(sending, finished);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
    }

    public void Dispose() => _listener.Stop();

    private async Task<(SocketTransport Transport, Socket Receiver)> ConnectAsync()
    {
        var endpoint = (IPEndPoint)_listener.LocalEndpoint;
        var accepting = _listener.AcceptSocketAsync();
        var transport = (SocketTransport)await SocketTransport.ConnectAsync(endpoint, CancellationToken.None);
        return (transport, await accepting);
    }

    private static async Task<byte[]> ReceiveAsync(Socket socket, int atLeast, CancellationToken cancellationToken)
    {
        var buffer = new byte[atLeast + 3];
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            Assert.NotEqual(0, read);
            filled += read;
        }
        return buffer;
    }

    private static byte[] Pattern(int length, int seed) =>
        [.. Enumerable.Range(0, length).Select(i => (byte)(i * 31 + seed * 7))];
}
