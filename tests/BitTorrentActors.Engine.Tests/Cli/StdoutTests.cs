using System.Globalization;
using BitTorrentActors.Engine.Tests.Hostile;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.Swarm;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>
/// Issue 15 item 5: stdout carries command output only, even at Debug: no Akka line (its stdout logger printed
/// "Shutting down: StandardOutLogger started" there) and no false "Exiting with [ExitCode:0]" line anywhere, also
/// for runs that fail. Real <c>bta</c> processes, because Akka writes to the process's own Console.Out.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class StdoutTests : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_download_that_fails_writes_only_its_own_lines_to_stdout()
    {
        var content = SwarmContent.SingleFile("blocked", 64 * 1024, seed: 5, pieceLength: 16 * 1024);
        var torrent = SwarmTorrent.Build(content, _dir.Path, "http://127.0.0.1:1/announce");
        using var peer = new ScriptedPeer(torrent, HostileBehaviour.Honest, Lifetime);
        var output = Path.Combine(_dir.Path, "out");
        // A folder where the file must go: the first write fails, a disk error that ends the run with exit 3
        // (the output cannot be written).
        Directory.CreateDirectory(Path.Combine(output, "blocked", "in-the-way"));
        var config = _dir.Write("fail.conf", "bta.listen-address = \"127.0.0.1\"\n");
        using var bta = BtaProcess.Start("bta download (fails)",
            ["download", torrent.Path, "-o", output, "--config", config, "--peer", peer.PeerArgument,
                "--log-level", "Debug", "--port", LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture)],
            Lifetime, _dir.Path);

        var code = await bta.WaitForExitAsync(TimeSpan.FromSeconds(45));

        Assert.True(code == 3, $"exit code {code}\n{bta.Log}");
        Assert.Contains(StdoutLines(bta), line => line.StartsWith("Downloading blocked", StringComparison.Ordinal));
        AssertOnlyCommandOutput(bta);
        AssertNoAkkaExitLine(bta);
    }

    [Fact]
    public async Task Config_at_debug_writes_only_the_settings_to_stdout()
    {
        using var bta = BtaProcess.Start("bta config", ["config", "--log-level", "debug"], Lifetime, _dir.Path);

        var code = await bta.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.True(code == 0, bta.Log);
        var stdout = StdoutLines(bta);
        Assert.Equal("bta {", stdout[0]);
        Assert.Equal("}", stdout[^1]);
        Assert.Contains("    level = debug", stdout);
        Assert.DoesNotContain("[err] ", bta.Log, StringComparison.Ordinal);
    }

    /// <summary>Lines the process wrote to stdout (SwarmProcess marks stderr lines "[err] ").</summary>
    internal static List<string> StdoutLines(SwarmProcess process) =>
        [.. process.Log.Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(l => l.Length > 0 && !l.StartsWith("[err] ", StringComparison.Ordinal)
                && !l.StartsWith("$ ", StringComparison.Ordinal) && !l.StartsWith("*** ", StringComparison.Ordinal))];

    /// <summary>No log line on stdout: bta's log goes to stderr, and Akka's own lines start with "[DEBUG][" etc.</summary>
    internal static void AssertOnlyCommandOutput(SwarmProcess process) =>
        Assert.All(StdoutLines(process), line => Assert.False(
            line.StartsWith('[') || line.Contains("Logger", StringComparison.Ordinal) || line.Contains("Akka", StringComparison.Ordinal),
            $"not command output on stdout: '{line}'\n{process.Log}"));

    internal static void AssertNoAkkaExitLine(SwarmProcess process) =>
        Assert.DoesNotContain("Exiting with [ExitCode", process.Log, StringComparison.Ordinal);
}
