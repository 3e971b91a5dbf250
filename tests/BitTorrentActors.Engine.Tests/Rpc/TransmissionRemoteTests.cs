using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>
/// Debian's transmission-remote 3.00 drives a real <c>bta daemon</c> process while libtorrent and aria2 seed the
/// content through opentracker, all on 127.0.0.1: add two torrents, list, stop and start, verify, set a file
/// unwanted, remove one with its data; the other completes byte-identical.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class TransmissionRemoteTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(170);
    private readonly SwarmScope _swarm = new("rpc-remote", Lifetime);

    [Fact]
    public async Task Transmission_remote_adds_lists_stops_starts_verifies_deselects_and_removes()
    {
        var alpha = SwarmContent.MultiFile("alpha", seed: 51);
        var beta = SwarmContent.SingleFile("beta.bin", 3_000_000, seed: 52);
        var (tracker, alphaTorrent, alphaSeed) = await _swarm.StartTrackerAsync(alpha);
        var betaSeed = _swarm.Dir.Sub("seed-beta");
        beta.WriteTo(betaSeed);
        var betaTorrent = SwarmTorrent.Build(beta, _swarm.Dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(betaTorrent.InfoHash);
        // Capped so the download lasts long enough to stop, start, verify and deselect a file on the way.
        _swarm.Track(await LibtorrentSeeder.StartAsync(alphaTorrent, alphaSeed, _swarm.Dir.Path, Lifetime, uploadLimit: 400_000));
        _swarm.Track(await Aria2Seeder.StartAsync(betaTorrent, betaSeed, _swarm.Dir.Path, Lifetime));
        var downloads = _swarm.Dir.Sub("downloads");
        var daemon = _swarm.Track(await BtaDaemon.StartAsync(_swarm.Dir.Path, _swarm.Dir.Sub("state"), downloads, Lifetime));
        using var rpc = new RpcClient(daemon.RpcUrl);
        Task<TransmissionRemote.Result> Remote(params string[] args) => TransmissionRemote.RunAsync(daemon.Address, _swarm.Dir.Path, args);

        Assert.Contains("success", (await Remote("-a", alphaTorrent.Path)).AssertSucceeded().Text);
        Assert.Contains("success", (await Remote("-a", betaTorrent.Path)).AssertSucceeded().Text);
        var list = (await Remote("-l")).AssertSucceeded();
        output.WriteLine(list.Text);
        var rows = TransmissionRemote.Rows(list);
        Assert.Equal(["1", "2"], rows.Select(r => r[0]));
        Assert.Equal(["alpha", "beta.bin"], rows.Select(r => r[^1]));

        // The big last file of alpha, deselected while the download runs.
        var files = (await rpc.SucceedAsync("torrent-get", """{"ids":[1],"fields":["files"]}""")).GetProperty("torrents")[0].GetProperty("files");
        var unwanted = files.EnumerateArray().Select((f, i) => (Name: f.GetProperty("name").GetString()!, Index: i)).Single(f => f.Name == "alpha/video/clip.bin").Index;
        (await Remote("-t", "1", "-G", unwanted.ToString(System.Globalization.CultureInfo.InvariantCulture))).AssertSucceeded();
        var fileList = (await Remote("-t", "1", "-f")).AssertSucceeded();
        output.WriteLine(fileList.Text);
        Assert.Contains(fileList.Lines, l => l.Contains("alpha/video/clip.bin", StringComparison.Ordinal) && l.Contains(" No ", StringComparison.Ordinal));

        (await Remote("-t", "1", "-S")).AssertSucceeded();
        await RpcWait.TorrentAsync(rpc, 1, t => t.GetProperty("status").GetInt32() == 0, TimeSpan.FromSeconds(30), "stopped", () => daemon.Log);
        Assert.Contains((await Remote("-l")).Lines, l => l.Contains("Stopped", StringComparison.Ordinal) && l.EndsWith("alpha", StringComparison.Ordinal));
        (await Remote("-t", "1", "-s")).AssertSucceeded();
        (await Remote("-t", "1", "-v")).AssertSucceeded();
        var info = (await Remote("-t", "1", "-i")).AssertSucceeded();
        output.WriteLine(info.Text);
        Assert.Contains($"  Hash: {alphaTorrent.InfoHash.ToHex()}", info.Lines);
        Assert.Contains("  Name: alpha", info.Lines);

        // beta (aria2, unlimited) completes first; then it goes, with its data.
        await RpcWait.TorrentAsync(rpc, 2, RpcWait.Complete, TimeSpan.FromSeconds(60), "complete", () => daemon.Log);
        beta.AssertDownloaded(downloads);
        (await Remote("-t", "2", "--remove-and-delete")).AssertSucceeded();
        var betaFile = beta.PathUnder(downloads, "beta.bin");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (File.Exists(betaFile) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.False(File.Exists(betaFile), $"beta.bin is still there after --remove-and-delete\n{daemon.Log}");

        var done = await RpcWait.TorrentAsync(rpc, 1, RpcWait.Complete, TimeSpan.FromSeconds(90), "complete", () => daemon.Log,
            "sizeWhenDone", "totalSize", "wanted");
        var after = (await Remote("-l")).AssertSucceeded();
        output.WriteLine(after.Text);
        Assert.Equal(["1"], TransmissionRemote.Rows(after).Select(r => r[0]));
        Assert.Contains("100%", after.Lines[1]);
        Assert.True(done.GetProperty("sizeWhenDone").GetInt64() < done.GetProperty("totalSize").GetInt64(), done.ToString());
        foreach (var (path, bytes) in alpha.Files.Where(f => f.Path != "video/clip.bin"))
        {
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(alpha.PathUnder(downloads, path))), $"{path} differs from the seed");
        }
        // The engine's file selection: an unwanted file is not created, except for the bytes of the piece it
        // shares with the wanted file before it.
        var clip = new FileInfo(alpha.PathUnder(downloads, "video/clip.bin"));
        var clipOffset = alpha.Files.TakeWhile(f => f.Path != "video/clip.bin").Sum(f => (long)f.Bytes.Length);
        var shared = (alpha.PieceLength - (clipOffset % alpha.PieceLength)) % alpha.PieceLength;
        output.WriteLine($"unwanted clip.bin: {(clip.Exists ? $"{clip.Length} bytes on disk" : "not created")}, {shared} bytes shared with a wanted piece");
        Assert.True(!clip.Exists || clip.Length <= shared, $"the unwanted clip.bin has {clip.Length} bytes on disk, more than the {shared} it shares with wanted pieces");

        Assert.Equal(0, await daemon.InterruptAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("bta daemon: stopped", daemon.Log);
    }

    public void Dispose() => _swarm.Dispose();
}
