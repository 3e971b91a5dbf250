using System.Diagnostics;
using System.Globalization;
using BitTorrentActors.Engine.Tests.Rpc;
using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Interop;

/// <summary>
/// <c>bta download 'magnet:...'</c> end to end on 127.0.0.1 with the real metadata fetcher: a magnet with only an
/// <c>x.pe</c> peer against a libtorrent seeder and against a transmission-daemon 3.00 seeder (about 8 s to answer
/// metadata), a <c>tr=</c> magnet of the loopback opentracker with no peer, and <c>transmission-remote -a
/// 'magnet:...'</c> against <c>bta daemon</c>. Each download is byte-identical to the source; the seconds from start
/// to metadata and to completion go to the test output (the closing note quotes them).
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class MagnetDownloadTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(60);
    private readonly SwarmScope _swarm = new("magnet", Lifetime);

    [Fact]
    public async Task A_magnet_with_only_a_libtorrent_peer_downloads_byte_identical()
    {
        var (_, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.MultiFile("lt-magnet", seed: 61));
        var seeder = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));

        // No tr: the peer given is the only way in, for the metadata and then for the pieces.
        await DownloadAsync("libtorrent x.pe", $"magnet:?xt=urn:btih:{torrent.InfoHash.ToHex()}&dn=lt-magnet&x.pe={seeder.EndPoint}", torrent);
    }

    [Fact]
    public async Task A_magnet_with_only_a_transmission_peer_downloads_byte_identical()
    {
        var (_, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.MultiFile("tr-magnet", seed: 62));
        var seeder = _swarm.Track(await TransmissionSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));

        await DownloadAsync("transmission x.pe", $"magnet:?xt=urn:btih:{torrent.InfoHash.ToHex()}&x.pe={seeder.EndPoint}", torrent);
        Assert.True(await seeder.GetUploadedAsync() > 0, $"transmission served nothing\n{seeder.Log}");
    }

    [Fact]
    public async Task A_base32_magnet_with_only_the_loopback_tracker_downloads_byte_identical()
    {
        var (tracker, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.SingleFile("tracked.bin", 3_000_017, seed: 63));
        _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(10));

        await DownloadAsync("libtorrent via tr", $"magnet:?xt=urn:btih:{Cli.MagnetCommandTests.Base32(torrent.InfoHash.ToArray())}&tr={Uri.EscapeDataString(tracker.AnnounceUrl)}", torrent);
    }

    [Fact]
    public async Task A_hybrid_torrent_made_by_libtorrent_downloads_through_its_v1_magnet_without_pad_files()
    {
        var content = SwarmContent.MultiFile("hybrid-magnet", seed: 65);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var tracker = _swarm.Track(await Opentracker.StartAsync(_swarm.Dir.Path, [], Lifetime));
        var torrent = await SwarmTorrent.MakeWithLibtorrentAsync(content, seedRoot, _swarm.Dir.Path, tracker.AnnounceUrl, hybrid: true);
        Assert.True(torrent.PadFiles > 0, "libtorrent made a hybrid torrent without pad files");
        var seeder = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));

        // A hybrid link names both hashes; bta takes the v1 one (btmh is for v2 clients).
        var magnet = $"magnet:?xt=urn:btih:{torrent.InfoHash.ToHex()}&xt=urn:btmh:1220{new string('0', 64)}&x.pe={seeder.EndPoint}";
        await DownloadAsync("libtorrent hybrid x.pe", magnet, torrent, noExtraFiles: true);
    }

    [Fact]
    public async Task Transmission_remote_adds_a_magnet_to_bta_daemon_which_fetches_it_and_completes()
    {
        var (_, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.SingleFile("remote.bin", 2_000_003, seed: 64));
        var seeder = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));
        var downloads = _swarm.Dir.Sub("downloads");
        var daemon = _swarm.Track(await BtaDaemon.StartAsync(_swarm.Dir.Path, _swarm.Dir.Sub("state"), downloads, Lifetime));
        using var rpc = new RpcClient(daemon.RpcUrl);
        var magnet = $"magnet:?xt=urn:btih:{torrent.InfoHash.ToHex()}&dn=remote.bin&x.pe={seeder.EndPoint}";

        var add = await TransmissionRemote.RunAsync(daemon.Address, _swarm.Dir.Path, "-a", magnet);

        Assert.Contains("success", add.AssertSucceeded().Text);
        var done = await RpcWait.TorrentAsync(rpc, 1, RpcWait.Complete, TimeSpan.FromSeconds(60), "complete", () => daemon.Log,
            "metadataPercentComplete", "totalSize", "magnetLink");
        Assert.Equal(1, done.GetProperty("metadataPercentComplete").GetDouble());
        Assert.Equal(torrent.Content.TotalLength, done.GetProperty("totalSize").GetInt64());
        Assert.Equal("remote.bin", done.GetProperty("name").GetString());
        torrent.Content.AssertDownloaded(downloads);
        var state = Path.Combine(daemon.StateDir, "torrents", torrent.InfoHash.ToHex());
        Assert.True(File.Exists(state + ".torrent") && !File.Exists(state + ".magnet"), "the fetched .torrent replaces the .magnet");
    }

    public void Dispose() => _swarm.Dispose();

    private async Task DownloadAsync(string what, string magnet, SwarmTorrent torrent, bool noExtraFiles = false)
    {
        var target = _swarm.Dir.Sub("out");
        BtaClientRun? live = null;
        var clock = Stopwatch.StartNew();
        var running = BtaClientRun.RunCommandAsync(["download", magnet, "-o", target], LoopbackPorts.Next(), _swarm.Dir.Path,
            ClientTimeout, started: r => live = r);
        while (live is null)
        {
            await Task.Delay(10);
        }
        // Polled while it runs: the times are when the lines appeared, not when the command (and its stop) ended.
        TimeSpan? fetching = null, metadata = null, complete = null;
        while (!running.IsCompleted)
        {
            var stdout = live.Stdout;
            fetching ??= stdout.Contains("Fetching metadata for", StringComparison.Ordinal) ? clock.Elapsed : null;
            metadata ??= stdout.Contains("Metadata received", StringComparison.Ordinal) ? clock.Elapsed : null;
            complete ??= stdout.Contains("Complete: ", StringComparison.Ordinal) ? clock.Elapsed : null;
            await Task.Delay(5);
        }
        var run = await running;
        complete ??= clock.Elapsed;

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: from the command's start, fetching at {fetching?.TotalSeconds:0.00} s, metadata at {metadata?.TotalSeconds:0.00} s, complete at {complete?.TotalSeconds:0.00} s, exit at {clock.Elapsed.TotalSeconds:0.00} s ({torrent.Content.TotalLength} bytes)"));
        output.WriteLine(run.Output);
        run.AssertSucceeded();
        Assert.True(metadata is not null, $"no 'Metadata received' line\n{run.Output}");
        Assert.Contains("Fetching metadata for ", run.Stdout);
        torrent.Content.AssertDownloaded(target, noExtraFiles);
    }
}
