using System.Text.RegularExpressions;
using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Hostile;

/// <summary>
/// A scripted peer serving corrupted blocks for every piece, next to an honest real libtorrent seeder found through
/// opentracker: the download completes byte-identical, the corrupt peer is banned and never dialled again, and the
/// honest seeder is not blamed for the corrupt peer's data.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed partial class CorruptPeerTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(40);
    private readonly SwarmTempDir _dir = new("corrupt");

    [Fact]
    public async Task A_corrupt_peer_is_banned_and_the_download_completes_from_an_honest_libtorrent_seeder()
    {
        // 64 pieces of 64 KiB. The seeder is capped at 1 MB/s so the corrupt peer (unlimited) gets its share of
        // requests rather than the seeder serving everything in a fraction of a second.
        var content = SwarmContent.SingleFile("corrupt.bin", 4_194_000, seed: 51);
        var seedRoot = _dir.Sub("seed");
        content.WriteTo(seedRoot);
        using var tracker = await Opentracker.StartAsync(_dir.Path, [], Lifetime);
        var torrent = SwarmTorrent.Build(content, _dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(torrent.InfoHash);
        using var seeder = await LibtorrentSeeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime, uploadLimit: 1_000_000);
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(10));
        using var corrupt = new ScriptedPeer(torrent, HostileBehaviour.CorruptBlocks, Lifetime);
        var outputDir = _dir.Sub("out");

        var run = await BtaClientRun.RunAsync(torrent, outputDir, _dir.Path, ClientTimeout, extraArgs:
        [
            "--peer", corrupt.PeerArgument, "--log-level", "Information",
            // A peer dropped without a ban would be dialled again within a fraction of a second.
            "--set", "bta.peer-retry.min-backoff=200ms",
        ]);
        await corrupt.WaitForFirstCloseAsync(TimeSpan.FromSeconds(5));
        var injected = corrupt.Connections.SelectMany(c => c.PiecesServed).Distinct().Count();
        var blocks = corrupt.Connections.Sum(c => c.BlocksServed);
        var failures = HashFailureLine().Matches(run.Stderr).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        output.WriteLine($"bad pieces injected: {injected} ({blocks} corrupt blocks); hash failures caught: "
            + $"{failures.Count} ({failures.Distinct().Count()} distinct pieces)");
        output.WriteLine(corrupt.Describe());

        run.AssertSucceeded();
        // Nothing corrupt reached the files: every byte is the seed's.
        content.AssertDownloaded(outputDir);
        Assert.True(blocks > 0, $"the corrupt peer was never asked for a block\n{corrupt.Describe()}\n{run.Output}");
        Assert.True(failures.Count > 0, $"no hash failure was caught\n{run.Output}");
        Assert.Contains($"Banned peer {corrupt.PeerArgument}", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain($"Banned peer {seeder.EndPoint}", run.Stderr, StringComparison.Ordinal);
        Assert.True(corrupt.Connections.Count == 1, $"the banned peer was dialled again\n{corrupt.Describe()}");
        Assert.True(await seeder.GetUploadedAsync() > 0, $"the honest seeder served nothing\n{run.Output}");
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>The coordinator's line, once per failed piece (the writer logs a differently worded one).</summary>
    [GeneratedRegex(@"Piece (\d+) failed its hash check \(\d+ peers contributed\)")]
    private static partial Regex HashFailureLine();
}
