using System.Globalization;
using System.Net;
using System.Net.Sockets;
using BitTorrentActors.Engine.Tests.Cli;
using BitTorrentActors.Engine.Tests.Swarm;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary><c>bta daemon</c> in-process: its options, and a busy RPC port as one clear line.</summary>
public sealed class DaemonCommandTests
{
    [Fact]
    public async Task A_busy_rpc_port_is_one_line_naming_it()
    {
        using var dir = new SwarmTempDir("daemon-cli");
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);

        var result = await CliRunner.RunAsync("daemon", "--state-dir", dir.Sub("state"), "--download-dir", dir.Sub("dl"),
            "--rpc-port", port, "--port", LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture),
            "--set", "bta.listen-address=127.0.0.1", "--log-level", "Error");

        var line = result.AssertOneLineFailure();
        Assert.Contains($"cannot serve the RPC on 127.0.0.1:{port}", line);
    }

    [Fact]
    public async Task A_bad_rpc_bind_is_a_configuration_error()
    {
        using var dir = new SwarmTempDir("daemon-cli");
        var result = await CliRunner.RunAsync("daemon", "--state-dir", dir.Sub("state"), "--rpc-bind", "not-an-address");
        Assert.Contains("bta.rpc.bind", result.AssertOneLineFailure());
    }

    [Fact]
    public async Task Daemon_help_lists_its_options()
    {
        var result = await CliRunner.RunAsync("daemon", "--help");
        Assert.Equal(0, result.ExitCode);
        foreach (var option in new[] { "--state-dir", "--download-dir", "--rpc-port", "--rpc-bind", "--port" })
        {
            Assert.Contains(option, result.Stdout + result.Stderr);
        }
    }

    [Fact]
    public async Task Without_the_rpc_it_runs_until_cancelled_then_stops_cleanly_with_exit_0()
    {
        using var dir = new SwarmTempDir("daemon-cli");
        using var stop = new CancellationTokenSource();
        BtaClientRun? live = null;
        var running = BtaClientRun.RunCommandAsync(
            ["daemon", "--state-dir", dir.Sub("state"), "--download-dir", dir.Sub("dl"), "--set", "bta.rpc.enabled=false"],
            LoopbackPorts.Next(), dir.Path, TimeSpan.FromSeconds(60), stop.Token, run => live = run);
        while (live is null)
        {
            await Task.Delay(10);
        }
        Assert.True(await live.WaitForStdoutAsync("bta daemon: RPC off", TimeSpan.FromSeconds(30)), live.Output);

        await stop.CancelAsync();
        var run = await running;

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains($"state in {Path.Combine(dir.Path, "state")}", run.Stdout);
        Assert.EndsWith("bta daemon: stopped", run.Stdout.TrimEnd());
        Assert.True(File.Exists(Path.Combine(dir.Path, "state", "session.json")), "the session list was not saved at stop");
    }
}
