using BitTorrentActors.Engine.Cluster;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Cluster.Tests;

/// <summary>bta.cluster in hocon.conf: off by default, each key read and checked, and the HOCON cluster mode adds
/// (keep-majority with the configured stable-after, no durable DData).</summary>
public sealed class ClusterSettingsTests
{
    [Fact]
    public void The_shipped_defaults_are_a_single_node_daemon_with_akka_s_stable_after()
    {
        var cluster = TestTorrents.Settings().Cluster;

        Assert.Equal(ClusterSettings.Default, cluster);
        Assert.False(cluster.Enabled);
        Assert.Equal("127.0.0.1:4053", cluster.NodeName);
        Assert.Equal(100, cluster.Shards);
        Assert.Equal(TimeSpan.FromSeconds(20), cluster.StableAfter);
    }

    [Fact]
    public void Every_key_is_read_and_the_seeds_become_akka_addresses()
    {
        var cluster = TestTorrents.Settings("""
            bta.cluster { enabled = true, hostname = "127.0.0.2", port = 5001, seed-nodes = "127.0.0.1:5000, 127.0.0.2:5001",
              roles = "a,b", shards = 30, stable-after = 3s }
            """).Cluster;

        Assert.True(cluster.Enabled);
        Assert.Equal("127.0.0.2:5001", cluster.NodeName);
        Assert.Equal(["akka.tcp://bta@127.0.0.1:5000", "akka.tcp://bta@127.0.0.2:5001"], cluster.SeedAddresses);
        Assert.Equal(["a", "b"], cluster.Roles);
        Assert.Equal(30, cluster.Shards);
        Assert.Equal(TimeSpan.FromSeconds(3), cluster.StableAfter);
        var akka = TorrentClusterHosting.ClusterConfig(TestTorrents.Settings() with { Cluster = cluster });
        Assert.Equal(TimeSpan.FromSeconds(3), akka.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Equal("keep-majority", akka.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Empty(akka.GetStringList("akka.cluster.sharding.distributed-data.durable.keys"));
        // The largest .torrent bta accepts crosses nodes in one message, as base64 JSON.
        Assert.True(akka.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size") >= TorrentLimits.Default.MaxTorrentFileSize * 4L / 3 + 4096);
    }

    [Theory]
    [InlineData("seed-nodes = \"127.0.0.1\"", "bta.cluster.seed-nodes")]
    [InlineData("shards = 0", "bta.cluster.shards")]
    [InlineData("stable-after = 100ms", "bta.cluster.stable-after")]
    [InlineData("hostname = \"\"", "bta.cluster.hostname")]
    public void A_bad_value_is_one_error_naming_its_key(string line, string key)
    {
        var error = Assert.Throws<BtaConfigException>(() => TestTorrents.Settings("bta.cluster." + line));
        Assert.Contains(key, error.Message);
    }
}
