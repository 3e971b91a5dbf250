using Akka.Configuration;
using BitTorrentActors.Cli.Configuration;
using BitTorrentActors.Engine.Hosting;
using Serilog.Events;

namespace BitTorrentActors.Engine.Tests.Cli;

public class BtaSettingsTests
{
    private static readonly Config _defaults = BtaConfigLoader.Load([], []);

    private static BtaSettings With(string hocon) =>
        BtaSettings.FromConfig(ConfigurationFactory.ParseString(hocon).WithFallback(_defaults));

    private static BtaConfigException Refused(string hocon) =>
        Assert.Throws<BtaConfigException>(() => With(hocon));

    [Fact]
    public void Hocon_conf_defaults_load_as_documented()
    {
        var s = BtaSettings.FromConfig(_defaults);

        Assert.Equal(6881, s.ListenPort);
        Assert.Equal(System.Net.IPAddress.Any, s.ListenAddress);
        Assert.Equal(50, s.MaxPeersPerTorrent);
        Assert.Equal(200, s.MaxConnections);
        Assert.Equal(16384, s.BlockSize);
        Assert.Equal(new RequestPipelineSettings(16, 2, 64), s.RequestPipeline);
        Assert.Equal(
            new TimeoutSettings(
                TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(120)),
            s.Timeouts);
        Assert.Equal(TimeSpan.FromSeconds(90), s.KeepAliveInterval);
        Assert.Equal(new PeerRetrySettings(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), 8), s.PeerRetry);
        Assert.Equal(
            new TrackerSettings(200, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(15)),
            s.Tracker);
        Assert.Equal(TimeSpan.FromSeconds(30), s.Resume.SaveInterval);
        Assert.Equal(new UploadSettings(4, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10), 0, 1000), s.Upload);
        Assert.Equal(0, s.Download.RateLimit);
        Assert.True(s.Download.DirectWrites);
        Assert.False(With("bta.download.direct-writes = off").Download.DirectWrites);
        Assert.Equal("bta.download.direct-writes", Refused("bta.download.direct-writes = sometimes").Key);
        Assert.Equal(TimeSpan.FromSeconds(1), s.ProgressInterval);
        Assert.Equal(new LoggingSettings(LogEventLevel.Information, string.Empty), s.Logging);
    }

    [Fact]
    public void Block_size_over_16384_is_refused_naming_the_key()
    {
        Assert.Equal(16384, With("bta.block-size = 16384").BlockSize);
        var ex = Refused("bta.block-size = 16385");
        Assert.Equal("bta.block-size", ex.Key);
        Assert.Contains("bta.block-size", ex.Message);
    }

    [Theory]
    [InlineData("bta.listen-port = 70000", "bta.listen-port")]
    [InlineData("bta.listen-port = many", "bta.listen-port")]
    [InlineData("bta.listen-address = \"not-an-ip\"", "bta.listen-address")]
    [InlineData("bta.max-peers-per-torrent = 500", "bta.max-peers-per-torrent")]
    [InlineData("bta.request-pipeline.initial = 1", "bta.request-pipeline.initial")]
    [InlineData("bta.request-pipeline { min = 10, max = 5, initial = 7 }", "bta.request-pipeline.max")]
    [InlineData("bta.timeouts.idle = 0s", "bta.timeouts.idle")]
    [InlineData("bta.keep-alive-interval = 120s", "bta.keep-alive-interval")]
    [InlineData("bta.peer-retry.max-backoff = 1s", "bta.peer-retry.max-backoff")]
    [InlineData("bta.tracker.timeout = later", "bta.tracker.timeout")]
    [InlineData("bta.upload.rate-limit = -1", "bta.upload.rate-limit")]
    [InlineData("bta.logging.level = Loud", "bta.logging.level")]
    public void Bad_values_are_refused_naming_the_key(string hocon, string key)
    {
        var ex = Refused(hocon);
        Assert.Equal(key, ex.Key);
        Assert.StartsWith(key + ": ", ex.Message);
    }

    [Fact]
    public void A_missing_key_is_named()
    {
        var ex = Assert.Throws<BtaConfigException>(
            () => BtaSettings.FromConfig(ConfigurationFactory.ParseString("bta.listen-port = 1")));
        Assert.Contains("is missing", ex.Message);
    }

    [Fact]
    public void Durations_take_hocon_units_and_levels_any_case()
    {
        var s = With("bta { tracker.max-backoff = 2h, progress-interval = 250ms, logging.level = debug }");
        Assert.Equal(TimeSpan.FromHours(2), s.Tracker.MaxBackoff);
        Assert.Equal(TimeSpan.FromMilliseconds(250), s.ProgressInterval);
        Assert.Equal(LogEventLevel.Debug, s.Logging.Level);
    }
}
