using System.Diagnostics;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Engine.Tests.Rpc;
using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Cluster.Tests;

/// <summary>
/// Three real <c>bta daemon --cluster</c> processes on 127.0.0.1 (Akka.Remote over TCP, split-brain resolver
/// stable-after 3 s), six torrents seeded by libtorrent through opentracker. Added through node A's RPC with
/// transmission-remote they land on at least two nodes and every node lists all six; <c>kill -9</c> of a node
/// (not the seed node) hosting torrent T restarts T on a survivor, where it completes byte-identical while the
/// others stay where they were; the killed node restarts and rejoins; a clean leave (SIGINT) hands its torrents
/// off with <c>stopped</c> announced and resume data saved; stop, start and remove reach a torrent from a node that
/// does not host it. No torrent is ever listed twice (on two nodes).
/// </summary>
public sealed class ThreeNodeClusterTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(170);

    /// <summary>From kill -9 to T running on a survivor: stable-after (3 s) plus failure detection and the
    /// shard's restart, with room for a loaded machine.</summary>
    private static readonly TimeSpan FailoverBound = TimeSpan.FromSeconds(40);

    private readonly SwarmScope _swarm = new("cluster3", Lifetime);

    [Fact]
    public async Task Six_torrents_over_three_daemons_survive_a_kill_9_a_rejoin_and_a_clean_leave()
    {
        var contents = Enumerable.Range(1, 6).Select(i => SwarmContent.SingleFile($"c{i}.bin", 180_000 + (i * 7_000), seed: 600 + i)).ToArray();
        var seedRoot = _swarm.Dir.Sub("seed");
        var tracker = _swarm.Track(await Opentracker.StartAsync(_swarm.Dir.Path, [], Lifetime));
        var torrents = new List<SwarmTorrent>();
        foreach (var content in contents)
        {
            content.WriteTo(seedRoot);
            var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, tracker.AnnounceUrl);
            await tracker.AllowAsync(torrent.InfoHash);
            torrents.Add(torrent);
        }
        foreach (var seeder in await Task.WhenAll(torrents.Select(t => LibtorrentSeeder.StartAsync(t, seedRoot, _swarm.Dir.Path, Lifetime))))
        {
            _swarm.Track(seeder);
        }
        var byHash = torrents.ToDictionary(t => t.InfoHash.ToHex());

        var a = _swarm.Track(await ClusterNode.StartAsync("a", _swarm.Dir.Path, Lifetime));
        var others = await Task.WhenAll(ClusterNode.StartAsync("b", _swarm.Dir.Path, Lifetime, a), ClusterNode.StartAsync("c", _swarm.Dir.Path, Lifetime, a));
        var b = _swarm.Track(others[0]);
        var c = _swarm.Track(others[1]);
        ClusterNode[] nodes = [a, b, c];
        // Up is not enough: the coordinator (on A, the oldest) gives shards only to regions that have registered
        // with it, which B's and C's do up to one retry interval after they are up. Adding before that put all
        // six on A once in CI.
        await WaitHostsAsync(a, 3);

        // Six torrents through node A's RPC, with transmission-remote: each .torrent padded past 128 KB (Akka's
        // default frame size, which dropped the add to another node of any .torrent over about 96 KB).
        foreach (var torrent in torrents)
        {
            (await TransmissionRemote.RunAsync(a.Daemon.Address, _swarm.Dir.Path, "-a", PaddedCopy(torrent.Path, 200_000))).AssertSucceeded();
        }
        foreach (var node in nodes)
        {
            await WaitListAsync(node, l => l.Count == 6 && l.All(t => t.Node.Length > 0), TimeSpan.FromSeconds(30), "all six listed");
            var rows = TransmissionRemote.Rows((await TransmissionRemote.RunAsync(node.Daemon.Address, _swarm.Dir.Path, "-l")).AssertSucceeded());
            Assert.Equal(6, rows.Count);
        }
        var all = await WaitListAsync(a, l => l.Count == 6 && l.All(t => t.Complete), TimeSpan.FromSeconds(60), "all six complete");
        var hosts = all.ToDictionary(t => t.Hash, t => t.Node);
        output.WriteLine("placement: " + string.Join(", ", all.Select(t => $"{t.Name}@{t.Node}")));
        Assert.True(hosts.Values.Distinct().Count() >= 2, $"all six torrents landed on one node: {string.Join(", ", hosts.Values)}");
        foreach (var torrent in all)
        {
            byHash[torrent.Hash].Content.AssertDownloaded(nodes.Single(n => n.Name == torrent.Node).DownloadDir);
        }

        // kill -9 (by PID) of a node hosting torrent T, not the seed node.
        var victim = new[] { b, c }.OrderByDescending(n => hosts.Values.Count(h => h == n.Name)).First();
        var t = all.First(x => x.Node == victim.Name);
        var survivors = nodes.Where(n => n != victim).ToArray();
        output.WriteLine($"killing {victim}, which hosts {hosts.Values.Count(h => h == victim.Name)} torrents, T = {t.Name} ({t.Hash})");
        await victim.Daemon.KillHardAsync();
        var clock = Stopwatch.StartNew();
        var moved = await WaitListAsync(a, l => l.Any(x => x.Hash == t.Hash && x.Node != victim.Name && x.Running), FailoverBound,
            "T running on a survivor", poll: TimeSpan.FromMilliseconds(200));
        var failover = clock.Elapsed;
        var newHost = survivors.Single(n => n.Name == moved.Single(x => x.Hash == t.Hash).Node);
        output.WriteLine($"failover of one torrent: kill -9 -> running on {newHost} in {failover.TotalSeconds:F1} s");
        Console.WriteLine($"[cluster] failover of one torrent (kill -9 -> running on a survivor): {failover.TotalSeconds:F1} s");

        // Separate disks: the survivor's folder has none of T, so it downloads T again from the seeders.
        await WaitListAsync(a, l => l.Any(x => x.Hash == t.Hash && x.Complete), TimeSpan.FromSeconds(60), "T complete on the survivor",
            poll: TimeSpan.FromMilliseconds(200));
        Console.WriteLine($"[cluster] T downloaded again on the survivor's own disk: complete {clock.Elapsed.TotalSeconds:F1} s after the kill");
        var after = await WaitListAsync(a, l => l.Count == 6 && l.All(x => x.Node != victim.Name && x.Complete), TimeSpan.FromSeconds(60),
            "all six complete on the survivors");
        byHash[t.Hash].Content.AssertDownloaded(newHost.DownloadDir);
        foreach (var torrent in after.Where(x => hosts[x.Hash] != victim.Name))
        {
            // The others are undisturbed: still where they were.
            Assert.Equal(hosts[torrent.Hash], torrent.Node);
        }
        foreach (var survivor in survivors)
        {
            var rows = TransmissionRemote.Rows((await TransmissionRemote.RunAsync(survivor.Daemon.Address, _swarm.Dir.Path, "-l")).AssertSucceeded());
            Assert.Equal(6, rows.Count);
        }

        // The killed node restarts with its folders and port and rejoins: it hosts none of the six when it starts
        // (its stored copies stay parked), so listing all six means the other members answer it.
        await victim.RestartAsync();
        await WaitListAsync(victim, l => l.Count == 6, TimeSpan.FromSeconds(40), "all six listed by the rejoined node");

        // A clean leave (SIGINT) of the non-seed node hosting the most: stopped announced, resume saved.
        var settled = await WaitListAsync(a, l => l.Count == 6 && l.All(x => x.Running), TimeSpan.FromSeconds(30), "all six running");
        var leaver = new[] { b, c }.OrderByDescending(n => settled.Count(x => x.Node == n.Name)).First();
        var handedOff = settled.Where(x => x.Node == leaver.Name).ToList();
        Assert.NotEmpty(handedOff);
        var leaverPort = leaver.Daemon.PeerPort;
        Assert.Contains(leaverPort, await TrackerPeers.PortsAsync(tracker, handedOff[0].Hash));
        output.WriteLine($"{leaver} leaves with {string.Join(", ", handedOff.Select(x => x.Name))}");
        clock.Restart();
        Assert.Equal(0, await leaver.Daemon.InterruptAsync(TimeSpan.FromSeconds(60)));
        output.WriteLine($"clean leave of {leaver}: exited in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var torrent in handedOff)
        {
            Assert.DoesNotContain(leaverPort, await TrackerPeers.PortsAsync(tracker, torrent.Hash));
            Assert.True(File.Exists(ResumeStore.PathFor(leaver.DownloadDir, Hash(torrent.Hash))),
                $"no resume file for {torrent.Name} on {leaver}\n{leaver.Daemon.Log}");
            // Kept (parked) in the node's state folder for a full-cluster restart.
            Assert.True(File.Exists(Path.Combine(leaver.StateDir, "torrents", torrent.Hash + ".torrent")));
        }
        var remaining = nodes.Where(n => n != leaver).ToArray();
        IReadOnlyList<ListedTorrent> final = [];
        foreach (var node in remaining)
        {
            final = await WaitListAsync(node, l => l.Count == 6 && l.All(x => x.Node != leaver.Name && x.Complete), TimeSpan.FromSeconds(60),
                "all six complete on the two remaining nodes");
        }

        // Stop, start and remove through the node that does not host the torrent.
        var x = final[0];
        var elsewhere = remaining.First(n => n.Name != x.Node);
        (await TransmissionRemote.RunAsync(elsewhere.Daemon.Address, _swarm.Dir.Path, "-t", x.Hash, "-S")).AssertSucceeded();
        await WaitListAsync(remaining[0], l => l.Single(y => y.Hash == x.Hash).Status == 0, TimeSpan.FromSeconds(15), "stopped");
        (await TransmissionRemote.RunAsync(elsewhere.Daemon.Address, _swarm.Dir.Path, "-t", x.Hash, "-s")).AssertSucceeded();
        await WaitListAsync(remaining[1], l => l.Single(y => y.Hash == x.Hash).Running, TimeSpan.FromSeconds(15), "started again");
        (await TransmissionRemote.RunAsync(elsewhere.Daemon.Address, _swarm.Dir.Path, "-t", x.Hash, "-r")).AssertSucceeded();
        foreach (var node in remaining)
        {
            await WaitListAsync(node, l => l.Count == 5 && l.All(y => y.Hash != x.Hash), TimeSpan.FromSeconds(15), "five left after the remove");
        }
        // Remember-entities and the specs live in memory only: no durable DData (LMDB) folder anywhere.
        Assert.Empty(Directory.GetDirectories(_swarm.Dir.Path, "ddata*", SearchOption.AllDirectories));
    }

    /// <summary>Waits until <paramref name="node"/>'s list satisfies <paramref name="done"/>; every list read on the
    /// way must name each torrent once (no torrent on two nodes at once).</summary>
    private async Task<IReadOnlyList<ListedTorrent>> WaitListAsync(ClusterNode node, Func<IReadOnlyList<ListedTorrent>, bool> done,
        TimeSpan timeout, string what, TimeSpan? poll = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        IReadOnlyList<ListedTorrent> list = [];
        while (DateTime.UtcNow < deadline)
        {
            list = await node.ListAsync();
            var twice = list.GroupBy(x => x.Hash).Where(g => g.Count() > 1).Select(g => $"{g.Key} on {string.Join(" and ", g.Select(x => x.Node))}").ToList();
            Assert.True(twice.Count == 0, $"a torrent runs on two nodes at once: {string.Join("; ", twice)}");
            if (done(list))
            {
                return list;
            }
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(500));
        }
        Assert.Fail($"{node}: not {what} within {timeout}: {string.Join(", ", list.Select(x => $"{x.Name}@{x.Node}/{x.Status}/{x.LeftUntilDone}"))}\n"
            + $"--- {node} log ---\n{node.Daemon.Log}");
        return list;
    }

    /// <summary>Waits for <paramref name="node"/>'s log to say the coordinator knows <paramref name="count"/>
    /// shard regions (<see cref="Engine.Cluster.TorrentClusterFront"/>'s "Torrent hosts" line).</summary>
    private static Task WaitHostsAsync(ClusterNode node, int count) =>
        node.Daemon.Process.WaitForOutputAsync(l => l.Contains($"Torrent hosts: {count} of ", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30));

    /// <summary>A copy of the .torrent with a top-level key "zz" of <paramref name="padding"/> bytes after "info"
    /// (keys stay sorted; the info-hash is unchanged): a large torrent file, as one with many pieces or files.</summary>
    private static string PaddedCopy(string torrentPath, int padding)
    {
        var bytes = File.ReadAllBytes(torrentPath);
        var suffix = System.Text.Encoding.ASCII.GetBytes($"2:zz{padding}:");
        var padded = new byte[bytes.Length - 1 + suffix.Length + padding + 1];
        bytes.AsSpan(0, bytes.Length - 1).CopyTo(padded);
        suffix.CopyTo(padded, bytes.Length - 1);
        padded.AsSpan(bytes.Length - 1 + suffix.Length, padding).Fill((byte)'x');
        padded[^1] = (byte)'e';
        var path = Path.ChangeExtension(torrentPath, ".padded.torrent");
        File.WriteAllBytes(path, padded);
        return path;
    }

    private static InfoHash Hash(string hex) => InfoHash.TryParseHex(hex, out var hash) ? hash : throw new FormatException(hex);

    public void Dispose() => _swarm.Dispose();
}
