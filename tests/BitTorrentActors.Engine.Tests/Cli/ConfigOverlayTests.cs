using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Cli.Configuration;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Tests.Interop;

namespace BitTorrentActors.Engine.Tests.Cli;

public sealed class ConfigOverlayTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_later_config_file_wins_over_an_earlier_one_and_hocon_conf()
    {
        var first = _dir.Write("first.conf", "bta { max-connections = 300, listen-port = 7001 }");
        var second = _dir.Write("second.conf", "bta.max-connections = 400");

        var settings = BtaSettings.FromConfig(BtaConfigLoader.Load([first, second], []));

        Assert.Equal(400, settings.MaxConnections);
        Assert.Equal(7001, settings.ListenPort); // from the first overlay, untouched by the second
        Assert.Equal(50, settings.MaxPeersPerTorrent); // from hocon.conf
    }

    [Fact]
    public void Command_line_overrides_win_over_every_file()
    {
        var file = _dir.Write("a.conf", "bta.listen-port = 7001");

        var config = BtaConfigLoader.Load(
            [file], [new("bta.listen-port", "7002"), new("bta.logging.file", "x \"quoted\" ${not.a.substitution}")]);
        var settings = BtaSettings.FromConfig(config);

        Assert.Equal(7002, settings.ListenPort);
        Assert.Equal("x \"quoted\" ${not.a.substitution}", settings.Logging.File);
    }

    [Fact]
    public async Task Overlay_order_is_visible_through_the_config_command()
    {
        var first = _dir.Write("first.conf", "bta.tracker.numwant = 11");
        var second = _dir.Write("second.conf", "bta.tracker.numwant = 22");

        var forward = await CliRunner.RunAsync("config", "--config", first, "--config", second);
        var backward = await CliRunner.RunAsync("config", "--config", second, "--config", first);

        Assert.Equal(0, forward.ExitCode);
        Assert.Contains("numwant = 22", forward.Stdout);
        Assert.Contains("numwant = 11", backward.Stdout);
    }

    [Fact]
    public async Task A_bad_value_in_an_overlay_is_one_line_naming_the_key()
    {
        var file = _dir.Write("bad.conf", "bta.block-size = 32768");

        var line = (await CliRunner.RunAsync("config", "--config", file)).AssertOneLineFailure();

        Assert.Contains("bta.block-size", line);
        Assert.Contains("16384", line);
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_names_the_key()
    {
        var line = (await CliRunner.RunAsync("config", "--set", "bta.timeouts.connect=soon")).AssertOneLineFailure();
        Assert.Contains("bta.timeouts.connect", line);
        Assert.Contains("'soon'", line);
    }

    [Fact]
    public async Task A_missing_config_file_is_one_line_naming_it()
    {
        var missing = Path.Combine(_dir.Path, "nowhere.conf");

        var line = (await CliRunner.RunAsync("config", "--config", missing)).AssertOneLineFailure();

        Assert.Contains(missing, line);
        Assert.Contains("not found", line);
    }

    [Fact]
    public async Task An_unparsable_config_file_is_one_line_naming_it()
    {
        var broken = _dir.Write("broken.conf", "bta {\n  listen-port = \n  max-connections = [1, 2\n");

        var line = (await CliRunner.RunAsync("config", "--config", broken)).AssertOneLineFailure();

        Assert.Contains(broken, line);
        Assert.Contains("not valid HOCON", line);
    }

    [Fact]
    public void Hocon_conf_is_read_from_the_given_base_directory_not_the_working_directory()
    {
        var ex = Assert.Throws<CliException>(() => BtaConfigLoader.Load([], [], _dir.Path));
        Assert.Contains(Path.Combine(_dir.Path, "hocon.conf"), ex.Message);

        _dir.Write("hocon.conf", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon.conf"))
            + "\nbta.listen-port = 9999\n");
        Assert.Equal(9999, BtaSettings.FromConfig(BtaConfigLoader.Load([], [], _dir.Path)).ListenPort);
    }

    [Fact]
    public void A_set_key_that_is_not_a_setting_path_is_a_usage_error()
    {
        Assert.Throws<UsageException>(() => BtaConfigLoader.Load([], [new("bta.listen-port = 1\nx", "1")]));
    }

    [Theory]
    [InlineData("config/many-peers.conf")]
    [InlineData("config/low-memory.conf")]
    [InlineData("config/debug-logging.conf")]
    public void Every_shipped_profile_loads_and_validates(string profile)
    {
        var path = Path.Combine(AppContext.BaseDirectory, profile);
        Assert.True(File.Exists(path), $"{path} was not copied next to the binary");

        var config = BtaConfigLoader.Load([path], []);
        var settings = BtaSettings.FromConfig(config);
        var defaults = BtaSettings.FromConfig(BtaConfigLoader.Load([], []));

        Assert.NotEqual(defaults, settings);
    }
}
