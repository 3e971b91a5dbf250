using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;
using static BitTorrentActors.Engine.Torrent.PieceSchedulerActor;

namespace BitTorrentActors.Engine.Tests.Peers;

/// <summary>The default TCP dialer against a scripted peer on a real loopback socket.</summary>
public sealed class PeerActorTcpTests(ITestOutputHelper output) : PeerActorTestBase(output), IDisposable
{
    private readonly TcpListener _listener = StartListener();

    [Fact]
    public async Task Handshake_bitfield_requests_and_a_piece_travel_over_a_real_socket()
    {
        var probes = NewProbes();
        var context = PeerTestContext.Create();
        var actor = Sys.ActorOf(PeerActor.Props(context, Endpoint, probes.Coordinator, probes.Scheduler, probes.Writer));
        Watch(actor);
        using var socket = await _listener.AcceptSocketAsync();
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var peer = new ScriptedPeer(new DuplexPipe(PipeReader.Create(stream), PipeWriter.Create(stream)));

        Assert.Equal(context.LocalPeerId, (await peer.ReadHandshakeAsync()).PeerId);
        await peer.SendHandshakeAsync(context.InfoHash);
        Assert.Equal(peer.Id, (await probes.Coordinator.ExpectMsgAsync<PeerActor.Connected>()).RemoteId);
        Assert.Equal((byte)PeerMessageKind.HaveNone, (await peer.ReadFrameAsync())[4]);

        await peer.SendRawAsync([.. Frames.Bitfield([0xFF, 0xE0]), .. Frames.Unchoke]);
        Assert.Equal(new byte[] { 0xFF, 0xE0 }, (await probes.Scheduler.ExpectMsgAsync<PeerBitfield>()).Bits.ToArray());
        await probes.Scheduler.ExpectMsgAsync<PeerUnchoked>();
        await probes.Scheduler.ExpectMsgAsync<RequestBlocks>();

        actor.Tell(new PeerActor.AssignBlocks([Block(9, 1)]));
        Assert.Equal(Frames.Request(9, 16384, 16384), await peer.ReadFrameAsync());
        var bytes = Frames.Block(16384, seed: 9);
        await peer.SendRawAsync(Frames.Piece(9, 16384, bytes));

        var writes = await probes.Writer.ExpectMsgAsync<FileWriterActor.WriteBlocks>();
        var data = Assert.Single(writes.Blocks);
        Assert.Equal(bytes, data.Memory.ToArray());
        data.Release();
        Assert.Equal(Block(9, 1), Assert.Single((await probes.Scheduler.ExpectMsgAsync<BlocksReceived>()).Blocks));
    }

    [Fact]
    public async Task The_peer_closing_the_socket_stops_the_actor_without_blaming_it()
    {
        var probes = NewProbes();
        var actor = Sys.ActorOf(PeerActor.Props(PeerTestContext.Create(), Endpoint, probes.Coordinator, probes.Scheduler, probes.Writer));
        Watch(actor);
        using (var socket = await _listener.AcceptSocketAsync())
        {
            socket.Shutdown(SocketShutdown.Both);
        }

        await ExpectTerminatedAsync(actor);
        await probes.Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task A_refused_connection_stops_the_actor()
    {
        var probes = NewProbes();
        var closedPort = Endpoint;
        _listener.Stop();

        var actor = Sys.ActorOf(PeerActor.Props(PeerTestContext.Create(), closedPort, probes.Coordinator, probes.Scheduler, probes.Writer));
        Watch(actor);

        await ExpectTerminatedAsync(actor);
    }

    private IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    void IDisposable.Dispose() => _listener.Stop();

    private static TcpListener StartListener()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return listener;
    }
}
