using System.Net;
using Akka.Actor;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Tests.Peers;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Dht;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Dht;

/// <summary>
/// The DHT on the peer wire (BEP 5): with a node running, our handshake sets reserved bit 0x01 of byte 7 and a peer
/// whose handshake sets it gets a PORT message with our DHT port; a PORT from the peer becomes a ping to its node
/// (once per connection), and the node keeps it in the table if it answers. In-memory pipes and a scripted DHT
/// transport: nothing is sent anywhere.
/// </summary>
public sealed class PeerWireDhtTests(ITestOutputHelper output) : PeerActorTestBase(output)
{
    private const int OurDhtPort = 6999;

    private (TorrentContext Context, Akka.TestKit.TestProbe Dht) WithDht()
    {
        var dht = CreateTestProbe("dht");
        return (PeerTestContext.Create() with { Dht = new DhtWire(dht.Ref, OurDhtPort) }, dht);
    }

    private static Task SendHandshakeAsync(ScriptedPeer peer, TorrentContext context, HandshakeReserved reserved) =>
        peer.SendAsync(Handshake.Length, span => new Handshake(context.InfoHash.ToArray(), peer.Id, reserved).WriteTo(span));

    [Fact]
    public async Task With_the_dht_on_our_handshake_sets_the_dht_bit_and_a_dht_peer_gets_our_port()
    {
        var (context, _) = WithDht();
        var probes = NewProbes();
        var (_, peer) = StartOverPipes(probes, context: context);

        var ours = await peer.ReadHandshakeAsync();
        await SendHandshakeAsync(peer, context, HandshakeReserved.FastExtension | HandshakeReserved.Dht);

        Assert.True(ours.SupportsDht);
        // Byte 7 (the low byte of the big-endian view) carries it as 0x01.
        Assert.Equal(0x01UL, (ulong)ours.Reserved & 0x01);
        Assert.Equal((byte)PeerMessageKind.HaveNone, (await peer.ReadFrameAsync())[4]);
        Assert.Equal(Frames.Build(PeerWireWriter.PortSize, b => PeerWireWriter.WritePort(b, OurDhtPort)), await peer.ReadFrameAsync());
    }

    [Fact]
    public async Task A_peer_without_the_dht_bit_gets_no_port_and_with_the_dht_off_we_set_no_bit()
    {
        var (context, _) = WithDht();
        var probes = NewProbes();
        var (actor, peer) = StartOverPipes(probes, context: context);
        await peer.ReadHandshakeAsync();
        await SendHandshakeAsync(peer, context, HandshakeReserved.FastExtension);
        await probes.Coordinator.ExpectMsgAsync<PeerActor.Connected>();
        Assert.Equal((byte)PeerMessageKind.HaveNone, (await peer.ReadFrameAsync())[4]);

        // The next frame we send is the have we are told to announce: no PORT came before it.
        actor.Tell(new PeerActor.AnnounceHave(0));
        Assert.Equal((byte)PeerMessageKind.Have, (await peer.ReadFrameAsync())[4]);

        var (_, plain) = StartOverPipes(new Probes(CreateTestProbe(), CreateTestProbe(), CreateTestProbe()));
        Assert.False((await plain.ReadHandshakeAsync()).SupportsDht);
    }

    [Fact]
    public async Task A_port_from_the_peer_becomes_one_ping_of_its_node()
    {
        var (context, dht) = WithDht();
        var probes = NewProbes();
        var (_, peer) = StartOverPipes(probes, context: context);
        await peer.ReadHandshakeAsync();
        await SendHandshakeAsync(peer, context, HandshakeReserved.FastExtension | HandshakeReserved.Dht);
        await probes.Coordinator.ExpectMsgAsync<PeerActor.Connected>();

        await peer.SendRawAsync(Frames.Build(PeerWireWriter.PortSize, b => PeerWireWriter.WritePort(b, 7001)));
        await peer.SendRawAsync(Frames.Build(PeerWireWriter.PortSize, b => PeerWireWriter.WritePort(b, 7002)));
        await peer.SendRawAsync(Frames.Build(PeerWireWriter.PortSize, b => PeerWireWriter.WritePort(b, 0)));

        var ping = await dht.ExpectMsgAsync<DhtNodeActor.PingNode>();
        Assert.Equal(new IPEndPoint(Remote.Address, 7001), ping.Node);
        await dht.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task The_node_pings_a_node_heard_of_by_port_keeps_it_if_it_answers_and_bounds_such_pings()
    {
        var answering = DhtIds.EndPoint(700);
        var answerer = NodeId.Random(new Random(70));
        var transport = new ScriptedDhtTransport
        {
            Network = (m, to) => m is PingQuery p && to.Equals(answering) ? new KrpcResponse(p.TransactionId, answerer) : null,
        };
        var node = Sys.ActorOf(DhtNodeActor.Props(transport, TestActor, new DhtNodeOptions(Id: DhtIds.Own, Seed: 1)));
        AwaitCondition(() => transport.Started, TimeSpan.FromSeconds(3));

        node.Tell(new DhtNodeActor.PingNode(answering));
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Status(node)).Nodes), TimeSpan.FromSeconds(5));
        // Good now: told again, it is not pinged again.
        node.Tell(new DhtNodeActor.PingNode(answering));
        for (var i = 0; i < 200; i++)
        {
            node.Tell(new DhtNodeActor.PingNode(DhtIds.EndPoint(1000 + i)));
        }
        var status = await Status(node);

        Assert.Single(transport.SentOf<PingQuery>(), s => s.To.Equals(answering));
        Assert.Equal(answerer, Assert.Single(status.Table).Id);
        // Silent nodes: at most 64 pings outstanding from PORT messages, whatever the swarm sends.
        Assert.Equal(64, transport.SentOf<PingQuery>().Count(s => !s.To.Equals(answering)));
    }

    private static Task<DhtNodeActor.DhtStatus> Status(IActorRef node) =>
        node.Ask<DhtNodeActor.DhtStatus>(DhtNodeActor.GetStatus.Instance, TimeSpan.FromSeconds(5));
}
