using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BitTorrentActors.ClusterSim;

/// <summary>
/// Node A (the seed, the oldest member, so the shard coordinator and the collector live here and are never the
/// victim). It starts members B and C as child processes, starts N entities through the region, measures memory,
/// then takes C away - SIGTERM (a clean leave: CoordinatedShutdown hands its shards off) or SIGKILL (kill -9: the
/// failure detector, then the SBR after stable-after, downs it) - and times how long until every entity C hosted
/// runs again on A or B. Optionally a fresh C rejoins and the time to a balanced shard layout is measured.
/// Prints one "RESULT {json}" line; exit 1 if an invariant failed (lost or duplicated entities, a timeout).
/// </summary>
public static class Driver
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(Options o)
    {
        var s = o.Settings;
        var deadline = Stopwatch.StartNew();
        var budget = TimeSpan.FromSeconds(o.TimeoutSeconds);
        var result = new SortedDictionary<string, object>
        {
            ["scenario"] = o.Scenario, ["entities"] = o.Entities, ["shards"] = s.Shards,
            ["state_bytes"] = s.StateBytes, ["stable_after_ms"] = (int)s.StableAfter.TotalMilliseconds,
            ["rebalance_limit"] = s.RebalanceAbsoluteLimit, ["recovery"] = s.RecoveryStrategy,
            ["overrides"] = s.Overrides, ["loadavg_start"] = LoadAverage(),
        };
        var failures = new List<string>();
        var members = new Dictionary<int, Process>();
        var ok = false;

        using var host = SimNode.Build(s, s.BasePort, driver: true);
        try
        {
            await host.StartAsync();
            var system = host.Services.GetRequiredService<ActorSystem>();
            var registry = host.Services.GetRequiredService<ActorRegistry>();
            var collector = registry.Get<Collector>();
            var region = registry.Get<SimTorrent>();
            var cluster = Cluster.Get(system);
            Log($"driver up on {s.Address(s.BasePort)} (pid {Environment.ProcessId}); {SimNode.Effective(system)}");

            var lifetime = o.TimeoutSeconds + 30;
            foreach (var port in new[] { s.BasePort + 1, s.BasePort + 2 })
                members[port] = StartMember(o, port, lifetime);
            WritePids(o.PidFile, members.Values);

            var t = Stopwatch.GetTimestamp();
            await WaitAsync("3 members up", () => Task.FromResult(
                cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == 3), deadline, budget);
            result["cluster_up_s"] = Secs(t, Stopwatch.GetTimestamp());
            var nodes = new[] { s.BasePort, s.BasePort + 1, s.BasePort + 2 }.Select(s.Address).ToArray();

            // Baseline heap of every node before any entity, after the cluster settled.
            await Task.Delay(1000);
            var before = await StatsAsync(system, nodes);

            // Start N entities: one Announce each through the region; done when the collector saw N distinct starts.
            var ids = Enumerable.Range(0, o.Entities).Select(InfoHash).ToArray();
            var t0 = Stopwatch.GetTimestamp();
            foreach (var id in ids) region.Tell(new SimTorrent.Announce(id));
            var report = await UntilAsync(collector, r => r.Distinct == o.Entities, "all entities started", deadline, budget);
            result["start_s"] = Secs(t0, report.LastStartTicks);
            result["start_per_1000_s"] = Round(Secs(t0, report.LastStartTicks) * 1000.0 / o.Entities);
            result["running_per_node"] = report.RunningPerNode;
            Log($"started {o.Entities} entities in {result["start_s"]} s: {Show(report.RunningPerNode)}");

            var after = await StatsAsync(system, nodes);
            var heapDelta = after.Sum(a => a.HeapBytes) - before.Sum(b => b.HeapBytes);
            var wsDelta = after.Sum(a => a.WorkingSetBytes) - before.Sum(b => b.WorkingSetBytes);
            result["heap_bytes_per_entity"] = heapDelta / o.Entities;
            result["working_set_bytes_per_entity"] = wsDelta / o.Entities;
            result["heap_mb_per_node_after"] = after.ToDictionary(a => a.Node, a => Round(a.HeapBytes / 1048576.0));
            Log($"memory: {heapDelta / o.Entities} B heap per entity over the cluster "
                + $"({wsDelta / o.Entities} B working set; includes each node's replica of the remembered ids)");

            // Take node C away.
            var victimPort = s.BasePort + 2;
            var victim = s.Address(victimPort);
            var victimCount = await collector.Ask<int>(new Collector.MarkVictim(victim, o.Scenario == "kill"), AskTimeout);
            result["victim_entities"] = victimCount;
            if (victimCount == 0) throw new InvalidOperationException($"node C hosts no entity; use more than {o.Entities}");
            var proc = members[victimPort];
            var tGone = Stopwatch.GetTimestamp();
            if (o.Scenario == "kill")
            {
                proc.Kill(); // SIGKILL: no handoff, no goodbye; the failure detector has to notice.
            }
            else
            {
                using var term = Process.Start("kill", ["-TERM", proc.Id.ToString(CultureInfo.InvariantCulture)]);
                await term.WaitForExitAsync();
            }
            Log($"{(o.Scenario == "kill" ? "kill -9" : "SIGTERM (clean leave)")} of node C hosting {victimCount} entities");

            report = await UntilAsync(collector, r => r.VictimRestarted == r.VictimTotal, "victim's entities back",
                deadline, budget);
            var tDone = report.VictimLastRestartTicks;
            result["moved_total_s"] = Secs(tGone, tDone);
            result["moved_first_s"] = Secs(tGone, report.VictimFirstRestartTicks);
            result["moved_per_1000_s"] = Round(Secs(tGone, tDone) * 1000.0 / victimCount);
            result["moved_percentiles_s"] = report.VictimRestartTicks
                .Select(t => Secs(tGone, t)).Order().ToArray() is var lat && lat.Length > 0
                ? new SortedDictionary<string, double>
                {
                    ["p50"] = lat[(lat.Length - 1) / 2], ["p90"] = lat[(int)((lat.Length - 1) * 0.9)],
                    ["p99"] = lat[(int)((lat.Length - 1) * 0.99)], ["max"] = lat[^1],
                }
                : new SortedDictionary<string, double>();
            result["restarted_entities"] = report.VictimRestarted;
            result["other_restarts"] = report.OtherRestarts;
            result["duplicates"] = report.Duplicates;
            result["victim_stopped_reports"] = report.VictimStopped;
            if (report.VictimUnreachableTicks > 0) result["unreachable_after_s"] = Secs(tGone, report.VictimUnreachableTicks);
            if (report.VictimDownTicks > 0) result["downed_after_s"] = Secs(tGone, report.VictimDownTicks);
            if (report.VictimRemovedTicks > 0) result["removed_after_s"] = Secs(tGone, report.VictimRemovedTicks);
            if (report.VictimFirstStopTicks > 0)
            {
                result["handoff_first_stop_s"] = Secs(tGone, report.VictimFirstStopTicks);
                result["handoff_last_stop_s"] = Secs(tGone, report.VictimLastStopTicks);
            }
            Log($"all {victimCount} back after {result["moved_total_s"]} s (first after {result["moved_first_s"]} s); "
                + $"unreachable {Get(result, "unreachable_after_s")} s, downed {Get(result, "downed_after_s")} s, "
                + $"removed {Get(result, "removed_after_s")} s, stops reported {report.VictimStopped}, "
                + $"other restarts {report.OtherRestarts}, duplicates {report.Duplicates}: {Show(report.RunningPerNode)}");

            if (report.Distinct != o.Entities) failures.Add($"{report.Distinct} distinct entities, expected {o.Entities}");
            if (report.Duplicates != 0) failures.Add($"{report.Duplicates} entities ran on two live nodes at once");
            if (report.OtherRestarts != 0) failures.Add($"{report.OtherRestarts} entities restarted that were not on C");
            if (o.Scenario == "leave" && report.VictimStopped != victimCount)
                failures.Add($"clean leave: {report.VictimStopped} of {victimCount} entities got the handoff stop");
            var runningNow = report.RunningPerNode.Values.Sum();
            if (runningNow != o.Entities) failures.Add($"{runningNow} entities running after the move, expected {o.Entities}");

            if (o.Scenario == "leave")
            {
                await Task.WhenAny(proc.WaitForExitAsync(), Task.Delay(30_000));
                result["victim_process_exit_s"] = proc.HasExited ? Secs(tGone, Stopwatch.GetTimestamp()) : -1;
                if (!proc.HasExited) failures.Add("node C did not exit within 30 s of SIGTERM");
            }

            if (o.Rejoin) await RejoinAsync(o, system, region, collector, members, result, failures, deadline, budget);
            ok = failures.Count == 0;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or AskTimeoutException)
        {
            failures.Add(e.Message);
        }
        finally
        {
            foreach (var p in members.Values) KillQuietly(p);
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try { await host.StopAsync(stop.Token); }
            catch (OperationCanceledException) { failures.Add("driver shutdown exceeded 20 s"); }
        }
        result["loadavg_end"] = LoadAverage();

        result["ok"] = ok && failures.Count == 0;
        result["failures"] = failures;
        result["wall_s"] = Round(deadline.Elapsed.TotalSeconds);
        Console.Out.WriteLine("RESULT " + JsonSerializer.Serialize(result));
        foreach (var f in failures) Console.Error.WriteLine($"cluster-sim: FAILED: {f}");
        return failures.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// A fresh node C joins the two survivors: the coordinator's rebalance moves shards to it (each moved entity is
    /// handed off, i.e. stopped and restarted = one more announce) until the shard counts differ by at most one.
    /// </summary>
    private static async Task RejoinAsync(Options o, ActorSystem system, IActorRef region, IActorRef collector,
        Dictionary<int, Process> members, IDictionary<string, object> result, List<string> failures,
        Stopwatch deadline, TimeSpan budget)
    {
        var s = o.Settings;
        var port = s.BasePort + 2;
        var cluster = Cluster.Get(system);
        var before = await collector.Ask<Collector.Report>(Collector.Query.Instance, AskTimeout);
        // The old C must be gone from the membership before its port is reused.
        await WaitAsync("old C removed", () => Task.FromResult(
            cluster.State.Members.All(m => m.Address.Port != port)), deadline, budget);
        var t0 = Stopwatch.GetTimestamp();
        members[port] = StartMember(o, port, o.TimeoutSeconds + 30);
        WritePids(o.PidFile, members.Values);
        await WaitAsync("C rejoined", () => Task.FromResult(
            cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == 3), deadline, budget);
        result["rejoin_up_s"] = Secs(t0, Stopwatch.GetTimestamp());

        var rounds = 0;
        var allocated = 0;
        int[] layout = [];
        await WaitAsync("shards balanced after rejoin", async () =>
        {
            var stats = await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(3)),
                AskTimeout);
            layout = stats.Regions.Values.Select(r => r.Stats.Count).OrderBy(n => n).ToArray();
            if (rounds++ % 10 == 0)
                Log("rejoin: shards per region " + string.Join(", ", stats.Regions.Select(kv =>
                    $"{kv.Key.Port}={kv.Value.Stats.Count}")));
            // Shards without an entity are never allocated, so "all" is what the survivors held, not --shards.
            if (allocated == 0) allocated = layout.Sum();
            return layout.Length == 3 && layout[^1] - layout[0] <= 1 && layout.Sum() == allocated;
        }, deadline, budget, pollMs: 1000);
        var balanced = Stopwatch.GetTimestamp();
        // Let the last handed-off shards' entities report in.
        await Task.Delay(2000);
        var after = await collector.Ask<Collector.Report>(Collector.Query.Instance, AskTimeout);
        result["rejoin_balanced_s"] = Secs(t0, balanced);
        result["rejoin_shard_layout"] = layout;
        result["rejoin_moved_entities"] = after.Incarnations - before.Incarnations;
        result["rejoin_running_per_node"] = after.RunningPerNode;
        Log($"rejoin: balanced ({string.Join("/", layout)} shards) {result["rejoin_balanced_s"]} s after start, "
            + $"{after.Incarnations - before.Incarnations} entities moved (re-announced): {Show(after.RunningPerNode)}");
        if (after.Duplicates != 0) failures.Add($"rejoin: {after.Duplicates} entities ran on two nodes at once");
        if (after.RunningPerNode.Values.Sum() != o.Entities)
            failures.Add($"rejoin: {after.RunningPerNode.Values.Sum()} running, expected {o.Entities}");
    }

    private static Process StartMember(Options o, int port, int lifetime)
    {
        var exe = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") psi.ArgumentList.Add(typeof(Driver).Assembly.Location);
        foreach (var a in o.MemberArgs(port, Environment.ProcessId, lifetime)) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("member did not start");
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  [{port}] {e.Data}"); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  [{port}] {e.Data}"); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static void WritePids(string? file, IEnumerable<Process> members)
    {
        if (file is null) return;
        File.WriteAllLines(file, members.Where(p => !p.HasExited).Select(p => p.Id.ToString(CultureInfo.InvariantCulture)));
    }

    private static void KillQuietly(Process p)
    {
        try
        {
            if (!p.HasExited) p.Kill();
            p.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static async Task<NodeAgent.Stats[]> StatsAsync(ActorSystem system, IEnumerable<string> nodes) =>
        await Task.WhenAll(nodes.Select(n =>
            system.ActorSelection(n + "/user/agent").Ask<NodeAgent.Stats>(NodeAgent.GetStats.Instance, AskTimeout)));

    private static async Task<Collector.Report> UntilAsync(IActorRef collector, Func<Collector.Report, bool> done,
        string what, Stopwatch deadline, TimeSpan budget)
    {
        Collector.Report? last = null;
        await WaitAsync(what, async () =>
        {
            last = await collector.Ask<Collector.Report>(Collector.Query.Instance, AskTimeout);
            return done(last);
        }, deadline, budget, pollMs: 20);
        return last!;
    }

    private static async Task WaitAsync(string what, Func<Task<bool>> done, Stopwatch deadline, TimeSpan budget,
        int pollMs = 50)
    {
        while (!await done())
        {
            if (deadline.Elapsed > budget) throw new TimeoutException($"timed out waiting for: {what}");
            await Task.Delay(pollMs);
        }
    }

    /// <summary>A deterministic stand-in info-hash (SHA-1 hex), so runs are comparable shard for shard.</summary>
    private static string InfoHash(int i) =>
        Convert.ToHexStringLower(SHA1.HashData(Encoding.ASCII.GetBytes($"sim-torrent-{i}")));

    private static double Secs(long from, long to) => Round(Stopwatch.GetElapsedTime(from, to).TotalSeconds);

    private static double Round(double v) => Math.Round(v, 3);

    /// <summary>The machine's 1-minute load average: the figures mean little without it on a shared box.</summary>
    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }

    private static object Get(IDictionary<string, object> d, string k) => d.TryGetValue(k, out var v) ? v : "-";

    private static string Show(IReadOnlyDictionary<string, int> perNode) =>
        string.Join(", ", perNode.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key[^5..]}={kv.Value}"));

    private static void Log(string line)
    {
        Console.Out.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
        Console.Out.Flush();
    }
}
