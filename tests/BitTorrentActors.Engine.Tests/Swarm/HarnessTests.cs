namespace BitTorrentActors.Engine.Tests.Swarm;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SwarmCollection
{
    /// <summary>Swarm tests run one at a time: they start real tools and share two cores.</summary>
    public const string Name = "Swarm";
}

/// <summary>
/// Proves the harness with real tools only (no engine): each tool seeds and leeches through opentracker on
/// 127.0.0.1, and the content arrives byte for byte.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class HarnessTests : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(45);
    private readonly SwarmScope _swarm = new("harness", Lifetime);

    [Fact]
    public async Task Libtorrent_seeder_serves_an_aria2_leecher_through_opentracker()
    {
        var (tracker, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.MultiFile("multi", seed: 1));
        var seeder = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(10));

        var leechRoot = _swarm.Dir.Sub("leech");
        await Aria2Leecher.RunAsync(torrent, leechRoot, _swarm.Dir.Path, TimeSpan.FromSeconds(25));

        torrent.Content.AssertDownloaded(leechRoot, noExtraFiles: true);
        Assert.True(await seeder.GetUploadedAsync() > 0, $"the libtorrent seeder reports no upload\n{seeder.Log}");
    }

    [Fact]
    public async Task Aria2_seeder_serves_a_libtorrent_leecher_through_opentracker()
    {
        var (tracker, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.MultiFile("multi", seed: 2));
        var seeder = _swarm.Track(await Aria2Seeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(10));

        var leechRoot = _swarm.Dir.Sub("leech");
        await LibtorrentLeecher.RunAsync(torrent, leechRoot, _swarm.Dir.Path, TimeSpan.FromSeconds(25));

        torrent.Content.AssertDownloaded(leechRoot, noExtraFiles: true);
        Assert.True(await seeder.GetUploadedAsync() > 0, $"the aria2 seeder reports no upload\n{seeder.Log}");
    }

    [Fact]
    public async Task Transmission_seeder_serves_an_aria2_leecher_through_opentracker()
    {
        var (tracker, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.MultiFile("multi", seed: 3));
        var seeder = _swarm.Track(await TransmissionSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(10));

        var leechRoot = _swarm.Dir.Sub("leech");
        await Aria2Leecher.RunAsync(torrent, leechRoot, _swarm.Dir.Path, TimeSpan.FromSeconds(28));

        torrent.Content.AssertDownloaded(leechRoot, noExtraFiles: true);
        Assert.True(await seeder.GetUploadedAsync() > 0, $"the transmission seeder reports no upload\n{seeder.Log}");
    }

    [Fact]
    public async Task Libtorrent_makes_a_hybrid_torrent_with_pad_files_that_libtorrent_serves()
    {
        var content = SwarmContent.MultiFile("hybrid", seed: 4);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var tracker = _swarm.Track(await Opentracker.StartAsync(_swarm.Dir.Path, [], Lifetime));
        var torrent = await SwarmTorrent.MakeWithLibtorrentAsync(content, seedRoot, _swarm.Dir.Path, tracker.AnnounceUrl, hybrid: true);
        Assert.True(torrent.PadFiles > 0, "libtorrent made a hybrid torrent without pad files");
        await tracker.AllowAsync(torrent.InfoHash);
        var seeder = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));

        var leechRoot = _swarm.Dir.Sub("leech");
        await LibtorrentLeecher.RunAsync(torrent, leechRoot, _swarm.Dir.Path, TimeSpan.FromSeconds(25), seeder.EndPoint);

        content.AssertDownloaded(leechRoot, noExtraFiles: true);
    }

    [Fact]
    public async Task Rate_limited_libtorrent_seeder_reports_half_served_while_the_leecher_still_runs()
    {
        var (_, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.MultiFile("slow", seed: 6));
        var total = torrent.Content.TotalLength;
        var seeder = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime, uploadLimit: 1_000_000));

        var leech = LibtorrentLeecher.RunAsync(torrent, _swarm.Dir.Sub("leech"), _swarm.Dir.Path, TimeSpan.FromSeconds(25), seeder.EndPoint);
        while (seeder.LastUploaded < total / 2 && !leech.IsCompleted)
        {
            await Task.Delay(100);
        }

        Assert.False(leech.IsCompleted, $"the leecher finished before half was reported: no rate limit\n{seeder.Log}");
        await leech;
        Assert.True(await seeder.GetUploadedAsync() >= total, $"the seeder reports less than the whole torrent\n{seeder.Log}");
    }

    [Fact]
    public void Content_comparison_names_the_first_differing_file_and_offset()
    {
        var content = SwarmContent.MultiFile("multi", seed: 5);
        var root = _swarm.Dir.Sub("copy");
        content.WriteTo(root);
        Assert.Null(content.FirstDifference(root));

        var beta = content.PathUnder(root, "data/nested/deep/beta.bin");
        var bytes = File.ReadAllBytes(beta);
        bytes[123_456] ^= 0xff;
        File.WriteAllBytes(beta, bytes);
        Assert.StartsWith("data/nested/deep/beta.bin: differs at offset 123456", content.FirstDifference(root));

        File.Delete(content.PathUnder(root, "readme.txt"));
        Assert.StartsWith("readme.txt: missing", content.FirstDifference(root));
        Assert.Equal(SwarmContent.MultiFile("multi", seed: 5).Files[2].Bytes, content.Files[2].Bytes);
    }

    public void Dispose() => _swarm.Dispose();


}
