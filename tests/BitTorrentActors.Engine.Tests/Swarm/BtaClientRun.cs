using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using BitTorrentActors.Cli;

namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>
/// Runs our client in-process through the CLI contract: <c>download &lt;torrent&gt; -o &lt;dir&gt; --port N --config F</c>,
/// listening on 127.0.0.1 only, bounded by a timeout (then cancelled, which the CLI reports as exit code 130).
/// </summary>
public sealed partial class BtaClientRun
{
    private readonly LockedWriter _stdout = new();
    private readonly LockedWriter _stderr = new();

    public int ExitCode { get; private set; }

    public string Stdout => _stdout.Text;

    public string Stderr => _stderr.Text;

    /// <summary>Both streams, for assertion messages.</summary>
    public string Output => $"--- bta stdout ---\n{Stdout}\n--- bta stderr ---\n{Stderr}";

    /// <summary>N from the client's final line "Complete: ... Downloaded N bytes in ..."; null when it printed none.</summary>
    public long? DownloadedBytes
    {
        get
        {
            var match = DownloadedLine().Matches(Stdout).LastOrDefault();
            return match is null ? null : long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }
    }

    /// <param name="extraArgs">More options for the command line (e.g. <c>--peer</c>, <c>--set</c>).</param>
    public static Task<BtaClientRun> RunAsync(
        SwarmTorrent torrent, string outputDir, string workDir, TimeSpan timeout, CancellationToken stop = default,
        IReadOnlyList<string>? extraArgs = null) =>
        RunCommandAsync(["download", torrent.Path, "-o", outputDir, .. extraArgs ?? []], LoopbackPorts.Next(), workDir, timeout, stop);

    /// <summary>Any bta command (e.g. <c>seed FILE --data DIR</c>) on <paramref name="port"/>, listening on
    /// 127.0.0.1 only, until it exits, <paramref name="stop"/> is cancelled (Ctrl-C) or the timeout passes.</summary>
    /// <param name="started">Gets the run as soon as it starts, so a test can watch its output live.</param>
    public static async Task<BtaClientRun> RunCommandAsync(
        string[] command, int port, string workDir, TimeSpan timeout, CancellationToken stop = default,
        Action<BtaClientRun>? started = null)
    {
        var config = Path.Combine(workDir, $"bta-{port}.conf");
        await File.WriteAllTextAsync(config, """
            bta {
              listen-address = "127.0.0.1"
              # Never the public routers (loopback-only would refuse them anyway); --set names a loopback node.
              dht.bootstrap-nodes = ""
            }
            """).ConfigureAwait(false);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(stop);
        bounded.CancelAfter(timeout);
        var run = new BtaClientRun();
        started?.Invoke(run);
        string[] args = [.. command, "--port", port.ToString(CultureInfo.InvariantCulture), "--config", config];
        run.ExitCode = await Task.Run(() => BtaApp.RunAsync(args, run._stdout, run._stderr, bounded.Token))
            .ConfigureAwait(false);
        if (bounded.IsCancellationRequested && !stop.IsCancellationRequested)
        {
            run._stderr.WriteLine($"*** harness: bta did not end within {timeout.TotalSeconds:0}s");
        }
        return run;
    }

    /// <summary>Waits until stdout has a line containing <paramref name="text"/>; false after the timeout.</summary>
    public async Task<bool> WaitForStdoutAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Stdout.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>Asserts exit code 0 (all pieces verified), showing the client's output otherwise.</summary>
    public void AssertSucceeded()
    {
        Assert.True(ExitCode == 0, $"bta exited with {ExitCode}\n{Output}");
    }

    [GeneratedRegex(@"\bDownloaded (\d+) bytes")]
    private static partial Regex DownloadedLine();

    /// <summary>A TextWriter safe to write from several threads and to read while being written.</summary>
    private sealed class LockedWriter : TextWriter
    {
        private readonly StringBuilder _text = new();
        private readonly Lock _gate = new();

        public override Encoding Encoding => Encoding.UTF8;

        public string Text
        {
            get
            {
                lock (_gate)
                {
                    return _text.ToString();
                }
            }
        }

        public override void Write(char value)
        {
            lock (_gate)
            {
                _text.Append(value);
            }
        }

        public override void Write(string? value)
        {
            lock (_gate)
            {
                _text.Append(value);
            }
        }

        public override Task WriteAsync(string? value)
        {
            Write(value);
            return Task.CompletedTask;
        }

        public override Task WriteLineAsync(string? value)
        {
            WriteLine(value);
            return Task.CompletedTask;
        }
    }
}
