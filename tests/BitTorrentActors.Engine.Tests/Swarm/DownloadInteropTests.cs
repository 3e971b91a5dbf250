namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>
/// Our client (through the CLI's <c>download</c> command) against real BitTorrent software on 127.0.0.1: libtorrent,
/// aria2 and Transmission seeders found through opentracker. Each test is bounded well under 60 s.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class DownloadInteropTests : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(40);
    private readonly SwarmTempDir _dir = new("download");
    private readonly List<IDisposable> _running = [];

    [Fact]
    public async Task Downloads_a_single_file_torrent_from_a_libtorrent_seeder()
    {
        var (_, torrent, seedRoot) = await StartAsync(SwarmContent.SingleFile("single.bin", 5_000_017, seed: 11));
        Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime));

        var output = _dir.Sub("out");
        var run = await BtaClientRun.RunAsync(torrent, output, _dir.Path, ClientTimeout);

        run.AssertSucceeded();
        torrent.Content.AssertDownloaded(output);
    }

    [Fact]
    public async Task Downloads_a_multi_file_torrent_from_aria2_and_libtorrent_at_once()
    {
        var (tracker, torrent, seedRoot) = await StartAsync(SwarmContent.MultiFile("multi", seed: 12, scale: 3));
        ISwarmSeeder[] seeders =
        [
            // Both capped so neither can serve the 18 MB alone before the other's first unchoke: unlimited, either
            // one finishes it in about a second on loopback.
            Track(await Aria2Seeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime, uploadLimit: 3_000_000)),
            Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime, uploadLimit: 3_000_000)),
        ];
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 2, TimeSpan.FromSeconds(10));

        var output = _dir.Sub("out");
        var run = await BtaClientRun.RunAsync(torrent, output, _dir.Path, ClientTimeout);

        run.AssertSucceeded();
        torrent.Content.AssertDownloaded(output);
        var uploads = await seeders.DescribeUploadsAsync();
        foreach (var seeder in seeders)
        {
            Assert.True(await seeder.GetUploadedAsync() > 0, $"{seeder.Name} served nothing ({uploads})\n{run.Output}");
        }
    }

    [Fact]
    public async Task Downloads_from_a_swarm_of_three_libtorrent_seeders_and_one_aria2_seeder()
    {
        var (tracker, torrent, seedRoot) = await StartAsync(SwarmContent.MultiFile("swarm", seed: 13, scale: 4));
        var seeders = new List<ISwarmSeeder>();
        for (var i = 0; i < 3; i++)
        {
            seeders.Add(Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime)));
        }
        seeders.Add(Track(await Aria2Seeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime)));
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 4, TimeSpan.FromSeconds(10));

        var output = _dir.Sub("out");
        var run = await BtaClientRun.RunAsync(torrent, output, _dir.Path, ClientTimeout);

        run.AssertSucceeded();
        torrent.Content.AssertDownloaded(output);
        var serving = 0;
        foreach (var seeder in seeders)
        {
            serving += await seeder.GetUploadedAsync() > 0 ? 1 : 0;
        }
        Assert.True(serving >= 3, $"only {serving} of 4 seeders served blocks ({await seeders.DescribeUploadsAsync()})");
    }

    [Fact]
    public async Task Downloads_from_a_transmission_seeder_found_through_the_tracker()
    {
        var (tracker, torrent, seedRoot) = await StartAsync(SwarmContent.MultiFile("multi", seed: 14));
        var seeder = Track(await TransmissionSeeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime));
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(10));

        var output = _dir.Sub("out");
        var run = await BtaClientRun.RunAsync(torrent, output, _dir.Path, ClientTimeout);

        run.AssertSucceeded();
        torrent.Content.AssertDownloaded(output);
        Assert.True(await seeder.GetUploadedAsync() > 0, $"transmission served nothing\n{seeder.Log}");
    }

    [Fact]
    public async Task Downloads_a_hybrid_torrent_with_pad_files_without_writing_them()
    {
        var content = SwarmContent.MultiFile("hybrid", seed: 15);
        var seedRoot = _dir.Sub("seed");
        content.WriteTo(seedRoot);
        var tracker = Track(await Opentracker.StartAsync(_dir.Path, [], Lifetime));
        var torrent = await SwarmTorrent.MakeWithLibtorrentAsync(content, seedRoot, _dir.Path, tracker.AnnounceUrl, hybrid: true);
        Assert.True(torrent.PadFiles > 0, "libtorrent made a hybrid torrent without pad files");
        await tracker.AllowAsync(torrent.InfoHash);
        Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime));

        var output = _dir.Sub("out");
        var run = await BtaClientRun.RunAsync(torrent, output, _dir.Path, ClientTimeout);

        run.AssertSucceeded();
        content.AssertDownloaded(output);
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
