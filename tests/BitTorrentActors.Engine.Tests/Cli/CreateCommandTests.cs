using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>
/// Issue 15 item 8: <c>bta create</c> makes v1 torrents that libtorrent and Transmission read as we do, and that
/// aria2 downloads from <c>bta seed</c> of the original data (through opentracker, with <c>--port 0</c>: the port
/// trackers hear is the one bound).
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class CreateCommandTests : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(90);
    private readonly SwarmScope _swarm = new("create", Lifetime);

    public void Dispose() => _swarm.Dispose();

    [Fact]
    public async Task A_folder_torrent_reads_the_same_in_libtorrent_and_transmission()
    {
        var content = SwarmContent.MultiFile("album", seed: 61);
        var root = _swarm.Dir.Sub("src");
        content.WriteTo(root);
        var output = Path.Combine(_swarm.Dir.Path, "album.torrent");

        var result = await CliRunner.RunAsync("create", Path.Combine(root, "album"), "-o", output,
            "--tracker", "http://127.0.0.1:1/announce", "--tracker", "udp://127.0.0.1:2,http://127.0.0.1:3/announce",
            "--web-seed", "http://127.0.0.1:4/files/", "--private", "--comment", "made by bta", "--source", "TEST",
            "--piece-size", "32K");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var ours = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(output)).Metainfo!;
        Assert.Contains(ours.InfoHash.ToHex(), result.Stdout);
        Assert.True(ours.IsPrivate);
        Assert.Equal(32 * 1024, ours.PieceLength);
        Assert.Equal("made by bta", ours.Comment);
        Assert.Equal([["http://127.0.0.1:1/announce"], ["udp://127.0.0.1:2", "http://127.0.0.1:3/announce"]], ours.AnnounceTiers);
        Assert.Equal(["http://127.0.0.1:4/files/"], ours.UrlList);

        var libtorrent = await TorrentTools.ReadWithLibtorrentAsync(output);
        Assert.Equal(ours.InfoHash.ToHex(), libtorrent.InfoHash);
        Assert.Equal(content.TotalLength, libtorrent.TotalSize);
        Assert.Equal(ours.PieceCount, libtorrent.PieceCount);
        Assert.Equal(content.Files.Select(f => "album/" + f.Path).Order(StringComparer.Ordinal), libtorrent.Files.Select(f => f.Path));
        // libtorrent lists the first tier first; within a tier its order is its own.
        Assert.Equal("http://127.0.0.1:1/announce", libtorrent.Trackers[0]);
        Assert.Equal(["http://127.0.0.1:3/announce", "udp://127.0.0.1:2"], libtorrent.Trackers.Skip(1).Order(StringComparer.Ordinal));

        var transmission = await TorrentTools.ReadWithTransmissionAsync(output);
        Assert.Equal(ours.InfoHash.ToHex(), transmission.InfoHash, ignoreCase: true);
        Assert.Equal(content.Files.Count, transmission.Files.Count);
        var show = (await RealTools.RunCheckedAsync("transmission-show", [output])).Stdout;
        Assert.Contains("Private torrent", show);
        Assert.Contains("http://127.0.0.1:4/files/", show);
    }

    [Fact]
    public async Task The_info_hash_equals_mktorrents_for_the_same_folder_and_piece_size()
    {
        var content = SwarmContent.MultiFile("same", seed: 63);
        var root = _swarm.Dir.Sub("src");
        content.WriteTo(root);
        var ours = Path.Combine(_swarm.Dir.Path, "ours.torrent");
        var theirs = Path.Combine(_swarm.Dir.Path, "theirs.torrent");

        var result = await CliRunner.RunAsync("create", Path.Combine(root, "same"), "-o", ours, "--piece-size", "32K");
        await TorrentTools.CreateAsync("mktorrent", Path.Combine(root, "same"), theirs);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(
            TorrentMetainfo.Parse(await File.ReadAllBytesAsync(theirs)).Metainfo!.InfoHash,
            TorrentMetainfo.Parse(await File.ReadAllBytesAsync(ours)).Metainfo!.InfoHash);
    }

    [Fact]
    public async Task Aria2_downloads_a_created_torrent_from_bta_seed_of_the_original_data()
    {
        var content = SwarmContent.MultiFile("made", seed: 62, scale: 2);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var tracker = _swarm.Track(await Opentracker.StartAsync(_swarm.Dir.Path, [], Lifetime));
        var output = Path.Combine(_swarm.Dir.Path, "made.torrent");
        var created = await CliRunner.RunAsync("create", Path.Combine(seedRoot, "made"), "-o", output, "--tracker", tracker.AnnounceUrl);
        Assert.True(created.ExitCode == 0, created.Stderr);
        var metainfo = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(output)).Metainfo!;
        var torrent = new SwarmTorrent(output, metainfo.InfoHash, content);
        await tracker.AllowAsync(torrent.InfoHash);

        using var stop = new CancellationTokenSource();
        // --port 0: any free port; the tracker must hear that one for aria2 to find the seeder.
        var seeding = BtaClientRun.RunCommandAsync(["seed", output, "--data", seedRoot], 0, _swarm.Dir.Path, Lifetime, stop.Token);
        try
        {
            await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(20));
            var aria2Out = _swarm.Dir.Sub("aria2");
            await Aria2Leecher.RunAsync(torrent, aria2Out, _swarm.Dir.Path, TimeSpan.FromSeconds(40));
            content.AssertDownloaded(aria2Out);
        }
        finally
        {
            await stop.CancelAsync();
        }
        var run = await seeding;
        run.AssertSucceeded();
        Assert.Contains("Verified: made,", run.Stdout);
    }

    [Fact]
    public async Task A_single_file_gets_a_single_file_torrent_with_a_piece_size_by_size()
    {
        var file = Path.Combine(_swarm.Dir.Path, "one.bin");
        await File.WriteAllBytesAsync(file, new byte[3 * 1024 * 1024 + 5]);
        var output = Path.Combine(_swarm.Dir.Path, "one.torrent");

        var result = await CliRunner.RunAsync("create", file, "-o", output);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var metainfo = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(output)).Metainfo!;
        Assert.False(metainfo.IsMultiFile);
        Assert.Equal("one.bin", metainfo.Name);
        Assert.Equal(TorrentBuilder.ChoosePieceLength(3 * 1024 * 1024 + 5), metainfo.PieceLength);
        var again = await CliRunner.RunAsync("create", file, "-o", output);
        Assert.Contains("already exists (--force overwrites it)", again.AssertOneLineFailure());
    }

    [Fact]
    public async Task Bad_input_is_one_line_or_a_usage_error()
    {
        (await CliRunner.RunAsync("create", Path.Combine(_swarm.Dir.Path, "nothing-here"))).AssertOneLineFailure();
        (await CliRunner.RunAsync("create", _swarm.Dir.Sub("empty"))).AssertOneLineFailure();
        (await CliRunner.RunAsync("create", _swarm.Dir.Path, "--piece-size", "1000")).AssertUsageError("--piece-size expects a power of two");
        (await CliRunner.RunAsync("create", _swarm.Dir.Path, "--tracker", "ftp://x/")).AssertUsageError("not an http, https or udp URL");
    }
}
