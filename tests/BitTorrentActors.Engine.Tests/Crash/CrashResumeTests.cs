using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Tests.Cli;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Crash;

/// <summary>
/// The real client as its own process (<c>dotnet bta.dll download ...</c>) against a libtorrent seeder capped to a
/// slow upload, through opentracker, all on 127.0.0.1: SIGKILLed at about 20%, 50% and 80% of the download, then run
/// once more to the end. After every kill the resume file may claim only pieces whose bytes are on disk, and it keeps
/// what earlier runs verified; the last run finishes byte-identical without fetching the claimed pieces again.
/// The kill points are random (the seed is printed), so every run probes other moments. <c>bta seed</c> is also
/// SIGKILLed at random moments of its start-up check over content with damaged pieces: no run may leave a claim on
/// a damaged piece.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed partial class CrashResumeTests(ITestOutputHelper testOutput) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(150);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);
    // Endgame may fetch a few blocks twice; anything beyond a few pieces would be refetching verified data.
    private const int SlackPieces = 5;
    private readonly SwarmScope _swarm = new("crash", Lifetime);

    [Fact]
    public async Task Killed_at_several_points_it_finishes_without_fetching_verified_pieces_again()
    {
        var content = SwarmContent.MultiFile("crash", seed: 23);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var tracker = _swarm.Track(await Opentracker.StartAsync(_swarm.Dir.Path, [], Lifetime));
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(torrent.InfoHash);
        var metainfo = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent.Path)).Metainfo!;
        var total = content.TotalLength;
        var capped = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime, uploadLimit: 700_000));
        var folder = _swarm.Dir.Sub("out");
        var store = new ResumeStore(folder, metainfo);

        var seed = Environment.TickCount;
        var random = new Random(seed);
        // One kill in each third, so the claims grow between kills.
        var fractions = new[] { 0.1 + (0.2 * random.NextDouble()), 0.4 + (0.2 * random.NextDouble()), 0.7 + (0.2 * random.NextDouble()) };
        testOutput.WriteLine($"random seed {seed}: kills at {string.Join(", ", fractions.Select(f => f.ToString("P0", CultureInfo.InvariantCulture)))} claimed");
        Bitfield? previous = null;
        foreach (var fraction in fractions)
        {
            using var run = StartClient(torrent, folder);
            await WaitForClaimsAsync(run, store, metainfo, (long)(fraction * total));
            run.Kill($"SIGKILL at {fraction:P0} claimed");
            await run.WaitForExitAsync(TimeSpan.FromSeconds(10));

            var claimed = store.Read().Data?.Verified
                ?? throw new SwarmException($"no readable resume file after the kill at {fraction:P0}", run);
            foreach (var piece in claimed.GetSetIndices())
            {
                Assert.True(PieceOnDisk(metainfo, folder, piece),
                    $"after the kill at {fraction:P0} the resume file claims piece {piece}, whose bytes are not on disk\n{run.Log}");
            }
            if (previous is not null)
            {
                foreach (var piece in previous.GetSetIndices())
                {
                    Assert.True(claimed[piece], $"piece {piece}, verified before an earlier kill, was lost by the run killed at {fraction:P0}\n{run.Log}");
                }
            }
            previous = claimed;
            testOutput.WriteLine($"killed at {fraction:P0}: resume file claims {claimed.Count}/{claimed.PieceCount} pieces ({ClaimedBytes(metainfo, claimed)} of {total} bytes)");
        }
        capped.Dispose();

        var claimedBytes = ClaimedBytes(metainfo, previous!);
        _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));
        using var last = StartClient(torrent, folder);
        var exitCode = await last.WaitForExitAsync(RunTimeout);

        Assert.True(exitCode == 0, $"the last run exited with {exitCode}\n{last.Log}");
        content.AssertDownloaded(folder);
        var downloaded = DownloadedLine().Matches(last.Log).LastOrDefault() is { } match
            ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new SwarmException("the last run printed no 'Downloaded N bytes' line", last);
        testOutput.WriteLine($"last run: downloaded {downloaded} bytes of {total}\n{last.Log}");
        var bound = total - claimedBytes + (SlackPieces * (long)metainfo.PieceLength);
        Assert.True(downloaded <= bound,
            $"the last run downloaded {downloaded} bytes, over {bound} = {total} - {claimedBytes} claimed + {SlackPieces} pieces: verified pieces were fetched again\n{last.Log}");
    }

    [Fact]
    public async Task Seed_killed_at_random_moments_of_its_start_up_check_never_claims_a_damaged_piece()
    {
        var content = SwarmContent.SingleFile("seedcheck.bin", (48 * 1024 * 1024) + 12_345, seed: 29, pieceLength: 256 * 1024);
        var dataRoot = _swarm.Dir.Sub("seed-data");
        content.WriteTo(dataRoot);
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, $"http://127.0.0.1:{Trackers.TrackerTestSupport.ClosedPort()}/announce");
        var metainfo = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent.Path)).Metainfo!;
        int[] damaged = [0, 7, metainfo.PieceCount / 2, metainfo.PieceCount - 1];
        using (var file = File.OpenWrite(content.PathUnder(dataRoot, content.Name)))
        {
            foreach (var piece in damaged)
            {
                file.Position = (long)piece * metainfo.PieceLength + 100;
                file.WriteByte((byte)(content.Files[0].Bytes[file.Position] ^ 0xFF));
            }
        }
        var store = new ResumeStore(dataRoot, metainfo);
        var seed = Environment.TickCount;
        var random = new Random(seed);

        // Start-up takes about a second and the check about as long again: kills between 0.3 s and 3 s land
        // before, during and just after it.
        for (var run = 0; run < 5; run++)
        {
            var delay = TimeSpan.FromMilliseconds(random.Next(300, 3000));
            using var seeding = StartSeed(torrent, dataRoot);
            await Task.Delay(delay);
            seeding.Kill($"SIGKILL {delay.TotalMilliseconds:0} ms after start");
            await seeding.WaitForExitAsync(TimeSpan.FromSeconds(10));
            var claimed = store.Read().Data?.Verified;
            testOutput.WriteLine($"random seed {seed}, run {run}: killed after {delay.TotalMilliseconds:0} ms, resume file claims {claimed?.Count.ToString(CultureInfo.InvariantCulture) ?? "nothing"}");
            AssertNoFalseClaim(claimed, damaged, $"the run killed {delay.TotalMilliseconds:0} ms after start", seeding.Log);
        }

        // Left to finish its check, it claims every piece but the damaged ones: the claims above were not vacuous.
        using var last = StartSeed(torrent, dataRoot);
        var expected = metainfo.PieceCount - damaged.Length;
        var deadline = DateTime.UtcNow + RunTimeout;
        while (store.Read().Data?.Verified is not { } done || done.Count < expected)
        {
            Assert.True(DateTime.UtcNow < deadline && !last.HasExited, $"bta seed did not claim {expected} pieces\n{last.Log}");
            await Task.Delay(100);
        }
        last.Kill("checked");
        await last.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var final = store.Read().Data!.Verified;
        AssertNoFalseClaim(final, damaged, "the last run", last.Log);
        Assert.Equal(expected, final.Count);
    }

    public void Dispose() => _swarm.Dispose();

    private static void AssertNoFalseClaim(Bitfield? claimed, int[] damaged, string when, string log)
    {
        foreach (var piece in damaged)
        {
            Assert.False(claimed?[piece] ?? false, $"after {when} the resume file claims damaged piece {piece}\n{log}");
        }
    }

    private SwarmProcess StartSeed(SwarmTorrent torrent, string data)
    {
        var port = LoopbackPorts.Next();
        var config = Path.Combine(_swarm.Dir.Path, $"seed-{port}.conf");
        File.WriteAllText(config, """
            bta {
              listen-address = "127.0.0.1"
              resume.save-interval = 500ms
            }
            """);
        return BtaProcess.Start($"bta seed on port {port}",
            ["seed", torrent.Path, "--data", data, "--port", port.ToString(CultureInfo.InvariantCulture), "--config", config],
            RunTimeout, _swarm.Dir.Path);
    }


    // The client exactly as a user runs it, saving its resume file twice a second so kills land between saves.
    private SwarmProcess StartClient(SwarmTorrent torrent, string output)
    {
        var port = LoopbackPorts.Next();
        var config = Path.Combine(_swarm.Dir.Path, $"crash-{port}.conf");
        File.WriteAllText(config, """
            bta {
              listen-address = "127.0.0.1"
              resume.save-interval = 500ms
            }
            """);
        return BtaProcess.Start($"bta on port {port}",
            ["download", torrent.Path, "-o", output, "--port", port.ToString(CultureInfo.InvariantCulture), "--config", config],
            RunTimeout, _swarm.Dir.Path);
    }

    private static async Task WaitForClaimsAsync(SwarmProcess run, ResumeStore store, TorrentMetainfo metainfo, long bytes)
    {
        var deadline = DateTime.UtcNow + RunTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (run.HasExited)
            {
                throw new SwarmException($"bta exited ({run.ExitCode}) before its resume file claimed {bytes} bytes", run);
            }
            // Read without cleaning: the client may be writing its next temporary right now.
            if (store.Read().Data is { } resume && ClaimedBytes(metainfo, resume.Verified) >= bytes)
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new SwarmException($"the resume file did not claim {bytes} bytes within {RunTimeout.TotalSeconds:0}s", run);
    }

    private static long ClaimedBytes(TorrentMetainfo metainfo, Bitfield verified)
    {
        var bytes = 0L;
        foreach (var piece in verified.GetSetIndices())
        {
            bytes += metainfo.GetPieceSize(piece);
        }
        return bytes;
    }

    private static bool PieceOnDisk(TorrentMetainfo metainfo, string output, int piece)
    {
        using var storage = new TorrentStorage(metainfo.Layout, output);
        var buffer = new byte[metainfo.GetPieceSize(piece)];
        return storage.ReadPiece(piece, buffer) && SHA1.HashData(buffer).AsSpan().SequenceEqual(metainfo.GetPieceHash(piece));
    }

    [GeneratedRegex(@"\bDownloaded (\d+) bytes")]
    private static partial Regex DownloadedLine();
}
