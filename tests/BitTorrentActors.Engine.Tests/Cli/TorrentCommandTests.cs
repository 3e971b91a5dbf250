using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Cli.Commands;
using BitTorrentActors.Engine.Tests.Hostile;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.Swarm;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>
/// Issue 15 items 4, 7 and 9 through <c>download</c> and <c>seed</c> on 127.0.0.1: file selection, several torrents,
/// --json, --quiet, rate options, the port in use, the truthful last line of a seed, and nothing created for bad
/// input. Scripted honest peers serve the content.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class TorrentCommandTests : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Select_file_by_number_downloads_that_file_and_not_the_others()
    {
        var (torrent, peer) = Serve("picked", seed: 41);
        using var _ = peer;
        var output = Path.Combine(_dir.Path, "out");

        // File 1 as bta info lists it is readme.txt; file 6 is video/clip.bin (4 MB).
        var info = await CliRunner.RunAsync("info", torrent.Path);
        Assert.Contains("   1. picked/readme.txt (1000 bytes", info.Stdout);
        Assert.Contains("   6. picked/video/clip.bin (", info.Stdout);
        var run = await Download(torrent, output, "--peer", peer.PeerArgument, "--select-file", "1");

        run.AssertSucceeded();
        Assert.Contains("1 of 6 files selected", run.Stdout);
        var readme = torrent.Content.Files.Single(f => f.Path == "readme.txt");
        Assert.Equal(readme.Bytes, await File.ReadAllBytesAsync(torrent.Content.PathUnder(output, "readme.txt")));
        Assert.False(File.Exists(torrent.Content.PathUnder(output, "video/clip.bin")), "an unselected file was written");
    }

    [Fact]
    public async Task Exclude_file_by_glob_skips_the_matching_files()
    {
        var (torrent, peer) = Serve("globbed", seed: 42);
        using var _ = peer;
        var output = Path.Combine(_dir.Path, "out");

        var run = await Download(torrent, output, "--peer", peer.PeerArgument, "--exclude-file", "video/*,data/nested/deep/*");

        run.AssertSucceeded();
        Assert.Contains("4 of 6 files selected", run.Stdout);
        // A piece shared with a wanted file is fetched whole and its part of the excluded file written (as
        // Transmission does), so an excluded file may exist, but never with its content.
        foreach (var excluded in new[] { "video/clip.bin", "data/nested/deep/beta.bin" })
        {
            var path = torrent.Content.PathUnder(output, excluded);
            var expected = torrent.Content.Files.Single(f => f.Path == excluded).Bytes;
            Assert.False(File.Exists(path) && (await File.ReadAllBytesAsync(path)).SequenceEqual(expected), $"{excluded} was downloaded");
        }
        var tiny = torrent.Content.Files.Single(f => f.Path == "misc/tiny.dat");
        Assert.Equal(tiny.Bytes, await File.ReadAllBytesAsync(torrent.Content.PathUnder(output, "misc/tiny.dat")));
    }

    [Fact]
    public async Task A_file_number_the_torrent_lacks_fails_in_one_line_and_creates_no_folder()
    {
        var torrent = SwarmTorrent.Build(SwarmContent.MultiFile("numbered", seed: 43), _dir.Path, "http://127.0.0.1:1/announce");
        var output = Path.Combine(_dir.Path, "never");

        var result = await CliRunner.RunAsync("download", torrent.Path, "-o", output, "--select-file", "2,9");

        Assert.Contains("--select-file 9: the torrent has files 1 to 6", result.AssertOneLineFailure());
        Assert.False(Directory.Exists(output), "the output folder was created for bad input");
    }

    [Fact]
    public async Task A_missing_torrent_creates_no_output_folder()
    {
        var output = Path.Combine(_dir.Path, "never");

        var result = await CliRunner.RunAsync("download", Path.Combine(_dir.Path, "missing.torrent"), "-o", output);

        Assert.Contains("file not found", result.AssertOneLineFailure());
        Assert.False(Directory.Exists(output), "the output folder was created for a missing torrent");
    }

    [Fact]
    public async Task An_output_path_that_is_a_file_exits_with_the_folder_code()
    {
        var torrent = SwarmTorrent.Build(SwarmContent.SingleFile("f", 1000, seed: 44, pieceLength: 16 * 1024), _dir.Path, "http://127.0.0.1:1/announce");
        var file = _dir.Write("a-file", "x");

        var result = await CliRunner.RunAsync("download", torrent.Path, "-o", file);

        Assert.Equal(ExitCodes.FolderUnusable, result.ExitCode);
        Assert.Contains("cannot use as the output folder", Assert.Single(result.StderrLines));
    }

    [Fact]
    public async Task Two_torrents_download_in_one_command()
    {
        var (first, firstPeer) = Serve("first", seed: 45, single: true);
        var (second, secondPeer) = Serve("second", seed: 46, single: true);
        using var a = firstPeer;
        using var b = secondPeer;
        var output = Path.Combine(_dir.Path, "out");

        var run = await BtaClientRun.RunCommandAsync(
            ["download", first.Path, second.Path, "-o", output, "--peer", firstPeer.PeerArgument, "--peer", secondPeer.PeerArgument],
            LoopbackPorts.Next(), _dir.Path, Lifetime);

        run.AssertSucceeded();
        first.Content.AssertDownloaded(output);
        second.Content.AssertDownloaded(output);
        Assert.Contains("Complete: first,", run.Stdout);
        Assert.Contains("Complete: second,", run.Stdout);
    }

    [Fact]
    public async Task One_of_several_torrents_failing_ends_the_command_without_waiting_for_the_others()
    {
        var slowContent = SwarmContent.SingleFile("slow", 200_000, seed: 53, pieceLength: 16 * 1024);
        var slow = SwarmTorrent.Build(slowContent, _dir.Path, "http://127.0.0.1:1/announce");
        // About 6 s to serve: the other torrent's failure comes long before.
        using var slowPeer = new ScriptedPeer(slow, HostileBehaviour.Honest, Lifetime, blockDelay: TimeSpan.FromMilliseconds(500));
        var (blocked, blockedPeer) = Serve("blocked", seed: 54, single: true);
        using var _ = blockedPeer;
        var output = Path.Combine(_dir.Path, "out");
        Directory.CreateDirectory(Path.Combine(output, "blocked", "in-the-way"));

        var run = await BtaClientRun.RunCommandAsync(
            ["download", slow.Path, blocked.Path, "-o", output, "--peer", slowPeer.PeerArgument, "--peer", blockedPeer.PeerArgument],
            LoopbackPorts.Next(), _dir.Path, Lifetime);

        Assert.True(run.ExitCode == ExitCodes.FolderUnusable, run.Output);
        Assert.Contains("blocked.torrent: blocked: ", run.Stderr);
        Assert.DoesNotContain("Complete: slow", run.Stdout);
    }

    [Fact]
    public async Task Json_prints_one_object_per_line_and_nothing_else()
    {
        var (torrent, peer) = Serve("scripted", seed: 47, single: true);
        using var _ = peer;

        var run = await Download(torrent, Path.Combine(_dir.Path, "out"), "--peer", peer.PeerArgument, "--json");

        run.AssertSucceeded();
        var events = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("event").GetString()).ToList();
        Assert.Contains("progress", events);
        Assert.Contains("checked", events);
        Assert.Contains("completed", events);
        var last = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.Contains("\"progress\"", StringComparison.Ordinal));
        Assert.Equal(torrent.InfoHash.ToHex(), JsonDocument.Parse(last).RootElement.GetProperty("infoHash").GetString());
    }

    [Fact]
    public async Task Quiet_prints_nothing_on_success()
    {
        var (torrent, peer) = Serve("hushed", seed: 48, single: true);
        using var _ = peer;
        var output = Path.Combine(_dir.Path, "out");

        var run = await Download(torrent, output, "--peer", peer.PeerArgument, "--quiet");

        run.AssertSucceeded();
        Assert.Equal(string.Empty, run.Stdout);
        Assert.Equal(string.Empty, run.Stderr);
        torrent.Content.AssertDownloaded(output);
    }

    [Fact]
    public async Task Seeding_complete_data_says_it_was_verified_not_downloaded()
    {
        var content = SwarmContent.SingleFile("kept", 100_000, seed: 49, pieceLength: 16 * 1024);
        var data = Path.Combine(_dir.Path, "data");
        content.WriteTo(data);
        var torrent = SwarmTorrent.Build(content, _dir.Path, "http://127.0.0.1:1/announce");
        using var stop = new CancellationTokenSource();
        BtaClientRun? live = null;

        var seeding = BtaClientRun.RunCommandAsync(["seed", torrent.Path, "--data", data], LoopbackPorts.Next(), _dir.Path, Lifetime, stop.Token, r => live = r);
        for (var i = 0; i < 100 && Volatile.Read(ref live) is null; i++)
        {
            await Task.Delay(50);
        }
        Assert.True(await live!.WaitForStdoutAsync("Seeding until", TimeSpan.FromSeconds(30)), live.Output);
        await stop.CancelAsync();
        var run = await seeding;

        run.AssertSucceeded();
        Assert.Contains("Verified: kept, all 7 pieces (100000 bytes) present and correct; nothing to download.", run.Stdout);
        Assert.DoesNotContain("Downloaded 0 bytes", run.Stdout);
    }

    [Fact]
    public async Task A_port_in_use_fails_in_one_line_with_exit_1()
    {
        var torrent = SwarmTorrent.Build(SwarmContent.SingleFile("busy", 1000, seed: 50, pieceLength: 16 * 1024), _dir.Path, "http://127.0.0.1:1/announce");
        using var occupier = new TcpListener(IPAddress.Loopback, 0);
        occupier.Start();
        var port = ((IPEndPoint)occupier.LocalEndpoint).Port;
        var output = Path.Combine(_dir.Path, "out");

        var run = await BtaClientRun.RunCommandAsync(["download", torrent.Path, "-o", output], port, _dir.Path, Lifetime);

        Assert.True(run.ExitCode == 1, run.Output);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture, $"bta: cannot listen for peers on port {port}: "), line);
        Assert.DoesNotContain("Complete", run.Stdout);
    }

    [Fact]
    public async Task Port_0_listens_on_a_free_port_and_says_which()
    {
        var (torrent, peer) = Serve("anyport", seed: 51, single: true);
        using var _ = peer;

        var run = await BtaClientRun.RunCommandAsync(
            ["download", torrent.Path, "-o", Path.Combine(_dir.Path, "out"), "--peer", peer.PeerArgument], 0, _dir.Path, Lifetime);

        run.AssertSucceeded();
        var match = System.Text.RegularExpressions.Regex.Match(run.Stdout, @"listening on port (\d+)");
        Assert.True(match.Success, run.Output);
        Assert.NotEqual(0, int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Rate_options_take_units_and_set_the_rate_limits()
    {
        var command = new DownloadCommand();
        var parsed = ArgParser.Parse(["x.torrent", "--max-download-rate", "2M", "--max-upload-rate", "500KiB/s"], [.. command.Options, .. CommonOptions.All]);

        var settings = new CommandContext(parsed, TextWriter.Null, TextWriter.Null).Settings;

        Assert.Equal(2 * 1024 * 1024, settings.Download.RateLimit);
        Assert.Equal(500 * 1024, settings.Upload.RateLimit);
    }

    [Fact]
    public async Task A_bad_rate_is_refused_naming_the_setting()
    {
        var result = await CliRunner.RunAsync("download", "x.torrent", "--max-download-rate", "fast");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("bta.download.rate-limit", result.Stderr);
    }

    [Fact]
    public async Task Help_shows_version_and_an_optional_output_and_several_torrents()
    {
        var app = await CliRunner.RunAsync("--help");
        var download = await CliRunner.RunAsync("download", "--help");

        Assert.Contains("bta --version", app.Stdout);
        Assert.Contains("Usage: bta download <file.torrent|magnet>... [-o, --output DIR]", download.Stdout);
        Assert.Contains("Default: the current folder", download.Stdout);
        Assert.Contains("--select-file LIST", download.Stdout);
        Assert.Contains("--json", download.Stdout);
    }

    [Fact]
    public async Task Without_o_the_content_lands_in_the_current_folder()
    {
        var (torrent, peer) = Serve("here", seed: 52, single: true);
        using var _ = peer;
        var work = Directory.CreateDirectory(Path.Combine(_dir.Path, "cwd")).FullName;
        var config = _dir.Write("here.conf", "bta.listen-address = \"127.0.0.1\"\n");

        using var bta = BtaProcess.Start("bta download (no -o)",
            ["download", torrent.Path, "--config", config, "--peer", peer.PeerArgument, "--port", LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture)],
            Lifetime, work);
        var code = await bta.WaitForExitAsync(TimeSpan.FromSeconds(45));

        Assert.True(code == 0, bta.Log);
        torrent.Content.AssertDownloaded(work);
    }

    private (SwarmTorrent Torrent, ScriptedPeer Peer) Serve(string name, int seed, bool single = false)
    {
        var content = single
            ? SwarmContent.SingleFile(name, 200_000, seed, pieceLength: 16 * 1024)
            : SwarmContent.MultiFile(name, seed);
        var torrent = SwarmTorrent.Build(content, _dir.Path, "http://127.0.0.1:1/announce");
        return (torrent, new ScriptedPeer(torrent, HostileBehaviour.Honest, Lifetime));
    }

    private Task<BtaClientRun> Download(SwarmTorrent torrent, string output, params string[] extra) =>
        BtaClientRun.RunCommandAsync(["download", torrent.Path, "-o", output, .. extra], LoopbackPorts.Next(), _dir.Path, Lifetime);
}
