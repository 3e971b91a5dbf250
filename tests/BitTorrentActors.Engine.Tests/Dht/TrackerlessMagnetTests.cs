using System.Diagnostics;
using System.Globalization;
using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Dht;

/// <summary>
/// The end-to-end case: <c>bta download 'magnet:?xt=urn:btih:HASH'</c> (no tracker, no peer) with one
/// libtorrent DHT node as its only bootstrap node finds the seeder through the DHT, fetches the metadata from it
/// and completes byte-identical. The DHT is five python3-libtorrent nodes, each on its own loopback address
/// 127.0.x.1 (libtorrent's per-IP limits keep their defaults); node 0 seeds a torrent with no tracker, so only its
/// DHT announce says where it is. bta runs in process on 127.0.0.1 behind loopback-only. The python process is
/// bounded in time and killed by PID.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class TrackerlessMagnetTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>argv: five comma-separated ports, the .torrent, its save path, lifetime_s. Node i listens on
    /// 127.0.(i+1).1 and knows the others; node 0 seeds the torrent (announcing it to the DHT); node 4 asks the
    /// DHT for it until node 0 is among the answers, then prints "ready".</summary>
    internal const string FiveNodesOneSeeder = """
        import sys, time, libtorrent as lt
        ports = [int(p) for p in sys.argv[1].split(',')]
        torrent, save, lifetime = sys.argv[2], sys.argv[3], float(sys.argv[4])
        """ + "\n" + LibtorrentDhtMesh.Join + "\n" + """
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(torrent)
        p.save_path = save
        p.flags &= ~lt.torrent_flags.auto_managed
        p.flags &= ~lt.torrent_flags.paused
        h = nodes[0].add_torrent(p)
        ih = p.ti.info_hashes().v1
        seeder = '127.0.1.1:%d' % ports[0]
        ready, last = False, 0
        while time.time() < end:
            if not ready and time.time() - last > 1:
                nodes[4].dht_get_peers(ih)
                last = time.time()
            for a in nodes[4].pop_alerts():
                if not ready and isinstance(a, lt.dht_get_peers_reply_alert):
                    if seeder in ['%s:%d' % (q[0], q[1]) for q in a.peers()]:
                        ready = True
                        print('ready', flush=True)
            for a in nodes[0].pop_alerts():
                if a.category() & lt.alert.category_t.error_notification:
                    print('alert %s' % a.message(), flush=True)
            for s in nodes[1:4]:
                s.pop_alerts()
            st = h.status()
            if ready and time.time() - last > 1:
                print('uploaded %d peers %d seeding %s' % (st.total_payload_upload, st.num_peers, st.is_seeding), flush=True)
                last = time.time()
            time.sleep(0.05)
        print('lifetime over', flush=True)
        """;

    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(100);
    private readonly SwarmScope _swarm = new("dht-magnet", Lifetime);

    [Fact]
    public async Task A_trackerless_magnet_downloads_byte_identical_through_a_dht_of_five_libtorrent_nodes()
    {
        var content = SwarmContent.MultiFile("dht-magnet", seed: 71);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, announceUrl: null);
        var ports = Enumerable.Range(0, 5).Select(_ => LoopbackPorts.Next()).ToArray();
        var script = PythonScripts.WriteTo(_swarm.Dir.Path, "dht-seeder.py", FiveNodesOneSeeder);
        var dht = _swarm.Track(SwarmProcess.Start("five libtorrent DHT nodes on 127.0.1-5.1, node 0 seeding", Tools.Python,
            ["-u", script, string.Join(',', ports), torrent.Path, seedRoot, ((int)Lifetime.TotalSeconds).ToString(CultureInfo.InvariantCulture)],
            Lifetime + TimeSpan.FromSeconds(5), _swarm.Dir.Path));
        await dht.WaitForOutputAsync(l => l == "ready", TimeSpan.FromSeconds(45));

        var target = _swarm.Dir.Sub("out");
        var magnet = $"magnet:?xt=urn:btih:{torrent.InfoHash.ToHex()}";
        BtaClientRun? live = null;
        var clock = Stopwatch.StartNew();
        // One node only (the third): bta must learn the seeder's node, and the seeder, from the DHT itself.
        var running = BtaClientRun.RunCommandAsync(
            ["download", magnet, "-o", target, "--set", $"bta.dht.bootstrap-nodes=127.0.3.1:{ports[2]}"],
            LoopbackPorts.Next(), _swarm.Dir.Path, TimeSpan.FromSeconds(75), started: r => live = r);
        while (live is null)
        {
            await Task.Delay(10);
        }
        TimeSpan? peer = null, metadata = null, complete = null;
        while (!running.IsCompleted)
        {
            var stdout = live.Stdout;
            // The fetcher's line counts the peers connected: the first one can only have come from the DHT.
            peer ??= FirstPeerLine(stdout) ? clock.Elapsed : null;
            metadata ??= stdout.Contains("Metadata received", StringComparison.Ordinal) ? clock.Elapsed : null;
            complete ??= stdout.Contains("Complete: ", StringComparison.Ordinal) ? clock.Elapsed : null;
            await Task.Delay(5);
        }
        var run = await running;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"trackerless magnet via DHT: from the command's start, first peer connected at {peer?.TotalSeconds:0.00} s, metadata at {metadata?.TotalSeconds:0.00} s, complete at {complete?.TotalSeconds:0.00} s, exit at {clock.Elapsed.TotalSeconds:0.00} s ({content.TotalLength} bytes)"));
        output.WriteLine(run.Output);
        run.AssertSucceeded();
        Assert.True(metadata is not null, $"no 'Metadata received' line\n{run.Output}\n{dht.Log}");
        content.AssertDownloaded(target);
    }

    public void Dispose() => _swarm.Dispose();

    private static bool FirstPeerLine(string stdout) =>
        System.Text.RegularExpressions.Regex.IsMatch(stdout, "fetching metadata: peers [1-9]")
        || stdout.Contains("Metadata received", StringComparison.Ordinal);
}
