using System.Diagnostics;
using System.Globalization;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Tests.Hostile;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Engine.Tests.Trackers;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>
/// Issue 17 item 9, issue 15 item 3: SIGTERM and SIGHUP stop a real <c>bta download</c> process as cleanly as one
/// Ctrl-C: the tracker hears <c>stopped</c>, the resume file is written, and the exit code is 128 + the signal.
/// The resume interval is an hour, so only the clean stop can have written the file. A scripted tracker and an
/// honest scripted peer slowed per block keep the download in progress when the signal arrives; all on 127.0.0.1.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class SignalTests : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <param name="times">Two signals in a row (what <c>timeout</c> plus a Ctrl-C delivers) still stop cleanly.</param>
    [Theory]
    [InlineData("TERM", 143, 1)]
    [InlineData("HUP", 129, 1)]
    [InlineData("TERM", 143, 2)]
    public async Task A_signal_stops_the_download_cleanly_with_its_exit_code(string signal, int exitCode, int times)
    {
        var content = SwarmContent.SingleFile("signal", 4 << 20, seed: 41, pieceLength: 64 * 1024);
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Peers([]));
        var torrent = SwarmTorrent.Build(content, _dir.Path, tracker.AnnounceUrl);
        var metainfo = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent.Path)).Metainfo!;
        using var peer = new ScriptedPeer(torrent, HostileBehaviour.Honest, Lifetime, blockDelay: TimeSpan.FromMilliseconds(20));
        var output = Path.Combine(_dir.Path, "out");
        var config = _dir.Write("signal.conf", "bta {\n  listen-address = \"127.0.0.1\"\n  resume.save-interval = 1h\n}\n");
        using var bta = BtaProcess.Start($"bta ({signal})",
            ["download", torrent.Path, "-o", output, "--config", config, "--peer", peer.PeerArgument,
                "--log-level", "debug", "--port", LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture)],
            Lifetime, _dir.Path);

        // Several pieces (4 blocks each) in, far from the end (256 blocks at 20 ms each).
        await WaitUntilAsync(() => peer.Connections.Sum(c => c.BlocksServed) >= 40, bta);
        for (var i = 0; i < times; i++)
        {
            await SendAsync(signal, bta.Pid);
        }
        var code = await bta.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(code == exitCode, $"exit code {code}, expected {exitCode}\n{bta.Log}");
        var resume = new ResumeStore(output, metainfo).Read().Data;
        Assert.True(resume is not null, $"no resume file after SIG{signal}\n{bta.Log}");
        Assert.True(resume.Verified.Count > 0, $"the resume file claims no piece\n{bta.Log}");
        Assert.True(resume.Verified.Count < metainfo.PieceCount, $"the download finished before the signal\n{bta.Log}");
        Assert.True(await SawStoppedAsync(tracker), $"the tracker never heard 'stopped'\n{bta.Log}");
        // Issue 15 item 5, at Debug: stdout holds only the command's lines, and no false exit line anywhere.
        StdoutTests.AssertOnlyCommandOutput(bta);
        StdoutTests.AssertNoAkkaExitLine(bta);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, SwarmProcess bta)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (bta.HasExited || DateTime.UtcNow > deadline)
            {
                throw new SwarmException("the download did not get going", bta);
            }
            await Task.Delay(20);
        }
    }

    /// <summary>kill(1) by PID, bounded in time.</summary>
    private static async Task SendAsync(string signal, int pid)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", signal, pid.ToString(CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
        })!;
        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await kill.WaitForExitAsync(bounded.Token);
        Assert.Equal(0, kill.ExitCode);
    }

    private static async Task<bool> SawStoppedAsync(ScriptedHttpTracker tracker)
    {
        try
        {
            while (true)
            {
                if ((await tracker.NextRequestAsync(TimeSpan.FromSeconds(5))).Text("event") == "stopped")
                {
                    return true;
                }
            }
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
