using System.Globalization;
using System.Text.RegularExpressions;
using BitTorrentActors.Engine.Tests.Cli;
using BitTorrentActors.Engine.Tests.Swarm;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>
/// <c>bta daemon</c> as its own process (<c>dotnet bta.dll daemon ...</c>), exactly as a user runs it: peers and RPC
/// on 127.0.0.1 only (loopback-only on), the RPC on a free port read back from its ready line, resume saved twice
/// a second so a kill lands between saves. Bounded by a lifetime and killed by PID on dispose.
/// </summary>
public sealed partial class BtaDaemon : IDisposable
{
    private readonly SwarmProcess _process;

    private BtaDaemon(SwarmProcess process, string rpcUrl, string stateDir, string downloadDir, int peerPort)
    {
        _process = process;
        PeerPort = peerPort;
        RpcUrl = rpcUrl;
        StateDir = stateDir;
        DownloadDir = downloadDir;
    }

    public string RpcUrl { get; }

    /// <summary>host:port, as transmission-remote takes it.</summary>
    public string Address => new Uri(RpcUrl).Authority;

    public string StateDir { get; }

    /// <summary>The port it listens for peers on (127.0.0.1).</summary>
    public int PeerPort { get; }

    public string DownloadDir { get; }

    public int Pid => _process.Pid;

    public SwarmProcess Process => _process;

    public string Log => _process.Log;

    /// <param name="extraArgs">More command-line arguments (the cluster tests' <c>--cluster ...</c>).</param>
    public static async Task<BtaDaemon> StartAsync(
        string workDir, string stateDir, string downloadDir, TimeSpan lifetime, string extraConfig = "",
        IReadOnlyDictionary<string, string>? environment = null, IReadOnlyList<string>? extraArgs = null)
    {
        var port = LoopbackPorts.Next();
        var config = Path.Combine(workDir, $"daemon-{port}.conf");
        await File.WriteAllTextAsync(config, $$"""
            bta {
              listen-address = "127.0.0.1"
              resume.save-interval = 500ms
              session.loopback-only = true
              # Never the public routers (loopback-only would refuse them anyway); a test names its own nodes.
              dht.bootstrap-nodes = ""
              {{extraConfig}}
            }
            """).ConfigureAwait(false);
        var process = BtaProcess.Start($"bta daemon on port {port}",
            ["daemon", "--state-dir", stateDir, "--download-dir", downloadDir, "--rpc-port", "0", "--rpc-bind", "127.0.0.1",
                "--port", port.ToString(CultureInfo.InvariantCulture), "--config", config, .. extraArgs ?? []],
            lifetime, workDir, environment);
        try
        {
            var ready = await process.WaitForOutputAsync(l => l.StartsWith("bta daemon: RPC on ", StringComparison.Ordinal),
                TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            return new BtaDaemon(process, ReadyLine().Match(ready).Groups[1].Value, stateDir, downloadDir, port);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>SIGINT (Ctrl-C) by PID, then the exit code; the daemon must stop cleanly on its own.</summary>
    public async Task<int> InterruptAsync(TimeSpan timeout)
    {
        using (var kill = SwarmProcess.Start("kill -INT", "/bin/kill", ["-INT", Pid.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5)))
        {
            await kill.WaitForExitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        return await _process.WaitForExitAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>SIGKILL by PID: no clean stop, no last save.</summary>
    public async Task KillHardAsync()
    {
        _process.Kill("kill -9 (the test's crash)");
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    public void Dispose() => _process.Dispose();

    [GeneratedRegex(@"RPC on (http://\S+/transmission/rpc)")]
    private static partial Regex ReadyLine();
}

/// <summary>Debian's transmission-remote 3.00 run once against an RPC address, bounded, killed by PID if it hangs.</summary>
public static class TransmissionRemote
{
    public sealed record Result(int ExitCode, IReadOnlyList<string> Lines, string Log)
    {
        public string Text => string.Join('\n', Lines);

        public Result AssertSucceeded()
        {
            Assert.True(ExitCode == 0, $"transmission-remote exited with {ExitCode}\n{Log}");
            return this;
        }
    }

    public static async Task<Result> RunAsync(string address, string workDir, params string[] arguments)
    {
        using var process = SwarmProcess.Start("transmission-remote", Tools.TransmissionRemote, [address, .. arguments],
            TimeSpan.FromSeconds(40), workDir);
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(40)).ConfigureAwait(false);
        return new Result(exitCode, process.Lines, process.Log);
    }

    /// <summary>The rows of <c>-l</c> (without the header and the Sum line), split on runs of spaces.</summary>
    public static IReadOnlyList<string[]> Rows(Result list) =>
    [
        .. list.Lines
            .Where(l => l.Length > 0 && !l.TrimStart().StartsWith("ID", StringComparison.Ordinal) && !l.StartsWith("Sum:", StringComparison.Ordinal))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)),
    ];
}
