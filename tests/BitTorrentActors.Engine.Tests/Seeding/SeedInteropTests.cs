using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Seeding;

/// <summary>
/// BitTorrentActors as the uploader, against real clients on 127.0.0.1 through opentracker: aria2 and libtorrent
/// leechers download from <c>bta seed</c>, and <c>bta download --seed</c> trades pieces with a libtorrent leecher.
/// Transmission 3.00 never dials 127.0.0.0/8 peers, so its one test has <c>bta seed</c> dial it (<c>--peer</c>).
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed partial class SeedInteropTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(90);
    private readonly SwarmScope _swarm = new("seeding", Lifetime);

    [Fact]
    public async Task Bta_seed_serves_an_aria2_leecher_and_a_libtorrent_leecher_byte_identical()
    {
        var content = SwarmContent.MultiFile("seeded", seed: 21, scale: 3);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var tracker = _swarm.Track(await Opentracker.StartAsync(_swarm.Dir.Path, [], Lifetime));
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(torrent.InfoHash);

        using var stop = new CancellationTokenSource();
        var port = LoopbackPorts.Next();
        var seeding = BtaClientRun.RunCommandAsync(["seed", torrent.Path, "--data", seedRoot], port, _swarm.Dir.Path, Lifetime, stop.Token);
        try
        {
            // bta seed checks its data before it announces; on a loaded 2-core CI machine that took over 20 s once.
            // The wait ends at the first sighting, so the margin costs nothing when the machine is quiet.
            await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(60));

            var aria2Out = _swarm.Dir.Sub("aria2");
            var clock = Stopwatch.StartNew();
            await Aria2Leecher.RunAsync(torrent, aria2Out, _swarm.Dir.Path, TimeSpan.FromSeconds(40));
            clock.Stop();
            content.AssertDownloaded(aria2Out);
            var rate = content.TotalLength / clock.Elapsed.TotalSeconds;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"upload to aria2: {content.TotalLength} bytes in {clock.Elapsed.TotalSeconds:0.00} s = {rate / 1e6:0.0} MB/s (including aria2's start-up and tracker announce)"));

            var libtorrentOut = _swarm.Dir.Sub("libtorrent");
            await LibtorrentLeecher.RunAsync(torrent, libtorrentOut, _swarm.Dir.Path, TimeSpan.FromSeconds(40));
            content.AssertDownloaded(libtorrentOut);
        }
        finally
        {
            await stop.CancelAsync();
        }

        var run = await seeding;
        output.WriteLine(run.Output);
        run.AssertSucceeded();
        Assert.Contains("Stopped seeding", run.Stdout);
        Assert.True(Uploaded(run) >= 2 * content.TotalLength, $"uploaded {Uploaded(run)} bytes for two full copies\n{run.Output}");
        // Complete data downloads nothing: the runtime line gives no figure per MiB downloaded (it divided by 1 byte).
        Assert.Contains("bytes allocated, nothing downloaded", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("KiB per MiB downloaded", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Download_with_seed_trades_pieces_with_a_libtorrent_leecher_from_one_capped_seeder()
    {
        var content = SwarmContent.MultiFile("traded", seed: 22, scale: 1);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var tracker = _swarm.Track(await Opentracker.StartAsync(_swarm.Dir.Path, [], Lifetime));
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(torrent.InfoHash);
        // Capped so that neither leecher can get everything from the seeder quickly: they must trade.
        _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime, uploadLimit: 400_000));
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(10));

        using var stop = new CancellationTokenSource();
        var ours = _swarm.Dir.Sub("ours");
        BtaClientRun? live = null;
        var downloading = BtaClientRun.RunCommandAsync(
            ["download", torrent.Path, "-o", ours, "--seed"], LoopbackPorts.Next(), _swarm.Dir.Path, Lifetime, stop.Token, r => live = r);
        IReadOnlyDictionary<string, long> fromPeers;
        try
        {
            var theirs = _swarm.Dir.Sub("theirs");
            fromPeers = await PeerReportingLeecher.RunAsync(torrent, theirs, _swarm.Dir.Path, TimeSpan.FromSeconds(60));
            content.AssertDownloaded(theirs);
            // Ours may finish after theirs; Ctrl-C only once it seeds (before that it would be a cancelled download).
            Assert.True(await live!.WaitForStdoutAsync("Seeding until", TimeSpan.FromSeconds(40)), live.Output);
        }
        finally
        {
            await stop.CancelAsync();
        }

        var run = await downloading;
        output.WriteLine(run.Output);
        output.WriteLine(string.Join('\n', fromPeers.Select(p => $"libtorrent got {p.Value} bytes from peer {p.Key}")));
        run.AssertSucceeded();
        content.AssertDownloaded(ours);
        Assert.True(Uploaded(run) > 0, $"our upload counter stayed at 0\n{run.Output}");
        // Our peer ids start "-BA" (2d 42 41).
        var fromUs = fromPeers.Where(p => p.Key.StartsWith("2d4241", StringComparison.OrdinalIgnoreCase)).Sum(p => p.Value);
        Assert.True(fromUs > 0, $"the libtorrent leecher reports no bytes from us: {string.Join(", ", fromPeers)}\n{run.Output}");
    }

    [Fact]
    public async Task Idle_interested_connections_holding_every_unchoke_slot_do_not_lock_out_an_aria2_leecher()
    {
        var content = SwarmContent.MultiFile("idlers", seed: 23, scale: 1);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var tracker = _swarm.Track(await Opentracker.StartAsync(_swarm.Dir.Path, [], Lifetime));
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(torrent.InfoHash);
        // Six interested peers that never request: dialled first, they take all 4 + 1 unchoke slots at once.
        var idle = Enumerable.Range(0, 6)
            .Select(_ => new Hostile.ScriptedPeer(torrent, Hostile.HostileBehaviour.InterestedIdle, Lifetime)).ToList();
        using var stop = new CancellationTokenSource();
        BtaClientRun? live = null;
        var seeding = BtaClientRun.RunCommandAsync(
            ["seed", torrent.Path, "--data", seedRoot, .. idle.SelectMany(p => new[] { "--peer", p.PeerArgument }),
                "--set", "bta.upload.unchoke-slots=4", "--set", "bta.upload.rechoke-interval=2s"],
            LoopbackPorts.Next(), _swarm.Dir.Path, Lifetime, stop.Token, r => live = r);
        try
        {
            // bta seed checks its data before it announces; on a loaded 2-core CI machine that took over 20 s once.
            // The wait ends at the first sighting, so the margin costs nothing when the machine is quiet.
            await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(60));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (idle.Any(p => p.Connections.Count == 0) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            // Without turnover the leecher waits for an optimistic rotation that favours it 1 in 7 (30 s each).
            var aria2Out = _swarm.Dir.Sub("aria2");
            await Aria2Leecher.RunAsync(torrent, aria2Out, _swarm.Dir.Path, TimeSpan.FromSeconds(25));
            content.AssertDownloaded(aria2Out);
        }
        finally
        {
            await stop.CancelAsync();
            idle.ForEach(p => p.Dispose());
        }

        var run = await seeding;
        output.WriteLine(run.Output);
        run.AssertSucceeded();
    }

    [Fact]
    public async Task Bta_seed_serves_a_transmission_leecher_that_pipelines_deeply_without_banning_it()
    {
        // Transmission 3.00, told no reqq, keeps ten seconds' worth of blocks requested: thousands on loopback,
        // far beyond our queue of 500. It used to be banned within seconds ("more than 500 queued requests").
        var content = SwarmContent.SingleFile("deep.bin", 20_000_011, seed: 24, pieceLength: 256 * 1024);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, "http://127.0.0.1:9/announce");
        var leechRoot = _swarm.Dir.Sub("transmission");
        var leecher = await TransmissionSeeder.StartAsync(torrent, leechRoot, _swarm.Dir.Path, Lifetime, waitForSeeding: false);
        using var stop = new CancellationTokenSource();
        var seeding = BtaClientRun.RunCommandAsync(
            ["seed", torrent.Path, "--data", seedRoot, "--peer", $"127.0.0.1:{leecher.EndPoint.Port}"],
            LoopbackPorts.Next(), _swarm.Dir.Path, Lifetime, stop.Token);
        try
        {
            await leecher.WaitUntilSeedingAsync(content.TotalLength, TimeSpan.FromSeconds(70));
        }
        finally
        {
            await stop.CancelAsync();
            leecher.Dispose();
        }

        var run = await seeding;
        output.WriteLine(run.Output);
        run.AssertSucceeded();
        Assert.DoesNotContain("Banned peer", run.Stderr, StringComparison.Ordinal);
        content.AssertDownloaded(leechRoot);
    }

    public void Dispose() => _swarm.Dispose();

    private static long Uploaded(BtaClientRun run) =>
        UploadedLine().Match(run.Stdout) is { Success: true } match ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"Stopped seeding: uploaded (\d+) bytes")]
    private static partial Regex UploadedLine();

}
