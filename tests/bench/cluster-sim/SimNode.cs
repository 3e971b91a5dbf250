using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BitTorrentActors.ClusterSim;

/// <summary>Settings every node of one simulation shares (the driver passes them on to the members it starts).</summary>
public sealed record SimSettings(
    int BasePort,
    int Shards,
    int StateBytes,
    TimeSpan StableAfter,
    int RebalanceAbsoluteLimit,
    string RecoveryStrategy,
    IReadOnlyList<string> Overrides)
{
    public const string SystemName = "sim";

    public string Address(int port) => $"akka.tcp://{SystemName}@127.0.0.1:{port}";

    public string CollectorPath => Address(BasePort) + "/user/collector";
}

/// <summary>
/// One cluster node: Akka.Remote on 127.0.0.1 (loopback only), the first node as the only seed, keep-majority SBR,
/// and the torrent shard region with remember-entities in plain, non-durable DData: the configuration bta's cluster
/// mode uses, so the timings below are the ones bta would see minus its own per-torrent work.
/// </summary>
public static class SimNode
{
    public static IHost Build(SimSettings s, int port, bool driver)
    {
        var hocon = $$"""
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.cluster.log-info = off
            akka.cluster.split-brain-resolver.stable-after = {{(int)s.StableAfter.TotalMilliseconds}}ms
            # No LMDB: remembered entities live in the replicated in-memory DData only (docs/scale-out.md). A whole
            # cluster restart forgets them; the torrent list itself is kept by the nodes' state dirs.
            akka.cluster.sharding.distributed-data.durable.keys = []
            akka.cluster.sharding.least-shard-allocation-strategy.rebalance-absolute-limit = {{s.RebalanceAbsoluteLimit}}
            akka.cluster.sharding.entity-recovery-strategy = "{{s.RecoveryStrategy}}"
            """;
        // Teardown of the driver is not measured: once the members are killed a graceful leave would only wait out
        // the default 10 s phase timeouts for nobody.
        if (driver)
            hocon += "\nakka.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout = 1s"
                + "\nakka.coordinated-shutdown.phases.cluster-leave.timeout = 1s"
                + "\nakka.coordinated-shutdown.phases.cluster-exiting.timeout = 1s";
        // Variants under test (--set), last so they win.
        foreach (var kv in s.Overrides) hocon += "\n" + kv;

        var builder = Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .ConfigureServices(services => services.AddAkka(SimSettings.SystemName, (b, _) =>
            {
                b.AddHocon(hocon, HoconAddMode.Prepend)
                    .WithRemoting("127.0.0.1", port)
                    .WithClustering(new ClusterOptions
                    {
                        SeedNodes = [s.Address(s.BasePort)],
                        SplitBrainResolver = SplitBrainResolverOption.Default,
                    })
                    .WithActors((system, registry) =>
                    {
                        if (driver) registry.Register<Collector>(system.ActorOf(Props.Create<Collector>(), "collector"));
                        var agent = system.ActorOf(
                            Props.Create(() => new NodeAgent(s.Address(port), s.CollectorPath)), "agent");
                        registry.Register<NodeAgent>(agent);
                    })
                    .WithShardRegion<SimTorrent>(
                        "torrent",
                        (_, registry) =>
                        {
                            var agent = registry.Get<NodeAgent>();
                            return id => Props.Create(() => new SimTorrent(id, agent, s.StateBytes));
                        },
                        new TorrentExtractor(s.Shards),
                        new ShardOptions
                        {
                            RememberEntities = true,
                            StateStoreMode = StateStoreMode.DData,
                            RememberEntitiesStore = RememberEntitiesStore.DData,
                            HandOffStopMessage = SimTorrent.Stop.Instance,
                        });
            }));
        return builder.Build();
    }

    /// <summary>The settings that decide the figures, read back from the running system (not from our HOCON).</summary>
    public static string Effective(ActorSystem system)
    {
        var c = system.Settings.Config;
        return string.Join(", ",
            "downing=" + c.GetString("akka.cluster.downing-provider-class"),
            "sbr=" + c.GetString("akka.cluster.split-brain-resolver.active-strategy"),
            "stable-after=" + c.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"),
            "down-all-when-unstable=" + c.GetString("akka.cluster.split-brain-resolver.down-all-when-unstable"),
            "heartbeat-pause=" + c.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"),
            "remember-entities=" + c.GetBoolean("akka.cluster.sharding.remember-entities"),
            "store=" + c.GetString("akka.cluster.sharding.remember-entities-store"),
            "state-store=" + c.GetString("akka.cluster.sharding.state-store-mode"),
            "durable-keys=[" + string.Join(",", c.GetStringList("akka.cluster.sharding.distributed-data.durable.keys")) + "]",
            "rebalance-interval=" + c.GetTimeSpan("akka.cluster.sharding.rebalance-interval"),
            "rebalance-absolute-limit=" + c.GetInt("akka.cluster.sharding.least-shard-allocation-strategy.rebalance-absolute-limit"),
            "recovery=" + c.GetString("akka.cluster.sharding.entity-recovery-strategy"),
            "majority-min-cap=" + c.GetInt("akka.cluster.sharding.distributed-data.majority-min-cap"),
            "waiting-for-state-timeout=" + c.GetTimeSpan("akka.cluster.sharding.waiting-for-state-timeout"),
            "updating-state-timeout=" + c.GetTimeSpan("akka.cluster.sharding.updating-state-timeout"),
            "shard-failure-backoff=" + c.GetTimeSpan("akka.cluster.sharding.shard-failure-backoff"));
    }
}
