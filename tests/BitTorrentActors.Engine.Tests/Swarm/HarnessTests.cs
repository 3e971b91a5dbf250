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
    private readonly SwarmTempDir _dir = new("harness");
    private readonly List<IDisposable> _running = [];

    [Fact]
    public async Task Libtorrent_seeder_serves_an_aria2_leecher_through_opentracker()
    {
        var (tracker, torrent, seedRoot) = await StartAsync(SwarmContent.MultiFile("multi", seed: 1));
        var seeder = Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime));
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(10));

        var leechRoot = _dir.Sub("leech");
        await Aria2Leecher.RunAsync(torrent, leechRoot, _dir.Path, TimeSpan.FromSeconds(25));

        torrent.Content.AssertDownloaded(leechRoot, noExtraFiles: true);
        Assert.True(await seeder.GetUploadedAsync() > 0, $"the libtorrent seeder reports no upload\n{seeder.Log}");
    }

    [Fact]
    public async Task Aria2_seeder_serves_a_libtorrent_leecher_through_opentracker()
    {
        var (tracker, torrent, seedRoot) = await StartAsync(SwarmContent.MultiFile("multi", seed: 2));
        var seeder = Track(await Aria2Seeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime));
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(10));

        var leechRoot = _dir.Sub("leech");
        await LibtorrentLeecher.RunAsync(torrent, leechRoot, _dir.Path, TimeSpan.FromSeconds(25));

        torrent.Content.AssertDownloaded(leechRoot, noExtraFiles: true);
        Assert.True(await seeder.GetUploadedAsync() > 0, $"the aria2 seeder reports no upload\n{seeder.Log}");
    }

    [Fact]
    public async Task Transmission_seeder_serves_an_aria2_leecher_through_opentracker()
    {
        var (tracker, torrent, seedRoot) = await StartAsync(SwarmContent.MultiFile("multi", seed: 3));
        var seeder = Track(await TransmissionSeeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime));
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(10));

        var leechRoot = _dir.Sub("leech");
        await Aria2Leecher.RunAsync(torrent, leechRoot, _dir.Path, TimeSpan.FromSeconds(28));

        torrent.Content.AssertDownloaded(leechRoot, noExtraFiles: true);
        Assert.True(await seeder.GetUploadedAsync() > 0, $"the transmission seeder reports no upload\n{seeder.Log}");
    }

    [Fact]
    public async Task Libtorrent_makes_a_hybrid_torrent_with_pad_files_that_libtorrent_serves()
    {
        var content = SwarmContent.MultiFile("hybrid", seed: 4);
        var seedRoot = _dir.Sub("seed");
        content.WriteTo(seedRoot);
        var tracker = Track(await Opentracker.StartAsync(_dir.Path, [], Lifetime));
        var torrent = await SwarmTorrent.MakeWithLibtorrentAsync(content, seedRoot, _dir.Path, tracker.AnnounceUrl, hybrid: true);
        Assert.True(torrent.PadFiles > 0, "libtorrent made a hybrid torrent without pad files");
        await tracker.AllowAsync(torrent.InfoHash);
        var seeder = Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime));

        var leechRoot = _dir.Sub("leech");
        await LibtorrentLeecher.RunAsync(torrent, leechRoot, _dir.Path, TimeSpan.FromSeconds(25), seeder.EndPoint);

        content.AssertDownloaded(leechRoot, noExtraFiles: true);
    }

    [Fact]
    public async Task Rate_limited_libtorrent_seeder_reports_half_served_while_the_leecher_still_runs()
    {
        var (_, torrent, seedRoot) = await StartAsync(SwarmContent.MultiFile("slow", seed: 6));
        var total = torrent.Content.TotalLength;
        var seeder = Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime, uploadLimit: 1_000_000));

        var leech = LibtorrentLeecher.RunAsync(torrent, _dir.Sub("leech"), _dir.Path, TimeSpan.FromSeconds(25), seeder.EndPoint);
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
        var root = _dir.Sub("copy");
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

    public void Dispose()
    {
        foreach (var running in Enumerable.Reverse(_running))
        {
            running.Dispose();
        }
        _dir.Dispose();
    }

    private T Track<T>(T running)
        where T : IDisposable
    {
        _running.Add(running);
        return running;
    }

    /// <summary>Writes the content to a seed folder, starts opentracker, builds the torrent with our
    /// TorrentBuilder and allows its info-hash (SIGHUP path).</summary>
    private async Task<(Opentracker Tracker, SwarmTorrent Torrent, string SeedRoot)> StartAsync(SwarmContent content)
    {
        var seedRoot = _dir.Sub("seed");
        content.WriteTo(seedRoot);
        var tracker = Track(await Opentracker.StartAsync(_dir.Path, [], Lifetime));
        var torrent = SwarmTorrent.Build(content, _dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(torrent.InfoHash);
        return (tracker, torrent, seedRoot);
    }
}
