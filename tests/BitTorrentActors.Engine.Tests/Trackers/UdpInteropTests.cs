using System.Globalization;
using System.Text.RegularExpressions;
using BitTorrentActors.Cli;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Trackers;

/// <summary>
/// <c>bta download</c>, <c>bta peers</c> and <c>bta scrape</c> against the real opentracker over UDP (and HTTP), with a
/// libtorrent seeder, all on 127.0.0.1. The client runs in-process with a 200 ms UDP base timeout.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed partial class UdpInteropTests : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(40);
    private readonly SwarmTempDir _dir = new("udp");
    private readonly List<IDisposable> _running = [];

    [Fact]
    public async Task Peers_and_download_work_with_only_a_udp_tracker()
    {
        var content = SwarmContent.SingleFile("udp-only.bin", 3_000_017, seed: 51);
        var tracker = await StartTrackerAsync();
        var torrent = SwarmTorrent.Build(content, _dir.Path, tracker.UdpAnnounceUrl);
        await tracker.AllowAsync(torrent.InfoHash);
        var seeder = await StartSeederAsync(torrent, content);
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(15));

        var peers = await BtaAsync("peers", torrent.Path, "--port", Port());
        Assert.True(peers.Exit == 0, peers.Output);
        Assert.Contains(seeder.EndPoint.ToString(), peers.Stdout.Split('\n').Select(l => l.Trim()));

        var output = _dir.Sub("out");
        var download = await BtaAsync("download", torrent.Path, "-o", output, "--port", Port());
        Assert.True(download.Exit == 0, download.Output);
        content.AssertDownloaded(output);
    }

    [Fact]
    public async Task Scrape_over_http_and_udp_matches_what_the_tracker_knows()
    {
        var content = SwarmContent.SingleFile("scrape.bin", 1_000_003, seed: 52);
        var tracker = await StartTrackerAsync();
        var seedTorrent = SwarmTorrent.Build(content, _dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(seedTorrent.InfoHash);
        await StartSeederAsync(seedTorrent, content);
        await tracker.WaitForSeedersAsync(seedTorrent.InfoHash, 1, TimeSpan.FromSeconds(15));
        var unknownPort = Port();
        var (path, infoHash) = WriteTorrent(content, "scrape-tiers",
            [[tracker.UdpAnnounceUrl], [tracker.AnnounceUrl], [$"http://127.0.0.1:{unknownPort}/announce"]]);
        Assert.Equal(seedTorrent.InfoHash, infoHash);

        var scrape = await BtaAsync("scrape", path);
        var known = await tracker.ScrapeAsync(infoHash);

        Assert.True(scrape.Exit == 0, scrape.Output);
        Assert.Equal(1, known.Complete);
        foreach (var url in new[] { tracker.UdpAnnounceUrl, tracker.AnnounceUrl })
        {
            var line = ScrapeLine(scrape.Stdout, url);
            Assert.Equal((known.Complete, known.Incomplete), (line.Seeders, line.Leechers));
        }
        Assert.Contains($"http://127.0.0.1:{unknownPort}/announce  failed: connection failed", scrape.Stdout,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scrape_exits_1_when_no_tracker_answers()
    {
        using var silent = new ScriptedUdpTracker(_ => []);
        var (path, _) = WriteTorrent(SwarmContent.SingleFile("none.bin", 100_000, seed: 53), "none", [[silent.AnnounceUrl]]);

        var scrape = await BtaAsync("scrape", path);

        Assert.True(scrape.Exit == 1, scrape.Output);
        Assert.Contains($"{silent.AnnounceUrl}  failed: no connect reply after 3 sends", scrape.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Download_completes_when_the_first_tier_is_dead_and_the_second_works()
    {
        var content = SwarmContent.SingleFile("tiers.bin", 2_000_029, seed: 54);
        var tracker = await StartTrackerAsync();
        var seedTorrent = SwarmTorrent.Build(content, _dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(seedTorrent.InfoHash);
        await StartSeederAsync(seedTorrent, content);
        await tracker.WaitForSeedersAsync(seedTorrent.InfoHash, 1, TimeSpan.FromSeconds(15));
        using var silent = new ScriptedUdpTracker(_ => []);
        var (path, infoHash) = WriteTorrent(content, "dead-first",
            [[silent.AnnounceUrl], [$"http://127.0.0.1:{Port()}/announce"], [tracker.UdpAnnounceUrl]]);
        Assert.Equal(seedTorrent.InfoHash, infoHash);

        var output = _dir.Sub("out");
        var download = await BtaAsync("download", path, "-o", output, "--port", Port());

        Assert.True(download.Exit == 0, download.Output);
        content.AssertDownloaded(output);
        Assert.NotEmpty(silent.Seen);
    }

    public void Dispose()
    {
        foreach (var running in Enumerable.Reverse(_running))
        {
            running.Dispose();
        }
        _dir.Dispose();
    }

    private static string Port() => LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture);

    private static (int Seeders, int Leechers, int Completed) ScrapeLine(string stdout, string url)
    {
        var line = stdout.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(url + "  ", StringComparison.Ordinal));
        var match = CountsLine().Match(line ?? string.Empty);
        Assert.True(match.Success, $"no counts for {url} in:\n{stdout}");
        int Group(int i) => int.Parse(match.Groups[i].Value, CultureInfo.InvariantCulture);
        return (Group(1), Group(2), Group(3));
    }

    [GeneratedRegex(@"seeders (\d+)  leechers (\d+)  completed (\d+)$")]
    private static partial Regex CountsLine();

    private async Task<Opentracker> StartTrackerAsync()
    {
        var tracker = await Opentracker.StartAsync(_dir.Path, [], Lifetime);
        _running.Add(tracker);
        return tracker;
    }

    private async Task<LibtorrentSeeder> StartSeederAsync(SwarmTorrent torrent, SwarmContent content)
    {
        var seedRoot = _dir.Sub("seed");
        content.WriteTo(seedRoot);
        var seeder = await LibtorrentSeeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime);
        _running.Add(seeder);
        return seeder;
    }

    /// <summary>The same info dictionary as <see cref="SwarmTorrent.Build"/> (so the same info-hash), other trackers.</summary>
    private (string Path, InfoHash InfoHash) WriteTorrent(
        SwarmContent content, string fileName, IReadOnlyList<IReadOnlyList<string>> tiers)
    {
        var bytes = TorrentBuilder.Build(content.Name, content.PieceLength, content.Files.Select(f => (f.Path, f.Bytes)).ToList(),
            announceTiers: tiers, createdBy: "bta swarm harness", singleFile: content.IsSingleFile);
        var path = Path.Combine(_dir.Path, fileName + ".torrent");
        File.WriteAllBytes(path, bytes);
        return (path, TorrentMetainfo.Parse(bytes).Metainfo!.InfoHash);
    }

    private async Task<CliRun> BtaAsync(params string[] args)
    {
        var config = Path.Combine(_dir.Path, $"bta-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(config, """
            bta {
              listen-address = "127.0.0.1"
              tracker { udp-base-timeout = 200ms, udp-attempts = 3 }
            }
            """);
        using var stdout = new StringWriter(CultureInfo.InvariantCulture);
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);
        using var bounded = new CancellationTokenSource(ClientTimeout);
        // Actors write from several threads: the writers are synchronized, and read only after the run ended.
        var exit = await Task.Run(() => BtaApp.RunAsync([.. args, "--config", config], TextWriter.Synchronized(stdout),
            TextWriter.Synchronized(stderr), bounded.Token));
        return new CliRun(exit, stdout.ToString(), stderr.ToString());
    }

    private sealed record CliRun(int Exit, string Stdout, string Stderr)
    {
        public string Output => $"exit {Exit}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
    }
}
