using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>
/// The same sequence as <see cref="TransmissionRemoteTests"/> through Debian's python3-transmissionrpc 0.11 (a
/// client nobody here wrote, which asks torrent-get for every field it knows and adds a local .torrent by
/// <c>filename</c>), against a <c>bta daemon</c> process, libtorrent and aria2 seeding on 127.0.0.1.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class PythonTransmissionRpcTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(170);
    private readonly SwarmScope _swarm = new("rpc-python", Lifetime);

    private const string Script = """
        import sys, time
        import transmissionrpc

        host, port, a_path, b_path, unwanted = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
        c = transmissionrpc.Client(host, port=port, timeout=30)
        print("rpc-version", c.rpc_version, flush=True)

        def wait(tid, check, what, seconds):
            deadline = time.time() + seconds
            while time.time() < deadline:
                t = c.get_torrent(tid)
                if check(t):
                    return t
                time.sleep(0.25)
            raise SystemExit("torrent %d did not become %s" % (tid, what))

        a = c.add_torrent(a_path)
        b = c.add_torrent(b_path)
        print("added", a.id, b.id, flush=True)
        for t in c.get_torrents():
            print("torrent", t.id, t.name, t.status, t.hashString, flush=True)
        files = c.get_files(a.id)[a.id]
        index = [i for i, f in files.items() if f["name"] == unwanted][0]
        c.change_torrent(a.id, files_unwanted=[index])
        print("selected", [f["selected"] for i, f in sorted(c.get_files(a.id)[a.id].items())], flush=True)
        c.stop_torrent(a.id)
        wait(a.id, lambda t: t.status == "stopped", "stopped", 30)
        print("stopped", flush=True)
        c.start_torrent(a.id)
        c.verify_torrent(a.id)
        wait(b.id, lambda t: t.leftUntilDone == 0 and t.percentDone >= 1, "complete", 60)
        print("beta complete", flush=True)
        c.remove_torrent(b.id, delete_data=True)
        print("removed", [t.id for t in c.get_torrents()], flush=True)
        t = wait(a.id, lambda t: t.leftUntilDone == 0 and t.percentDone >= 1, "complete", 90)
        print("alpha complete", t.sizeWhenDone, t.totalSize, flush=True)
        """;

    [Fact]
    public async Task Python_transmissionrpc_adds_lists_stops_starts_verifies_deselects_and_removes()
    {
        var alpha = SwarmContent.MultiFile("alpha", seed: 61);
        var beta = SwarmContent.SingleFile("beta.bin", 3_000_000, seed: 62);
        var (tracker, alphaTorrent, alphaSeed) = await _swarm.StartTrackerAsync(alpha);
        var betaSeed = _swarm.Dir.Sub("seed-beta");
        beta.WriteTo(betaSeed);
        var betaTorrent = SwarmTorrent.Build(beta, _swarm.Dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(betaTorrent.InfoHash);
        _swarm.Track(await LibtorrentSeeder.StartAsync(alphaTorrent, alphaSeed, _swarm.Dir.Path, Lifetime, uploadLimit: 400_000));
        _swarm.Track(await Aria2Seeder.StartAsync(betaTorrent, betaSeed, _swarm.Dir.Path, Lifetime));
        var downloads = _swarm.Dir.Sub("downloads");
        // transmissionrpc sends a local .torrent as a 'filename' path: the daemon may read the test's folder.
        var daemon = _swarm.Track(await BtaDaemon.StartAsync(_swarm.Dir.Path, _swarm.Dir.Sub("state"), downloads, Lifetime,
            $"rpc.torrent-dirs = \"{_swarm.Dir.Path}\""));
        var uri = new Uri(daemon.RpcUrl);
        var script = PythonScripts.WriteTo(_swarm.Dir.Path, "transmissionrpc-client.py", Script);

        using var client = SwarmProcess.Start("python3 transmissionrpc", Tools.Python,
            ["-u", script, uri.Host, uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), alphaTorrent.Path,
                betaTorrent.Path, "alpha/video/clip.bin"],
            Lifetime, _swarm.Dir.Path);
        var exitCode = await client.WaitForExitAsync(TimeSpan.FromSeconds(160));
        output.WriteLine(client.Log);
        Assert.True(exitCode == 0, $"the transmissionrpc client exited with {exitCode}\n{client.Log}\n--- daemon ---\n{daemon.Log}");

        Assert.Contains("added 1 2", client.Lines);
        Assert.Contains(client.Lines, l => l.StartsWith("torrent 1 alpha ", StringComparison.Ordinal) && l.EndsWith(alphaTorrent.InfoHash.ToHex(), StringComparison.Ordinal));
        Assert.Contains("selected [True, True, True, True, True, False]", client.Lines);
        Assert.Contains("removed [1]", client.Lines);
        Assert.Contains(client.Lines, l => l.StartsWith("alpha complete ", StringComparison.Ordinal));
        Assert.False(File.Exists(beta.PathUnder(downloads, "beta.bin")), "beta.bin is still there after remove with delete_data");
        foreach (var (path, bytes) in alpha.Files.Where(f => f.Path != "video/clip.bin"))
        {
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(alpha.PathUnder(downloads, path))), $"{path} differs from the seed");
        }
        Assert.Equal(0, await daemon.InterruptAsync(TimeSpan.FromSeconds(60)));
    }

    public void Dispose() => _swarm.Dispose();
}
