using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Protocol.Dht;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Dht;

/// <summary>
/// The KRPC codec against a real libtorrent DHT node (python3-libtorrent) on 127.0.0.1, both ways: our queries
/// answered by libtorrent (and its tokens, errors and 'ip' read back), and libtorrent's queries decoded and
/// answered by our <see cref="DhtResponder"/> well enough that its get_peers lookup reports the peer we hold and its
/// announce_peer (with our token) is stored. The DHT actor that will own the socket comes later.
/// </summary>
public class KrpcLibtorrentInteropTests
{
    /// <summary>argv: port our_port info_hash_hex lifetime_s. A lone DHT node on 127.0.0.1 that knows only us; it
    /// prints "ready", adds the info-hash as a magnet with no tracker (so libtorrent announces itself to the DHT
    /// for it: get_peers, then announce_peer with the token), and asks the DHT for it every second, printing
    /// "peers a:p b:p ..." for each answer. (python3-libtorrent 2.0.8 cannot build dht_announce's flags.)</summary>
    private const string Node = """
        import sys, time, libtorrent as lt
        port, ours, ih, lifetime = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
        s = lt.session({'listen_interfaces': '127.0.0.1:%d' % port, 'outgoing_interfaces': '127.0.0.1',
            'enable_dht': True, 'dht_bootstrap_nodes': '', 'enable_lsd': False, 'enable_upnp': False,
            'enable_natpmp': False, 'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False,
            'alert_mask': lt.alert.category_t.dht_operation_notification | lt.alert.category_t.error_notification})
        end = time.time() + lifetime
        while not s.is_dht_running() and time.time() < end:
            time.sleep(0.05)
        print('ready', flush=True)
        s.add_dht_node(('127.0.0.1', ours))
        target = lt.sha1_hash(bytes.fromhex(ih))
        p = lt.add_torrent_params()
        p.info_hashes = lt.info_hash_t(target)
        p.save_path = '.'
        p.flags &= ~lt.torrent_flags.auto_managed
        p.flags &= ~lt.torrent_flags.paused
        s.add_torrent(p)
        last = 0
        while time.time() < end:
            if time.time() - last > 1:
                s.dht_get_peers(target)
                last = time.time()
            for a in s.pop_alerts():
                if isinstance(a, lt.dht_get_peers_reply_alert):
                    print('peers ' + ' '.join('%s:%d' % (p[0], p[1]) for p in a.peers()), flush=True)
                elif a.category() & lt.alert.category_t.error_notification:
                    print('alert %s' % a.message(), flush=True)
            time.sleep(0.05)
        """;

    private static readonly NodeId OurId = NodeId.Random(new Random(1));
    private static readonly IPEndPoint GivenPeer = IPEndPoint.Parse("127.0.0.9:7777");

