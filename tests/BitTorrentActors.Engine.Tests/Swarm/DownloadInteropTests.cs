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
    private readonly SwarmScope _swarm = new("download", Lifetime);

    [Fact]
    public async Task Downloads_a_single_file_torrent_from_a_libtorrent_seeder()
    {
        var (_, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.SingleFile("single.bin", 5_000_017, seed: 11));
        _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));

        var output = _swarm.Dir.Sub("out");
        var run = await BtaClientRun.RunAsync(torrent, output, _swarm.Dir.Path, ClientTimeout);

        run.AssertSucceeded();
        torrent.Content.AssertDownloaded(output);
    }

    [Fact]
    public async Task Downloads_a_multi_file_torrent_from_aria2_and_libtorrent_at_once()
    {
        var (tracker, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.MultiFile("multi", seed: 12, scale: 3));
        ISwarmSeeder[] seeders =
        [
            // Both capped so neither can serve the 18 MB alone before the other's first unchoke: unlimited, either
            // one finishes it in about a second on loopback.
            _swarm.Track(await Aria2Seeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime, uploadLimit: 3_000_000)),
            _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime, uploadLimit: 3_000_000)),
        ];
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 2, TimeSpan.FromSeconds(10));

        var output = _swarm.Dir.Sub("out");
        var run = await BtaClientRun.RunAsync(torrent, output, _swarm.Dir.Path, ClientTimeout);

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
        var (tracker, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.MultiFile("swarm", seed: 13, scale: 4));
        var seeders = new List<ISwarmSeeder>();
        for (var i = 0; i < 3; i++)
        {
            seeders.Add(_swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime)));
        }
        seeders.Add(_swarm.Track(await Aria2Seeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime)));
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 4, TimeSpan.FromSeconds(10));

        var output = _swarm.Dir.Sub("out");
        var run = await BtaClientRun.RunAsync(torrent, output, _swarm.Dir.Path, ClientTimeout);

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
        var (tracker, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.MultiFile("multi", seed: 14));
        var seeder = _swarm.Track(await TransmissionSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(10));

        var output = _swarm.Dir.Sub("out");
        var run = await BtaClientRun.RunAsync(torrent, output, _swarm.Dir.Path, ClientTimeout);

        run.AssertSucceeded();
        torrent.Content.AssertDownloaded(output);
        Assert.True(await seeder.GetUploadedAsync() > 0, $"transmission served nothing\n{seeder.Log}");
    }

    [Fact]
    public async Task Downloads_a_hybrid_torrent_with_pad_files_without_writing_them()
    {
        var content = SwarmContent.MultiFile("hybrid", seed: 15);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var tracker = _swarm.Track(await Opentracker.StartAsync(_swarm.Dir.Path, [], Lifetime));
        var torrent = await SwarmTorrent.MakeWithLibtorrentAsync(content, seedRoot, _swarm.Dir.Path, tracker.AnnounceUrl, hybrid: true);
        Assert.True(torrent.PadFiles > 0, "libtorrent made a hybrid torrent without pad files");
        await tracker.AllowAsync(torrent.InfoHash);
        _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));

        var output = _swarm.Dir.Sub("out");
        var run = await BtaClientRun.RunAsync(torrent, output, _swarm.Dir.Path, ClientTimeout);

        run.AssertSucceeded();
        content.AssertDownloaded(output);
    }

    public void Dispose() => _swarm.Dispose();


}
