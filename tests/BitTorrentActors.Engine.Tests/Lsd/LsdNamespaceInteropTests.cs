using System.Globalization;
using BitTorrentActors.Engine.Tests.Cli;
using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Lsd;

/// <summary>
/// BEP 14 between bta and python3-libtorrent 2.0.8, with local service discovery as the only way the two can
/// find each other (no tracker in the torrent, no --peer, both DHTs off), inside a network namespace the test
/// makes with <c>unshare -n</c>: its only interface is lo, so no multicast datagram can reach a real network, and
/// bta's loopback guard (BTA_LOOPBACK_ONLY, inherited) sees nothing but lo up and lets LSD run. One process tree:
/// <c>unshare -n sh -c 'ip link set lo up ...; exec python3 runner.py'</c>, the runner starting libtorrent and then
/// the real <c>bta</c> (dotnet bta.dll) as its child, all bounded in time and killed by PID with the tree.
/// What was learnt here: libtorrent listening on 127.0.0.1 runs its LSD on that interface ("[iface: 127.0.0.1]"),
/// joins 239.192.152.143 on lo and hears its own announces back (multicast loopback); lo needs "up" (a new
/// namespace has it down) and multicast on; the route 239.0.0.0/8 via lo is not needed when the sender names
/// its outbound interface (both do) but costs nothing. The group's members are counted in /proc/net/igmp (per
/// namespace), which tells the runner when bta has joined.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class LsdNamespaceInteropTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>argv: mode torrent save_path port lifetime_s then bta's command line. Mode "lt-seeds": bta starts
    /// first; once libtorrent has heard bta's first announce (of a torrent libtorrent does not have yet, so
    /// ignored) libtorrent adds the torrent (seeding) and announces it; the runner ends
    /// when bta exits ("bta exited N"). Mode "lt-leeches": libtorrent adds the torrent (no data) and announces it;
    /// once those announces are over (0, 2, 4 s) bta starts seeding and announces; the runner ends when libtorrent
    /// has every piece ("lt complete"). libtorrent's LSD log lines are printed ("lt &lt;== LSD: IP:PORT ih: HEX" for a peer heard).</summary>
    private const string Runner = """
        import os, sys, time, subprocess, threading, libtorrent as lt
        mode, torrent, save, port, lifetime = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
        bta = sys.argv[6:]
        end = time.time() + lifetime
        # /proc/net/dev is this namespace's (sysfs would still show the host's interfaces).
        with open('/proc/net/dev') as f:
            print('interfaces %s' % ' '.join(sorted(l.split(':')[0].strip() for l in f.readlines()[2:])), flush=True)

        def members():
            # /proc/net/igmp: per device, then one line per group: hex address (little-endian), users, timer, reporter.
            with open('/proc/net/igmp') as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 2 and parts[0] == '8F98C0EF':
                        return int(parts[1])
            return 0

        s = lt.session({'listen_interfaces': '127.0.0.1:%d' % port, 'outgoing_interfaces': '127.0.0.1',
            'enable_dht': False, 'enable_lsd': True, 'enable_upnp': False, 'enable_natpmp': False,
            'allow_multiple_connections_per_ip': True,
            # LSD's log is a session log alert (session_impl::log_lsd).
            'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.session_log_notification})
        while members() < 1 and time.time() < end:
            time.sleep(0.05)
        print('libtorrent joined the group (%d member)' % members(), flush=True)

        def add():
            p = lt.add_torrent_params()
            p.ti = lt.torrent_info(torrent)
            p.save_path = save
            p.flags &= ~lt.torrent_flags.auto_managed
            p.flags &= ~lt.torrent_flags.paused
            return s.add_torrent(p)

        def heard(text):
            # Until the text is in one of libtorrent's LSD log lines (each printed as it comes).
            while time.time() < end:
                for a in s.pop_alerts():
                    if 'LSD:' in a.message():
                        print('lt %s' % a.message(), flush=True)
                        if text in a.message():
                            return True
                time.sleep(0.05)
            return False

        def pump(proc):
            for line in proc.stdout:
                print('bta: ' + line.rstrip('\n'), flush=True)

        def start_bta():
            proc = subprocess.Popen(bta, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            threading.Thread(target=pump, args=(proc,), daemon=True).start()
            while members() < 2 and time.time() < end and proc.poll() is None:
                time.sleep(0.05)
            print('bta joined the group (%d members)' % members(), flush=True)
            return proc

        proc = None
        try:
            if mode == 'lt-seeds':
                proc = start_bta()
                # bta's own first announce heard while libtorrent has no such torrent (so it is dropped, and the
                # next is minutes away): from here only bta hearing libtorrent's announce can join the two.
                if heard('<== LSD: 127.0.0.1:%s ih:' % bta[bta.index('--port') + 1]):
                    print("bta's announce heard before libtorrent had the torrent", flush=True)
                h = add()
            else:
                h = add()
                time.sleep(6)
                proc = start_bta()
            last = 0
            while time.time() < end:
                for a in s.pop_alerts():
                    # The python binding has no lsd_peer_alert; LSD's log says what it heard: "<== LSD: IP:PORT ih: HEX".
                    if 'LSD:' in a.message():
                        print('lt %s' % a.message(), flush=True)
                    elif a.category() & lt.alert.category_t.error_notification:
                        print('alert %s' % a.message(), flush=True)
                st = h.status()
                if time.time() - last > 1:
                    print('lt state %s progress %.3f peers %d' % (st.state, st.progress, st.num_peers), flush=True)
                    last = time.time()
                if mode == 'lt-seeds' and proc.poll() is not None:
                    time.sleep(0.5)
                    print('bta exited %d' % proc.returncode, flush=True)
                    break
                if mode == 'lt-leeches' and st.is_seeding:
                    print('lt complete', flush=True)
                    break
                time.sleep(0.1)
        finally:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        print('runner done', flush=True)
        """;

    // lo up with multicast (a new namespace has it down); the route is belt and braces (see the summary).
    private const string NamespaceSetup = "ip link set lo up && ip link set lo multicast on && ip route add 239.0.0.0/8 dev lo";

    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(120);
    private readonly SwarmScope _swarm = new("lsd", Lifetime);

    [Fact]
    public async Task Bta_download_finds_a_libtorrent_seeder_through_lsd_alone_inside_a_network_namespace()
    {
        var content = SwarmContent.MultiFile("lsd-download", seed: 14);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, announceUrl: null);
        var target = _swarm.Dir.Sub("out");

        var runner = await RunAsync("lt-seeds", torrent, seedRoot, ["download", torrent.Path, "-o", target]);

        // libtorrent dropped bta's announce (it had no such torrent yet): bta found libtorrent by hearing its announce.
        Assert.Contains("bta's announce heard before libtorrent had the torrent", runner.Lines);
        Assert.True(runner.Lines.Contains("bta exited 0"), $"bta did not complete\n{runner.Log}");
        content.AssertDownloaded(target);
    }

    [Fact]
    public async Task A_libtorrent_leecher_finds_bta_seed_through_lsd_alone_inside_a_network_namespace()
    {
        var content = SwarmContent.MultiFile("lsd-seed", seed: 15);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, announceUrl: null);
        var target = _swarm.Dir.Sub("lt");
        var btaPort = LoopbackPorts.Next();

        var runner = await RunAsync("lt-leeches", torrent, target, ["seed", torrent.Path, "--data", seedRoot], btaPort);

        Assert.True(runner.Lines.Contains("lt complete"), $"libtorrent did not complete\n{runner.Log}");
        // libtorrent heard bta's announce (its own were over before bta listened) and dialled the port in it.
        Assert.Contains($"lt <== LSD: 127.0.0.1:{btaPort} ih: {torrent.InfoHash.ToHex()}", runner.Lines);
        content.AssertDownloaded(target);
    }

    public void Dispose() => _swarm.Dispose();

    /// <summary>Runs the runner in a new network namespace until it is done; fails (never skips) when the
    /// kernel refuses the namespace.</summary>
    private async Task<SwarmProcess> RunAsync(string mode, SwarmTorrent torrent, string savePath, string[] command, int? btaPort = null)
    {
        Tools.Require(Tools.Python);
        var script = PythonScripts.WriteTo(_swarm.Dir.Path, "lsd-runner.py", Runner);
        var port = btaPort ?? LoopbackPorts.Next();
        var config = Path.Combine(_swarm.Dir.Path, "bta-lsd.conf");
        await File.WriteAllTextAsync(config, """
            bta {
              listen-address = "127.0.0.1"
              dht.enabled = false
              lsd.enabled = true
            }
            """);
        var (program, prefix) = BtaProcess.Command();
        string[] bta = [program, .. prefix, .. command,
            "--port", port.ToString(CultureInfo.InvariantCulture), "--config", config];
        var python = string.Join(' ', new[] { Tools.Python, "-u", script, mode, torrent.Path, savePath,
            LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture), ((int)(Lifetime.TotalSeconds - 10)).ToString(CultureInfo.InvariantCulture) }
            .Concat(bta).Select(Quote));
        var runner = _swarm.Track(SwarmProcess.Start($"unshare -n: libtorrent and bta ({mode})", "unshare",
            ["-n", "sh", "-c", $"{NamespaceSetup} && exec {python}"], Lifetime, _swarm.Dir.Path,
            new Dictionary<string, string> { ["DOTNET_EnableDiagnostics"] = "0" }));
        var exit = await runner.WaitForExitAsync(Lifetime + TimeSpan.FromSeconds(5));
        output.WriteLine(runner.Log);
        if (!runner.Lines.Any(l => l.StartsWith("interfaces ", StringComparison.Ordinal)))
        {
            Assert.Fail($"the kernel refused a network namespace (`unshare -n`, then `{NamespaceSetup}`), exit {exit}: "
                + $"this LSD test cannot run here and does not count as passed\n{runner.Log}");
        }
        Assert.Contains("interfaces lo", runner.Lines);
        Assert.Contains(runner.Lines, l => l.StartsWith("bta joined the group (2 members)", StringComparison.Ordinal));
        return runner;
    }

    private static string Quote(string argument) => "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
