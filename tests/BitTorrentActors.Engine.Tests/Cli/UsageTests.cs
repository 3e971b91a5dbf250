namespace BitTorrentActors.Engine.Tests.Cli;

public class UsageTests
{
    [Fact]
    public async Task No_arguments_prints_usage_to_stderr_and_exits_2()
    {
        var result = await CliRunner.RunAsync();
        result.AssertUsageError("no command given");
        Assert.Contains("info", result.Stderr);
    }

    [Fact]
    public async Task Unknown_command_exits_2()
    {
        var result = await CliRunner.RunAsync("frobnicate", "x.torrent");
        result.AssertUsageError("unknown command 'frobnicate'");
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task Help_prints_usage_to_stdout_and_exits_0(string flag)
    {
        var result = await CliRunner.RunAsync(flag);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Stderr);
        Assert.Contains("Usage: bta <command>", result.Stdout);
        Assert.Contains("info", result.Stdout);
        Assert.Contains("--config FILE", result.Stdout);
    }

    [Fact]
    public async Task Command_help_prints_the_command_usage_and_exits_0()
    {
        var result = await CliRunner.RunAsync("info", "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage: bta info <file.torrent|magnet> [--json]", result.Stdout);
        Assert.Contains("--log-level LEVEL", result.Stdout);
    }

    [Fact]
    public async Task Unknown_option_exits_2_with_the_command_usage()
    {
        var result = await CliRunner.RunAsync("info", "a.torrent", "--frob");
        result.AssertUsageError("unknown option '--frob'");
        Assert.Contains("Usage: bta info", result.Stderr);
    }

    [Fact]
    public async Task Unknown_option_before_any_command_exits_2()
    {
        var result = await CliRunner.RunAsync("--frob");
        result.AssertUsageError("unknown option '--frob'");
    }

    [Fact]
    public async Task Missing_argument_exits_2()
    {
        var result = await CliRunner.RunAsync("info");
        result.AssertUsageError("missing argument <file.torrent|magnet>");
    }

    [Fact]
    public async Task Extra_argument_exits_2()
    {
        var result = await CliRunner.RunAsync("info", "a.torrent", "b.torrent");
        result.AssertUsageError("unexpected argument 'b.torrent'");
    }

    [Fact]
    public async Task Option_without_its_value_exits_2()
    {
        var result = await CliRunner.RunAsync("config", "--config");
        result.AssertUsageError("option '--config' needs a value (FILE)");
    }

    [Fact]
    public async Task Bad_log_level_exits_2()
    {
        var result = await CliRunner.RunAsync("config", "--log-level", "loud");
        result.AssertUsageError("--log-level expects");
    }

    [Fact]
    public async Task Common_options_may_come_before_the_command()
    {
        var result = await CliRunner.RunAsync("--set", "bta.max-connections=321", "config");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("max-connections = 321", result.Stdout);
    }
}
