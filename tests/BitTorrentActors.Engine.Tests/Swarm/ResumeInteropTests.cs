namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>
/// Our client resuming against a libtorrent seeder on 127.0.0.1: after an interrupted run, and over files already
/// in the output folder. Each run must finish with fewer bytes fetched than the torrent holds.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class ResumeInteropTests : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);
    private readonly SwarmScope _swarm = new("resume", Lifetime);

    [Fact]
    public async Task Resumes_after_being_cancelled_halfway_and_fetches_only_the_rest()
    {
        var (_, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.MultiFile("resume", seed: 16));
        var total = torrent.Content.TotalLength;
        var slow = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime, uploadLimit: 1_000_000));
        var output = _swarm.Dir.Sub("out");

        using var stop = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && slow.LastUploaded < total / 2)
            {
                await Task.Delay(100);
            }
            await stop.CancelAsync();
        });
        var first = await BtaClientRun.RunAsync(torrent, output, _swarm.Dir.Path, TimeSpan.FromSeconds(20), stop.Token);
        await stop.CancelAsync();
        await watcher;
        Assert.True(slow.LastUploaded >= total / 2, $"the first run ended before half was served\n{first.Output}\n{slow.Log}");
        Assert.NotEqual(0, first.ExitCode);
        slow.Dispose();

        var fresh = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));
        var second = await BtaClientRun.RunAsync(torrent, output, _swarm.Dir.Path, TimeSpan.FromSeconds(25));

        second.AssertSucceeded();
        torrent.Content.AssertDownloaded(output);
        var served = await fresh.GetUploadedAsync();
        Assert.True(served < total * 0.85, $"the second run fetched {served} of {total} bytes: it did not resume\n{second.Output}");
        Assert.True(second.DownloadedBytes is { } n && n < total,
            $"the second run should print 'Downloaded N bytes' with N < {total}\n{second.Output}");
    }

    [Fact]
    public async Task Keeps_complete_files_already_in_the_output_folder()
    {
        var content = SwarmContent.MultiFile("present", seed: 17);
        var (_, torrent, seedRoot) = await _swarm.StartTrackerAsync(content);
        var seeder = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));
        var output = _swarm.Dir.Sub("out");

        // The first four files (a contiguous run from offset 0) are already there; the files inside whole pieces of
        // that run must be left untouched.
        var old = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        long end = 0;
        foreach (var (path, bytes) in content.Files.Take(4))
        {
            var target = content.PathUnder(output, path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, bytes);
            File.SetLastWriteTimeUtc(target, old);
            end += bytes.Length;
        }
        var wholePieces = end / content.PieceLength * content.PieceLength;
        var untouched = new List<string>();
        long offset = 0;
        foreach (var (path, bytes) in content.Files.Take(4))
        {
            offset += bytes.Length;
            if (offset <= wholePieces)
            {
                untouched.Add(path);
            }
        }
        Assert.True(untouched.Count >= 2, "the layout should leave at least two files inside whole pieces");

        var run = await BtaClientRun.RunAsync(torrent, output, _swarm.Dir.Path, TimeSpan.FromSeconds(30));

        run.AssertSucceeded();
        content.AssertDownloaded(output);
        foreach (var path in untouched)
        {
            var written = File.GetLastWriteTimeUtc(content.PathUnder(output, path));
            Assert.True(written == old, $"{path} was rewritten or truncated (modified {written:O}) though it was complete");
        }
        var served = await seeder.GetUploadedAsync();
        Assert.True(served < content.TotalLength - (wholePieces / 2),
            $"the seeder served {served} of {content.TotalLength} bytes though {wholePieces} were present\n{run.Output}");
        Assert.True(run.DownloadedBytes is { } n && n < content.TotalLength,
            $"the run should print 'Downloaded N bytes' with N < {content.TotalLength}\n{run.Output}");
    }

    public void Dispose() => _swarm.Dispose();


}
