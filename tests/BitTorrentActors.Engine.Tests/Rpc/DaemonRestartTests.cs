using System.Text.Json;
using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>
/// <c>kill -9</c> of a <c>bta daemon</c> process holding three torrents, one paused, one seeding, one downloading
/// from a capped libtorrent seeder, then a restart with the same state folder: all three come back with their
/// ids and states (paused stays paused), the two active ones finish byte-identical, and the seeder uploads no
/// more than the content once (verified pieces are not fetched again).
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class DaemonRestartTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(170);
    // Endgame may fetch a few blocks twice, and a kill loses what arrived since the last save.
    private const int SlackPieces = 12;
    private readonly SwarmScope _swarm = new("rpc-restart", Lifetime);

    [Fact]
    public async Task After_kill_9_a_restart_brings_every_torrent_back_as_it_was_and_the_active_ones_finish()
    {
        var paused = SwarmContent.SingleFile("paused.bin", 500_000, seed: 81);
        var seeding = SwarmContent.SingleFile("seeding.bin", 700_000, seed: 82);
        var downloading = SwarmContent.MultiFile("downloading", seed: 83);
        var (tracker, downloadingTorrent, seedRoot) = await _swarm.StartTrackerAsync(downloading);
        var pausedTorrent = SwarmTorrent.Build(paused, _swarm.Dir.Path, tracker.AnnounceUrl);
        var seedingTorrent = SwarmTorrent.Build(seeding, _swarm.Dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(pausedTorrent.InfoHash);
        await tracker.AllowAsync(seedingTorrent.InfoHash);
        var seeder = _swarm.Track(await LibtorrentSeeder.StartAsync(downloadingTorrent, seedRoot, _swarm.Dir.Path, Lifetime, uploadLimit: 350_000));
        var state = _swarm.Dir.Sub("state");
        var downloads = _swarm.Dir.Sub("downloads");
        seeding.WriteTo(downloads);

        var first = _swarm.Track(await BtaDaemon.StartAsync(_swarm.Dir.Path, state, downloads, Lifetime));
        int pausedId, seedingId, downloadingId;
        using (var rpc = new RpcClient(first.RpcUrl))
        {
            pausedId = await AddAsync(rpc, pausedTorrent, paused: true);
            seedingId = await AddAsync(rpc, seedingTorrent, paused: false);
            downloadingId = await AddAsync(rpc, downloadingTorrent, paused: false);
            await RpcWait.TorrentAsync(rpc, seedingId, t => t.GetProperty("status").GetInt32() == 6, TimeSpan.FromSeconds(30), "seeding", () => first.Log);
            var total = downloading.TotalLength;
            var before = await RpcWait.TorrentAsync(rpc, downloadingId,
                t => t.GetProperty("haveValid").GetInt64() >= total * 4 / 10, TimeSpan.FromSeconds(60), "40% verified", () => first.Log);
            Assert.True(before.GetProperty("leftUntilDone").GetInt64() > 0, "the download finished before the kill; cap the seeder lower");
            await Task.Delay(1200); // past two resume saves
            output.WriteLine($"before the kill: {before}");
        }
        await first.KillHardAsync();

        using var second = _swarm.Track(await BtaDaemon.StartAsync(_swarm.Dir.Path, state, downloads, Lifetime));
        using var again = new RpcClient(second.RpcUrl);
        var listed = (await again.SucceedAsync("torrent-get", """{"fields":["id","name","hashString","status"]}""")).GetProperty("torrents");
        output.WriteLine($"after the restart: {listed}");
        Assert.Equal([(pausedId, "paused.bin"), (seedingId, "seeding.bin"), (downloadingId, "downloading")],
            listed.EnumerateArray().Select(t => (t.GetProperty("id").GetInt32(), t.GetProperty("name").GetString())));

        await RpcWait.TorrentAsync(again, seedingId, t => t.GetProperty("status").GetInt32() == 6 && RpcWait.Complete(t),
            TimeSpan.FromSeconds(30), "seeding again", () => second.Log);
        await RpcWait.TorrentAsync(again, downloadingId, RpcWait.Complete, TimeSpan.FromSeconds(90), "complete", () => second.Log);
        var stillPaused = await RpcWait.TorrentAsync(again, pausedId, _ => true, TimeSpan.FromSeconds(5), "listed", () => second.Log);
        Assert.Equal(0, stillPaused.GetProperty("status").GetInt32());
        Assert.Equal(0, stillPaused.GetProperty("haveValid").GetInt64());

        downloading.AssertDownloaded(downloads);
        seeding.AssertDownloaded(downloads);
        Assert.False(File.Exists(paused.PathUnder(downloads, "paused.bin")) && new FileInfo(paused.PathUnder(downloads, "paused.bin")).Length > 0,
            "the paused torrent wrote data");
        var uploaded = await seeder.GetUploadedAsync();
        var bound = downloading.TotalLength + (SlackPieces * (long)downloading.PieceLength);
        output.WriteLine($"the seeder uploaded {uploaded} bytes for {downloading.TotalLength} of content");
        Assert.True(uploaded <= bound, $"the seeder uploaded {uploaded} bytes, over {bound}: verified pieces were fetched again\n{second.Log}");
        Assert.Equal(0, await second.InterruptAsync(TimeSpan.FromSeconds(60)));
    }

    private static async Task<int> AddAsync(RpcClient rpc, SwarmTorrent torrent, bool paused)
    {
        var bytes = await File.ReadAllBytesAsync(torrent.Path);
        var added = await rpc.SucceedAsync("torrent-add",
            $$"""{"metainfo":"{{Convert.ToBase64String(bytes)}}","paused":{{JsonSerializer.Serialize(paused)}}}""");
        return added.GetProperty("torrent-added").GetProperty("id").GetInt32();
    }

    public void Dispose() => _swarm.Dispose();
}
