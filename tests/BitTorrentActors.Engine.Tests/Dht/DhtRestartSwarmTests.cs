using System.Globalization;
using Akka.Actor;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.Session;
using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Dht;

/// <summary>
/// Restart: a session joins a DHT of five python3-libtorrent nodes (127.0.x.1) through one of them, saves its
/// table in its state folder on shutdown, and the next session on that folder, with NO bootstrap node at all
/// (bta.dht.bootstrap-nodes = ""), still finds the swarm: a bare trackerless magnet for the torrent node 0 seeds
/// completes byte-identical, so the saved table alone was the way in. The python process is bounded in time and
/// killed by PID; the sessions run behind loopback-only.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class DhtRestartSwarmTests(ITestOutputHelper output) : SessionTestKit
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(110);
    private readonly SwarmScope _swarm = new("dht-restart", Lifetime);

    [Fact]
    public async Task A_session_restarted_with_no_bootstrap_node_finds_the_swarm_through_its_saved_table()
    {
        var content = SwarmContent.MultiFile("dht-restart", seed: 79);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, announceUrl: null);
        var ports = Enumerable.Range(0, 5).Select(_ => LoopbackPorts.Next()).ToArray();
        var script = PythonScripts.WriteTo(_swarm.Dir.Path, "dht-seeder.py", TrackerlessMagnetTests.FiveNodesOneSeeder);
        var mesh = _swarm.Track(SwarmProcess.Start("five libtorrent DHT nodes on 127.0.1-5.1, node 0 seeding", Tools.Python,
            ["-u", script, string.Join(',', ports), torrent.Path, seedRoot, ((int)Lifetime.TotalSeconds).ToString(CultureInfo.InvariantCulture)],
            Lifetime + TimeSpan.FromSeconds(5), _swarm.Dir.Path));
        await mesh.WaitForOutputAsync(l => l == "ready", TimeSpan.FromSeconds(45));
        using var state = new TempDirectory("bta-dht-restart");

        // First run: joins through node 2 only, learns the mesh, saves the table on shutdown.
        var first = SessionTorrents.Start(this,
            SessionTorrents.Settings($"bta.dht.bootstrap-nodes = \"127.0.3.1:{ports[2]}\""), state.Path, Downloads.Path);
        await AwaitAssertAsync(async () => Assert.True(
            (await first.Ask<DhtNodeActor.DhtStatus>(TorrentSessionActor.GetDhtStatus.Instance, TimeSpan.FromSeconds(5))).Nodes >= 3),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
        await SessionTorrents.ShutdownSessionAsync(first);
        await StopAsync(first);
        Assert.True(File.Exists(Path.Combine(state.Path, "dht.dat")), "no dht.dat in the state folder");

        // Second run: no bootstrap node (the test default ""), only the saved table.
        var settings = SessionTorrents.Settings();
        Assert.Empty(settings.Dht.BootstrapNodes);
        var second = SessionTorrents.Start(this, settings, state.Path, Downloads.Path);
        var added = await second.Ask(new TorrentSessionActor.AddMagnet($"magnet:?xt=urn:btih:{torrent.InfoHash.ToHex()}",
            AddTorrentOptions.Default), TimeSpan.FromSeconds(10));
        Assert.IsType<TorrentSessionActor.TorrentAdded>(added);
        try
        {
            await SessionTorrents.WaitForAsync(second, torrent.InfoHash, s => s.Activity == TorrentActivity.Seeding, seconds: 60);
        }
        catch (Xunit.Sdk.XunitException)
        {
            output.WriteLine(mesh.Log);
            throw;
        }
        content.AssertDownloaded(Downloads.Path);
        // Stopped before the state folder goes: the node writes its table once more on stop.
        await SessionTorrents.ShutdownSessionAsync(second);
        await StopAsync(second);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _swarm.Dispose();
        }
    }

    private async Task StopAsync(IActorRef actor)
    {
        var watcher = CreateTestProbe();
        watcher.Watch(actor);
        Sys.Stop(actor);
        await watcher.ExpectTerminatedAsync(actor, TimeSpan.FromSeconds(10));
    }
}
