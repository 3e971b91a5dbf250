using System.Globalization;
using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Dht;

/// <summary>
/// bta as a DHT server, at the session level: the real <c>bta seed</c> command (DHT on, its only bootstrap node one
/// of five python3-libtorrent nodes on 127.0.x.1) seeds a torrent with no tracker. A libtorrent node's get_peers for
/// the hash must return bta's address (127.0.0.1 and bta's port), and a libtorrent leecher given only the bare magnet
/// (no tracker, no peer) must download the torrent from bta byte-identical: bta is the only seeder and the DHT the
/// only way to it. The python process is bounded in time and killed by PID; nothing leaves 127.0.0.0/8.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class DhtSeedServerTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>argv: five comma-separated ports, the info-hash (hex), bta's endpoint "127.0.0.1:port", the
    /// leecher's save path, lifetime_s. Node 4 asks the DHT for the hash every second until bta's endpoint is among
    /// the answers ("found ..."); then node 3 adds the bare magnet (TCP only: bta speaks no uTP) and prints
    /// "progress ..." every second and "finished" once it is a seed (exit 0), "lifetime over" (exit 1).</summary>
    private const string FindAndLeechFromBta = """
        import sys, time, libtorrent as lt
        ports = [int(p) for p in sys.argv[1].split(',')]
        ih_hex, bta, save, lifetime = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
        """ + "\n" + LibtorrentDhtMesh.Join + "\n" + """
        nodes[3].apply_settings({'enable_outgoing_utp': False, 'enable_incoming_utp': False})
        print('started', flush=True)
        ih = lt.sha1_hash(bytes.fromhex(ih_hex))
        found, last, h = False, 0, None
        while time.time() < end:
            if not found and time.time() - last > 1:
                nodes[4].dht_get_peers(ih)
                last = time.time()
            for a in nodes[4].pop_alerts():
                if not found and isinstance(a, lt.dht_get_peers_reply_alert):
                    peers = ['%s:%d' % (q[0], q[1]) for q in a.peers()]
                    if bta in peers:
                        found = True
                        print('found ' + ' '.join(peers), flush=True)
                        p = lt.parse_magnet_uri('magnet:?xt=urn:btih:' + ih_hex)
                        p.save_path = save
                        p.flags &= ~lt.torrent_flags.auto_managed
                        p.flags &= ~lt.torrent_flags.paused
                        h = nodes[3].add_torrent(p)
            for a in nodes[3].pop_alerts():
                if a.category() & lt.alert.category_t.error_notification:
                    print('alert %s' % a.message(), flush=True)
            for s in nodes[:3]:
                s.pop_alerts()
            if h is not None and time.time() - last > 1:
                st = h.status()
                print('progress %.3f peers %d' % (st.progress, st.num_peers), flush=True)
                last = time.time()
                if st.is_seeding:
                    print('finished', flush=True)
                    sys.exit(0)
            time.sleep(0.05)
        print('lifetime over', flush=True)
        sys.exit(1)
        """;

    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(110);
    private readonly SwarmScope _swarm = new("dht-seed-server", Lifetime);

    [Fact]
    public async Task Bta_seed_is_found_by_a_libtorrent_get_peers_and_a_magnet_only_libtorrent_leecher_downloads_from_it()
    {
        var content = SwarmContent.MultiFile("dht-served", seed: 73);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, announceUrl: null);
        var ports = Enumerable.Range(0, 5).Select(_ => LoopbackPorts.Next()).ToArray();
        var btaPort = LoopbackPorts.Next();
        var leeched = _swarm.Dir.Sub("leecher");
        var script = PythonScripts.WriteTo(_swarm.Dir.Path, "dht-find-bta.py", FindAndLeechFromBta);
        var mesh = _swarm.Track(SwarmProcess.Start("five libtorrent DHT nodes on 127.0.1-5.1, node 3 leeching from bta", Tools.Python,
            ["-u", script, string.Join(',', ports), torrent.InfoHash.ToHex(), $"127.0.0.1:{btaPort}", leeched,
                ((int)Lifetime.TotalSeconds).ToString(CultureInfo.InvariantCulture)],
            Lifetime + TimeSpan.FromSeconds(5), _swarm.Dir.Path));
        await mesh.WaitForOutputAsync(l => l == "started", TimeSpan.FromSeconds(30));

        using var stop = new CancellationTokenSource();
        var seeding = BtaClientRun.RunCommandAsync(
            ["seed", torrent.Path, "--data", seedRoot, "--set", $"bta.dht.bootstrap-nodes=127.0.3.1:{ports[2]}"],
            btaPort, _swarm.Dir.Path, Lifetime, stop.Token);
        string found, finished;
        try
        {
            // bta checks its data before it announces (over 20 s once on a loaded 2-core machine).
            found = await mesh.WaitForOutputAsync(l => l.StartsWith("found ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            finished = await mesh.WaitForOutputAsync(l => l == "finished", TimeSpan.FromSeconds(40));
        }
        finally
        {
            await stop.CancelAsync();
        }
        var run = await seeding;
        output.WriteLine(found);
        output.WriteLine(mesh.Log);
        output.WriteLine(run.Output);
        Assert.Contains($"127.0.0.1:{btaPort}", found.Split(' '));
        Assert.Equal("finished", finished);
        content.AssertDownloaded(leeched);
    }

    public void Dispose() => _swarm.Dispose();
}
