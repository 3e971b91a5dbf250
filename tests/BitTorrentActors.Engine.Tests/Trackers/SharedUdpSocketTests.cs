using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Tests.Dht;
using BitTorrentActors.Engine.Tests.Session;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Dht;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Tests.Trackers;

/// <summary>
/// One UDP socket for the DHT and the UDP tracker client, demultiplexed by the first byte ('d': KRPC; anything
/// else: BEP 15): both speak from the same local port, hostile datagrams of either kind are dropped and counted,
/// the session binds it to bta.dht.port (default: the listen port) and closes it when it stops, and with the DHT
/// off the trackers still get a socket. Everything on 127.0.0.0/8.
/// </summary>
public sealed class SharedUdpSocketTests : SessionTestKit
{
    private static readonly TimeSpan Base = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task A_tracker_exchange_and_a_dht_ping_use_one_local_port_and_what_is_neither_is_dropped()
    {
        using var service = new UdpService(IPAddress.Loopback, IPAddress.IsLoopback);
        var local = service.Bind(0);
        using var trackerSocket = new UdpTrackerSocket(service);
        using var tracker = new ScriptedUdpTracker();
        var node = Sys.ActorOf(DhtNodeActor.Props(new DhtUdpTransport(service), TestActor));
        using var querier = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        // Started (its transport takes the 'd' datagrams from PreStart on) once it answers.
        await node.Ask<DhtNodeActor.DhtStatus>(DhtNodeActor.GetStatus.Instance, TimeSpan.FromSeconds(5));

        // Hostile first: a tracker reply nobody asked for (announce, a transaction id no request holds), an empty
        // datagram, and a 'd' that is no KRPC message.
        await querier.SendAsync(ScriptedUdpTracker.Announce(12345, []), local);
        await querier.SendAsync(ReadOnlyMemory<byte>.Empty, local);
        await querier.SendAsync("d1:zi1ee"u8.ToArray(), local);
        await querier.SendAsync(KrpcCodec.Encode(new PingQuery(new byte[] { 7, 7 }, NodeId.Random(new Random(9)))), local);
        var pong = await querier.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));
        var result = await new UdpTrackerTransport(Base, 3, trackerSocket)
            .AnnounceAsync(tracker.AnnounceUrl, UdpTrackerTransportTests.Request(), CancellationToken.None);

        Assert.True(KrpcCodec.TryDecode(pong.Buffer, out var answer, out _) && answer is KrpcResponse, "no pong");
        Assert.Equal(local, pong.RemoteEndPoint);
        Assert.True(result.Success, result.Failure?.Reason);
        Assert.Equal([UdpTrackerAction.Connect, UdpTrackerAction.Announce], tracker.Seen.Select(s => s.Action));
        Assert.All(tracker.Seen, s => Assert.Equal(local, s.From));
        Assert.Equal(1, trackerSocket.IgnoredDatagrams);
        Assert.Equal(1, service.DroppedDatagrams);

        // The node gone, its datagrams are dropped and the trackers keep the socket.
        Watch(node);
        Sys.Stop(node);
        ExpectTerminated(node);
        await querier.SendAsync(KrpcCodec.Encode(new PingQuery(new byte[] { 8, 8 }, NodeId.Random(new Random(9)))), local);
        var again = await new UdpTrackerTransport(Base, 3, trackerSocket)
            .AnnounceAsync(tracker.AnnounceUrl, UdpTrackerTransportTests.Request(), CancellationToken.None);
        Assert.True(again.Success, again.Failure?.Reason);
        await AwaitAssertAsync(() => Assert.Equal(2, service.DroppedDatagrams), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task The_session_announces_to_a_udp_tracker_and_the_dht_from_the_listen_port()
    {
        using var tracker = new ScriptedUdpTracker();
        using var node = new ScriptedDhtNode(IPAddress.Parse("127.0.24.1"));
        var session = SessionTorrents.Start(this,
            SessionTorrents.Settings($"bta.dht.bootstrap-nodes = \"{node.EndPoint}\""), null, Downloads.Path);

        await AddWithTrackerAsync(session, tracker, 43);

        var announce = (AnnouncePeerQuery)await node.WaitForAsync(q => q is AnnouncePeerQuery, TimeSpan.FromSeconds(20));
        await AwaitAssertAsync(() => Assert.NotEmpty(tracker.Of(UdpTrackerAction.Announce)), TimeSpan.FromSeconds(10));
        // bta.dht.port = 0: the listen port, which is also the port announced.
        Assert.All(node.Sources, s => Assert.Equal(announce.Port, s.Port));
        Assert.All(tracker.Seen, s => Assert.Equal(new IPEndPoint(IPAddress.Loopback, announce.Port), s.From));
    }

    [Fact]
    public async Task Bta_dht_port_sets_the_shared_port_and_the_socket_closes_with_the_session()
    {
        using var tracker = new ScriptedUdpTracker();
        using var node = new ScriptedDhtNode(IPAddress.Parse("127.0.25.1"));
        var port = LoopbackPorts.Next();
        var session = SessionTorrents.Start(this,
            SessionTorrents.Settings($"bta.dht.bootstrap-nodes = \"{node.EndPoint}\"\nbta.dht.port = {port}"), null, Downloads.Path);

        await AddWithTrackerAsync(session, tracker, 44);

        var announce = (AnnouncePeerQuery)await node.WaitForAsync(q => q is AnnouncePeerQuery, TimeSpan.FromSeconds(20));
        await AwaitAssertAsync(() => Assert.NotEmpty(tracker.Of(UdpTrackerAction.Announce)), TimeSpan.FromSeconds(10));
        Assert.All(node.Sources, s => Assert.Equal(port, s.Port));
        Assert.All(tracker.Seen, s => Assert.Equal(port, s.From!.Port));
        // The peers' port stays the TCP listen port.
        Assert.NotEqual(port, announce.Port);

        await SessionTorrents.ShutdownSessionAsync(session);
        Watch(session);
        Sys.Stop(session);
        ExpectTerminated(session, TimeSpan.FromSeconds(10));
        // Closed with the session: the port can be bound again.
        using var rebound = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
    }

    [Fact]
    public async Task With_the_dht_off_the_udp_tracker_client_still_gets_a_socket()
    {
        using var tracker = new ScriptedUdpTracker();
        var session = SessionTorrents.Start(this, SessionTorrents.Settings("bta.dht.enabled = false"), null, Downloads.Path);

        await AddWithTrackerAsync(session, tracker, 45);

        await AwaitAssertAsync(() => Assert.NotEmpty(tracker.Of(UdpTrackerAction.Announce)), TimeSpan.FromSeconds(10));
        Assert.IsType<TorrentSessionActor.DhtOff>(
            await session.Ask(TorrentSessionActor.GetDhtStatus.Instance, TimeSpan.FromSeconds(5)));
    }

    /// <summary>A public torrent (no content on disk, so it downloads) whose only tracker is the scripted one.</summary>
    private static async Task AddWithTrackerAsync(IActorRef session, ScriptedUdpTracker tracker, int seed)
    {
        var name = $"shared-{seed}.bin";
        var torrent = TestTorrents.Bytes(16 * 1024, tracker.AnnounceUrl, [(name, TestTorrents.Content(40_000, seed))], name);
        await SessionTorrents.AddAsync(session, torrent);
    }
}
