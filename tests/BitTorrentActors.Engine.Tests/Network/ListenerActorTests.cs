using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Network;

/// <summary>A real listener on 127.0.0.1 (port 0), real TCP clients, a probe as the torrent's coordinator.</summary>
public sealed class ListenerActorTests(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit("akka.loglevel = DEBUG", output)
{
    private static readonly InfoHash Known = new(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray());
    private static readonly InfoHash Unknown = new(new byte[20]);

    [Fact]
    public async Task A_connection_is_routed_by_info_hash_with_the_whole_handshake_still_unread()
    {
        var coordinator = CreateTestProbe();
        var endpoint = await StartListenerAsync(coordinator, maxConnections: 10);
        using var client = await ConnectAsync(endpoint);
        var handshake = Handshake(Known);

        await client.GetStream().WriteAsync(handshake);

        var incoming = await coordinator.ExpectMsgAsync<ListenerActor.IncomingPeer>(TimeSpan.FromSeconds(5));
        Assert.Equal(((IPEndPoint)client.Client.LocalEndPoint!).Port, incoming.Remote.Port);
        var read = await incoming.Transport.Input.ReadAtLeastAsync(Protocol.Wire.Handshake.Length);
        Assert.Equal(handshake, read.Buffer.Slice(0, Protocol.Wire.Handshake.Length).ToArray());
        await ((IAsyncDisposable)incoming.Transport).DisposeAsync();
    }

    [Fact]
    public async Task An_unknown_info_hash_is_closed()
    {
        var coordinator = CreateTestProbe();
        var endpoint = await StartListenerAsync(coordinator, maxConnections: 10);
        using var client = await ConnectAsync(endpoint);

        await client.GetStream().WriteAsync(Handshake(Unknown));

        Assert.Equal(0, await ReadOrEndAsync(client));
        await coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Connections_beyond_the_global_limit_are_closed()
    {
        var coordinator = CreateTestProbe();
        var endpoint = await StartListenerAsync(coordinator, maxConnections: 2);
        // The coordinators' count already uses the whole budget.
        Sys.ActorSelection("/user/listener").Tell(new ListenerActor.ConnectionCount(Known, 2));
        using var client = await ConnectAsync(endpoint);

        await client.GetStream().WriteAsync(Handshake(Known));

        Assert.Equal(0, await ReadOrEndAsync(client));
        await coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Silent_connections_hold_at_most_a_quarter_of_the_budget_and_a_talking_peer_still_gets_in()
    {
        var coordinator = CreateTestProbe();
        var endpoint = await StartListenerAsync(coordinator, maxConnections: 20);
        // Twenty sockets that never send a handshake: without a cap they would take every one of the 20 slots.
        var silent = new List<TcpClient>();
        for (var i = 0; i < 20; i++)
        {
            silent.Add(await ConnectAsync(endpoint));
        }
        await Task.Delay(300);

        using var client = await ConnectAsync(endpoint);
        await client.GetStream().WriteAsync(Handshake(Known));

        var incoming = await coordinator.ExpectMsgAsync<ListenerActor.IncomingPeer>(TimeSpan.FromSeconds(5));
        await ((IAsyncDisposable)incoming.Transport).DisposeAsync();
        // The ones past the cap were closed at once; a quarter (5) still wait for their handshake timeout.
        var closed = 0;
        foreach (var socket in silent)
        {
            closed += await ReadOrEndAsync(socket, TimeSpan.FromMilliseconds(200)) == 0 ? 1 : 0;
            socket.Dispose();
        }
        Assert.InRange(closed, 15, 20);
    }

    private async Task<IPEndPoint> StartListenerAsync(Akka.TestKit.TestProbe coordinator, int maxConnections)
    {
        var listener = Sys.ActorOf(ListenerActor.Props(IPAddress.Loopback, 0, maxConnections, TimeSpan.FromSeconds(2)), "listener");
        listener.Tell(new ListenerActor.RegisterTorrent(Known, coordinator.Ref));
        var bound = await listener.Ask<ListenerActor.Bound>(ListenerActor.GetBound.Instance, TimeSpan.FromSeconds(5));
        return bound.EndPoint ?? throw new InvalidOperationException("the listener did not bind");
    }

    private static async Task<TcpClient> ConnectAsync(IPEndPoint endpoint)
    {
        var client = new TcpClient(AddressFamily.InterNetwork);
        await client.ConnectAsync(endpoint);
        return client;
    }

    /// <summary>Bytes read before the end of stream (0 when the listener closed without a word).</summary>
    private static async Task<int> ReadOrEndAsync(TcpClient client, TimeSpan? wait = null)
    {
        using var timeout = new CancellationTokenSource(wait ?? TimeSpan.FromSeconds(5));
        var buffer = new byte[100];
        try
        {
            return await client.GetStream().ReadAsync(buffer, timeout.Token);
        }
        catch (IOException)
        {
            return 0;
        }
        catch (OperationCanceledException)
        {
            // Still open when the wait ran out.
            return -1;
        }
    }

    private static byte[] Handshake(InfoHash infoHash)
    {
        var bytes = new byte[Protocol.Wire.Handshake.Length];
        new Handshake(infoHash.ToArray(), PeerId.Generate(), HandshakeReserved.FastExtension).WriteTo(bytes);
        return bytes;
    }
}
