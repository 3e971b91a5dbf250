using System.Globalization;
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
        // Unlimited, the corrupt peer serves whole pieces alone and is banned on its first failed piece.
        await DownloadBesideCorruptPeersAsync(corruptPeers: 1, blockDelay: TimeSpan.Zero, seed: 51);
    }

    [Fact]
    public async Task Corrupt_peers_sharing_pieces_with_the_honest_seeder_do_not_get_it_banned()
    {
        // Answering one block of each requested piece at a time, a corrupt peer is banned with its blocks already in
        // several started pieces; the honest seeder finishes those, and they fail with the seeder among their
        // contributors. That must not add up to a ban of the only honest source.
        await DownloadBesideCorruptPeersAsync(corruptPeers: 4, blockDelay: TimeSpan.Zero, seed: 52, interleave: true);
    }

    private async Task DownloadBesideCorruptPeersAsync(int corruptPeers, TimeSpan blockDelay, int seed, bool interleave = false)
    {
        // 64 pieces of 64 KiB. The seeder is capped at 1 MB/s so the corrupt peers get their share of requests
        // rather than the seeder serving everything in a fraction of a second.
        var content = SwarmContent.SingleFile("corrupt.bin", 4_194_000, seed);
        var seedRoot = _dir.Sub("seed");
        content.WriteTo(seedRoot);
        using var tracker = await Opentracker.StartAsync(_dir.Path, [], Lifetime);
        var torrent = SwarmTorrent.Build(content, _dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(torrent.InfoHash);
        using var seeder = await LibtorrentSeeder.StartAsync(torrent, seedRoot, _dir.Path, Lifetime, uploadLimit: 1_000_000);
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(10));
        var corrupt = Enumerable.Range(0, corruptPeers)
            .Select(_ => new ScriptedPeer(torrent, HostileBehaviour.CorruptBlocks, Lifetime, blockDelay, interleave)).ToList();
        try
        {
            var outputDir = _dir.Sub("out");
            var run = await BtaClientRun.RunAsync(torrent, outputDir, _dir.Path, ClientTimeout, extraArgs:
            [
                .. corrupt.SelectMany(p => new[] { "--peer", p.PeerArgument }), "--log-level", "Information",
                // A peer dropped without a ban would be dialled again within a fraction of a second.
                "--set", "bta.peer-retry.min-backoff=200ms",
            ]);
            foreach (var peer in corrupt)
            {
                await peer.WaitForFirstCloseAsync(TimeSpan.FromSeconds(5));
            }
            var injected = corrupt.Sum(p => p.Connections.SelectMany(c => c.PiecesServed).Distinct().Count());
            var blocks = corrupt.Sum(p => p.Connections.Sum(c => c.BlocksServed));
            var failures = HashFailureLine().Matches(run.Stderr)
                .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
            output.WriteLine($"bad pieces injected: {injected} ({blocks} corrupt blocks); hash failures caught: "
                + $"{failures.Count} ({failures.Distinct().Count()} distinct pieces)");
            var described = string.Join('\n', corrupt.Select(p => p.Describe()));
            output.WriteLine(described);
            output.WriteLine(string.Join('\n', run.Stderr.Split('\n').Where(l => l.Contains("contributed") || l.Contains("Banned"))));

            run.AssertSucceeded();
            // Nothing corrupt reached the files: every byte is the seed's.
            content.AssertDownloaded(outputDir);
            Assert.True(blocks > 0, $"no corrupt peer was asked for a block\n{described}\n{run.Output}");
            Assert.True(failures.Count > 0, $"no hash failure was caught\n{run.Output}");
            Assert.DoesNotContain($"Banned peer {seeder.EndPoint}", run.Stderr, StringComparison.Ordinal);
            foreach (var peer in corrupt.Where(p => p.Connections.Any(c => c.BlocksServed > 0)))
            {
                Assert.Contains($"Banned peer {peer.PeerArgument}", run.Stderr, StringComparison.Ordinal);
            }
            Assert.True(corrupt.All(p => p.Connections.Count == 1), $"a banned peer was dialled again\n{described}");
            Assert.True(await seeder.GetUploadedAsync() > 0, $"the honest seeder served nothing\n{run.Output}");
        }
        finally
        {
            corrupt.ForEach(p => p.Dispose());
        }
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>The coordinator's line, once per failed piece (the writer logs a differently worded one).</summary>
    [GeneratedRegex(@"Piece (\d+) failed its hash check \(\d+ peers contributed\)")]
    private static partial Regex HashFailureLine();
}