    [Fact]
    public async Task Libtorrent_answers_our_queries_and_reads_our_answers()
    {
        using var dir = new SwarmTempDir("krpc");
        var ltPort = LoopbackPorts.Next();
        var ourPort = LoopbackPorts.Next();
        var hash = new InfoHash(NodeId.Random(new Random(2)).ToArray());
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, ourPort));
        var libtorrent = new IPEndPoint(IPAddress.Loopback, ltPort);
        var pending = new ConcurrentDictionary<ushort, TaskCompletionSource<KrpcMessage>>();
        var queriesFromLibtorrent = new ConcurrentQueue<KrpcQuery>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Our side of the wire: only the receive loop below touches these.
        var peerStore = new PeerStore();
        peerStore.Announce(hash, GivenPeer, clock.Elapsed);
        var responder = new DhtResponder(OurId, new RoutingTable(OurId, clock.Elapsed), new TokenSecrets(clock.Elapsed), peerStore, new Random(4));
        var answersToAnnounces = new ConcurrentQueue<KrpcMessage>();

        var script = PythonScripts.WriteTo(dir.Path, "dht-node.py", Node);
        using var process = SwarmProcess.Start(
            $"libtorrent DHT node 127.0.0.1:{ltPort}", Tools.Python,
            ["-u", script, ltPort.ToString(), ourPort.ToString(), hash.ToHex(), "45"], TimeSpan.FromSeconds(50), dir.Path);
        await process.WaitForOutputAsync(l => l == "ready", TimeSpan.FromSeconds(30));

        var receiver = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                UdpReceiveResult datagram;
                try
                {
                    datagram = await udp.ReceiveAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                Assert.True(KrpcCodec.TryDecode(datagram.Buffer, out var message, out var error), error?.Reason);
                switch (message)
                {
                    case KrpcQuery query:
                        queriesFromLibtorrent.Enqueue(query);
                        var answer = responder.Answer(query, datagram.RemoteEndPoint, clock.Elapsed);
                        if (query is AnnouncePeerQuery)
                        {
                            answersToAnnounces.Enqueue(answer);
                        }
                        await udp.SendAsync(KrpcCodec.Encode(answer), datagram.RemoteEndPoint, stop.Token);
                        break;
                    default:
                        if (message.TransactionId.Length == 2
                            && pending.TryRemove((ushort)(message.TransactionId.Span[0] << 8 | message.TransactionId.Span[1]), out var waiter))
                        {
                            waiter.TrySetResult(message);
                        }
                        break;
                }
            }
        });

        ushort nextTid = 0x4100;
        async Task<T> Exchange<T>(Func<byte[], KrpcQuery> make) where T : KrpcMessage
        {
            var tid = nextTid++;
            var waiter = new TaskCompletionSource<KrpcMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
            pending[tid] = waiter;
            await udp.SendAsync(KrpcCodec.Encode(make([(byte)(tid >> 8), (byte)tid])), libtorrent, stop.Token);
            // A fault of the receive loop (an undecodable datagram from libtorrent) is the failure to report.
            var first = await Task.WhenAny(waiter.Task, receiver, Task.Delay(TimeSpan.FromSeconds(10), stop.Token));
            if (first == receiver)
            {
                await receiver;
            }
            Assert.True(first == waiter.Task, $"libtorrent did not answer tid {tid:x4}\n{process.Log}");
            return Assert.IsType<T>(await waiter.Task);
        }

        try
        {
            var pong = await Exchange<KrpcResponse>(t => new PingQuery(t, OurId));
            Assert.Equal("LT", System.Text.Encoding.ASCII.GetString(pong.ClientVersion!.Value.Span[..2]));
            // BEP 42: libtorrent tells us the address it saw us at.
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, ourPort), pong.ExternalAddress);

            var found = await Exchange<KrpcResponse>(t => new FindNodeQuery(t, OurId, NodeId.Random(new Random(3))));
            Assert.Equal(pong.Sender, found.Sender);

            var peers = await Exchange<KrpcResponse>(t => new GetPeersQuery(t, OurId, hash));
            Assert.NotNull(peers.Token);
            Assert.Empty(peers.Values);

            var refused = await Exchange<KrpcError>(t => new AnnouncePeerQuery(t, OurId, hash, 9999, false, "nope"u8.ToArray()));
            Assert.Equal((int)KrpcErrorCode.Protocol, refused.Code);

            await Exchange<KrpcResponse>(t => new AnnouncePeerQuery(t, OurId, hash, 9999, false, peers.Token.Value.ToArray()));
            var announced = await Exchange<KrpcResponse>(t => new GetPeersQuery(t, OurId, hash));
            Assert.Contains(new IPEndPoint(IPAddress.Loopback, 9999), announced.Values);

            // libtorrent's own lookup reached us, and it read the peer our answer carried.
            var line = await process.WaitForOutputAsync(l => l.StartsWith("peers ", StringComparison.Ordinal) && l.Contains(GivenPeer.ToString()), TimeSpan.FromSeconds(20));
            Assert.Contains(GivenPeer.ToString(), line);
            Assert.Contains(queriesFromLibtorrent, q => q is GetPeersQuery g && g.InfoHash == hash);

            // libtorrent announced itself with the token our get_peers answer gave it, and we took it.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (!answersToAnnounces.Any(a => a is KrpcResponse) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            Assert.True(answersToAnnounces.Any(a => a is KrpcResponse), $"no accepted announce; answers: {string.Join(", ", answersToAnnounces)}\n{process.Log}");
            Assert.DoesNotContain(answersToAnnounces, a => a is KrpcError);
            Assert.Contains(queriesFromLibtorrent, q => q is AnnouncePeerQuery a && a.InfoHash == hash);
        }
        finally
        {
            await stop.CancelAsync();
            await receiver;
        }
    }
}
