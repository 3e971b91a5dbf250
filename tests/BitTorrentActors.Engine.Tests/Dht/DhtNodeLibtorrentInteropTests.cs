using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Protocol.Dht;
using BitTorrentActors.Protocol.Metainfo;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Dht;

/// <summary>
/// <see cref="DhtNodeActor"/> on a real UDP socket in a DHT of five python3-libtorrent nodes, each on its own
/// loopback address 127.0.x.1 (so libtorrent keeps its default per-IP restrictions and rate limits), the actor on
/// 127.0.6.1 behind the loopback-only guard. Nothing leaves 127.0.0.0/8; the python process is bounded in time
/// and killed by PID.
/// </summary>
public sealed class DhtNodeLibtorrentInteropTests(ITestOutputHelper output) : TestKit
{
    /// <summary>argv: five comma-separated ports, the seeded info-hash, the info-hash to watch, lifetime_s. Node i
    /// listens on 127.0.(i+1).1 and knows the others; node 0 adds the first hash with no tracker (so it announces
    /// itself to the DHT). Node 4 asks the DHT for it until node 0 is among the answers and prints "ready", then asks
    /// for the second hash every second and prints "peers a:p ..." for each answer with peers.
    /// (python3-libtorrent 2.0.8 cannot build dht_announce's flags: a torrent announces instead.)</summary>
    private const string FiveNodes = """
        import sys, time, libtorrent as lt
        ports = [int(p) for p in sys.argv[1].split(',')]
        ha, hb, lifetime = sys.argv[2], sys.argv[3], float(sys.argv[4])
        """ + "\n" + LibtorrentDhtMesh.Join + "\n" + """
        p = lt.add_torrent_params()
        p.info_hashes = lt.info_hash_t(lt.sha1_hash(bytes.fromhex(ha)))
        p.save_path = '.'
        p.flags &= ~lt.torrent_flags.auto_managed
        p.flags &= ~lt.torrent_flags.paused
        nodes[0].add_torrent(p)
        print('started', flush=True)
        seeder = '127.0.1.1:%d' % ports[0]
        ready, last = False, 0
        while time.time() < end:
            if time.time() - last > 1:
                nodes[4].dht_get_peers(lt.sha1_hash(bytes.fromhex(hb if ready else ha)))
                last = time.time()
            for a in nodes[4].pop_alerts():
                if isinstance(a, lt.dht_get_peers_reply_alert):
                    peers = ['%s:%d' % (q[0], q[1]) for q in a.peers()]
                    if not ready and seeder in peers:
                        ready = True
                        last = 0
                        print('ready', flush=True)
                    elif ready and str(a.info_hash) == hb:
                        print('peers ' + ' '.join(peers), flush=True)
                elif a.category() & lt.alert.category_t.error_notification:
                    print('alert %s' % a.message(), flush=True)
            for s in nodes[:4]:
                s.pop_alerts()
            time.sleep(0.05)
        """;

    private static readonly IPAddress OurAddress = IPAddress.Parse("127.0.6.1");

    [Fact]
    public async Task The_actor_finds_a_libtorrent_seeder_through_the_dht_and_libtorrent_finds_the_actors_announce()
    {
        using var dir = new SwarmTempDir("dht-five");
        var ports = Enumerable.Range(0, 5).Select(_ => LoopbackPorts.Next()).ToArray();
        var seeded = new InfoHash(NodeId.Random(new Random(21)).ToArray());
        var announced = new InfoHash(NodeId.Random(new Random(22)).ToArray());
        var script = PythonScripts.WriteTo(dir.Path, "dht-five.py", FiveNodes);
        using var process = SwarmProcess.Start(
            "five libtorrent DHT nodes on 127.0.1-5.1", Tools.Python,
            ["-u", script, string.Join(',', ports), seeded.ToHex(), announced.ToHex(), "75"], TimeSpan.FromSeconds(85), dir.Path);
        await process.WaitForOutputAsync(l => l == "ready", TimeSpan.FromSeconds(40));

        var subscriber = CreateTestProbe();
        var transport = new DhtUdpTransport(new IPEndPoint(OurAddress, LoopbackPorts.Next()), IPAddress.IsLoopback);
        var node = Sys.ActorOf(DhtNodeActor.Props(transport, subscriber.Ref,
            new DhtNodeOptions(QueryTimeout: TimeSpan.FromSeconds(3), TickInterval: TimeSpan.FromMilliseconds(100))));
        try
        {
            var seeder = new IPEndPoint(IPAddress.Parse("127.0.1.1"), ports[0]);
            var clock = Stopwatch.StartNew();
            node.Tell(new DhtNodeActor.Bootstrap([new IPEndPoint(IPAddress.Parse("127.0.3.1"), ports[2])]));
            node.Tell(new DhtNodeActor.GetPeers(seeded));

            var joined = subscriber.FishForMessage<DhtNodeActor.LookupFinished>(m => m.Kind == DhtLookupKind.Bootstrap, TimeSpan.FromSeconds(30));
            output.WriteLine($"bootstrap lookup done {clock.Elapsed.TotalMilliseconds:F0} ms after Bootstrap, {joined.Responded} nodes answered");
            subscriber.FishForMessage<DhtNodeActor.PeersFound>(m => m.InfoHash == seeded && m.Peers.Contains(seeder), TimeSpan.FromSeconds(30));
            var firstPeer = clock.Elapsed;
            output.WriteLine($"first DHT peer {firstPeer.TotalMilliseconds:F0} ms after Bootstrap (5 libtorrent nodes, one bootstrap node)");

            // Warm: a second lookup on the filled table, without the first one's start-up (JIT, bootstrap).
            clock.Restart();
            node.Tell(new DhtNodeActor.GetPeers(seeded));
            subscriber.FishForMessage<DhtNodeActor.PeersFound>(m => m.InfoHash == seeded && m.Peers.Contains(seeder), TimeSpan.FromSeconds(30));
            output.WriteLine($"second get_peers lookup: peer after {clock.Elapsed.TotalMilliseconds:F1} ms");

            node.Tell(new DhtNodeActor.Announce(announced, 7777));
            var done = subscriber.FishForMessage<DhtNodeActor.LookupFinished>(m => m.Kind == DhtLookupKind.Announce, TimeSpan.FromSeconds(30));
            Assert.True(done.AnnouncedTo > 0, $"announced to {done.AnnouncedTo} of {done.Responded}");
            var line = await process.WaitForOutputAsync(l => l.StartsWith("peers ", StringComparison.Ordinal) && l.Contains($"{OurAddress}:7777"), TimeSpan.FromSeconds(30));
            output.WriteLine($"libtorrent's get_peers: {line} ({clock.Elapsed.TotalMilliseconds:F0} ms)");

            var status = await node.Ask<DhtNodeActor.DhtStatus>(DhtNodeActor.GetStatus.Instance, TimeSpan.FromSeconds(5));
            output.WriteLine($"table: {status.Nodes} nodes, {status.GoodNodes} good; {status.AnnouncesAccepted} announces accepted; {status.QueriesAnswered} queries answered");
            Assert.True(status.GoodNodes >= 4, $"{status.GoodNodes} good nodes");
            Assert.True(status.AnnouncesAccepted > 0);
            Assert.Equal(0, transport.Refused);
        }
        finally
        {
            Watch(node);
            Sys.Stop(node);
            ExpectTerminated(node, TimeSpan.FromSeconds(5));
            process.Kill("test over");
        }
    }
}
