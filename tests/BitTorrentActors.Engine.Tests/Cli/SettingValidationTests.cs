using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Cli.Configuration;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Tests.Interop;
using Serilog.Events;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>Issue 17 items 1 and 11, issue 15 item 6: misspelt keys, units on sizes and rates, bounded durations.</summary>
public sealed class SettingValidationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("bta.max-peer-per-torrent=5", "bta.max-peer-per-torrent", "bta.max-peers-per-torrent")]
    [InlineData("bta.download.ratelimit=1000", "bta.download.ratelimit", "bta.download.rate-limit")]
    [InlineData("bta.timeout.connect=5s", "bta.timeout.connect", "bta.timeouts.connect")]
    public async Task An_unknown_set_key_is_one_line_naming_it_and_the_nearest_setting(
        string set, string key, string nearest)
    {
        var line = (await CliRunner.RunAsync("config", "--set", set)).AssertOneLineFailure();

        Assert.Contains($"unknown setting '{key}'", line);
        Assert.Contains($"did you mean '{nearest}'", line);
    }

    [Fact]
    public async Task An_unknown_key_in_an_overlay_names_the_file_and_the_nearest_setting()
    {
        var file = _dir.Write("typo.conf", "bta {\n  tracker { numwnat = 3 }\n}\n");

        var line = (await CliRunner.RunAsync("config", "--config", file)).AssertOneLineFailure();

        Assert.Contains(file, line);
        Assert.Contains("'bta.tracker.numwnat'", line);
        Assert.Contains("'bta.tracker.numwant'", line);
    }

    [Fact]
    public void A_section_set_as_a_value_is_refused()
    {
        var ex = Assert.Throws<CliException>(() => BtaConfigLoader.Load([], [new("bta.timeouts", "5")]));
        Assert.Contains("'bta.timeouts' is a section", ex.Message);
    }

    [Fact]
    public void An_empty_section_in_an_overlay_sets_nothing_and_passes()
    {
        var file = _dir.Write("empty.conf", "bta { }\nbta.tracker { }\n");
        Assert.Equal(200, BtaSettings.FromConfig(BtaConfigLoader.Load([file], [])).Tracker.NumWant);
    }

    [Fact]
    public void Keys_outside_bta_are_not_checked()
    {
        var config = BtaConfigLoader.Load([], [new("akka.loglevel", "DEBUG")]);
        Assert.Equal("DEBUG", config.GetString("akka.loglevel"));
    }

    /// <summary>The valid keys come from hocon.conf itself: a section added there is valid with no code change.</summary>
    [Fact]
    public void A_section_added_to_hocon_conf_becomes_valid_and_checked()
    {
        _dir.Write(BtaConfigLoader.BaseFileName,
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, BtaConfigLoader.BaseFileName))
            + "\nbta.session {\n  folder = \"s\"\n  save-every = 5s\n}\n");

        var config = BtaConfigLoader.Load([], [new("bta.session.folder", "t")], _dir.Path);
        Assert.Equal("t", config.GetString("bta.session.folder"));

        var ex = Assert.Throws<CliException>(
            () => BtaConfigLoader.Load([], [new("bta.session.foldr", "t")], _dir.Path));
        Assert.Contains("did you mean 'bta.session.folder'", ex.Message);
    }

    [Fact]
    public void Every_leaf_of_the_shipped_defaults_is_known()
    {
        var defaults = BtaConfigLoader.Load([], []);
        var known = SettingKeys.From(defaults);
        Assert.Contains("bta.timeouts.connect", known.Leaves);
        Assert.Contains("bta.logging.file", known.Leaves);
        Assert.DoesNotContain(known.Leaves, l => !l.StartsWith("bta.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("1000", 1000)]
    [InlineData("1M", 1024 * 1024)]
    [InlineData("512KiB", 512 * 1024)]
    [InlineData("10MB/s", 10_000_000)]
    [InlineData("2 kB/s", 2000)]
    [InlineData("1.5k", 1536)]
    [InlineData("1Gi", 1L << 30)]
    [InlineData("0", 0)]
    [InlineData(" 3 MiB / s ", 3L << 20)]
    [InlineData("2.25K", 2304)]
    public void Rates_take_units(string value, long bytes)
    {
        var settings = BtaSettings.FromConfig(BtaConfigLoader.Load(
            [], [new("bta.download.rate-limit", value), new("bta.upload.rate-limit", value)]));

        Assert.Equal(bytes, settings.Download.RateLimit);
        Assert.Equal(bytes, settings.Upload.RateLimit);
    }

    [Fact]
    public void Sizes_take_units_unquoted_in_a_file_too()
    {
        var file = _dir.Write("units.conf", "bta {\n  block-size = 16KiB\n  download.max-buffered-bytes = 64MiB\n  upload.rate-limit = 10MB/s\n}\n");

        var settings = BtaSettings.FromConfig(BtaConfigLoader.Load([file], []));

        Assert.Equal(16384, settings.BlockSize);
        Assert.Equal(64L << 20, settings.Download.MaxBufferedBytes);
        Assert.Equal(10_000_000, settings.Upload.RateLimit);
    }

    [Theory]
    [InlineData("bta.download.rate-limit", "fast")]
    [InlineData("bta.download.rate-limit", "10XB")]
    [InlineData("bta.download.rate-limit", "-1M")]
    [InlineData("bta.download.max-buffered-bytes", "10MB/s")] // a size, not a rate
    [InlineData("bta.block-size", "32KiB")]
    [InlineData("bta.download.rate-limit", "1.M")]
    [InlineData("bta.download.rate-limit", ".5M")]
    [InlineData("bta.download.rate-limit", "1M/")]
    [InlineData("bta.download.rate-limit", "1M/S")]
    [InlineData("bta.download.rate-limit", "1M/s/s")]
    [InlineData("bta.download.rate-limit", "1 2M")]
    public async Task Bad_sizes_and_rates_are_one_line_naming_the_key(string key, string value)
    {
        var line = (await CliRunner.RunAsync("config", "--set", $"{key}={value}")).AssertOneLineFailure();
        Assert.Contains(key, line);
    }

    [Theory]
    [InlineData("bta..listen-port")]
    [InlineData(".bta.listen-port")]
    [InlineData("bta.listen-port.")]
    [InlineData("bta.listen port")]
    [InlineData("bta.listen\"port")]
    public async Task A_set_key_that_is_not_a_dotted_path_is_a_usage_error(string key) =>
        (await CliRunner.RunAsync("config", "--set", $"{key}=1")).AssertUsageError($"'{key}' is not a setting path");

    [Theory]
    [InlineData("bta.timeouts.connect=100000d", "bta.timeouts.connect", "between 10ms and 5m")]
    [InlineData("bta.timeouts.idle=30d", "bta.timeouts.idle", "between 10ms and 1h")]
    [InlineData("bta.tracker.max-backoff=400d", "bta.tracker.max-backoff", "between 10ms and 1d")]
    [InlineData("bta.progress-interval=1ms", "bta.progress-interval", "between 10ms and 1h")]
    public async Task Durations_outside_their_range_are_one_line_naming_key_and_range(
        string set, string key, string range)
    {
        var line = (await CliRunner.RunAsync("config", "--set", set)).AssertOneLineFailure();

        Assert.Contains(key, line);
        Assert.Contains(range, line);
    }

    [Theory]
    [InlineData("info", LogEventLevel.Information)]
    [InlineData("INFO", LogEventLevel.Information)]
    [InlineData("warn", LogEventLevel.Warning)]
    [InlineData("Warning", LogEventLevel.Warning)]
    [InlineData("debug", LogEventLevel.Debug)]
    [InlineData("err", LogEventLevel.Error)]
    [InlineData("trace", LogEventLevel.Verbose)]
    [InlineData("fatal", LogEventLevel.Fatal)]
    public async Task Log_levels_take_any_case_and_short_forms(string name, LogEventLevel level)
    {
        Assert.True(BtaSettings.TryParseLogLevel(name, out var parsed));
        Assert.Equal(level, parsed);
        var result = await CliRunner.RunAsync("config", "--log-level", name);
        Assert.True(result.ExitCode == 0, result.Stderr);
    }

    [Fact]
    public async Task An_unknown_log_level_is_still_a_usage_error()
    {
        var result = await CliRunner.RunAsync("config", "--log-level", "loud");
        result.AssertUsageError("--log-level expects");
    }
}
