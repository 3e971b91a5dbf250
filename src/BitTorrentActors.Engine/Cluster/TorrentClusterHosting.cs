using System.Globalization;
using Akka;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.DistributedData;
using Akka.Hosting;
using Akka.Remote.Hosting;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Cluster;

/// <summary>
/// Cluster mode (<c>bta.cluster.enabled</c>): Akka.Remote over TCP on <c>hostname:port</c>, Akka.Cluster with
/// the seed nodes and the split-brain resolver (keep-majority, Akka's default, with <c>stable-after</c> from the
/// settings), and the "torrent" shard region with remember-entities. The remembered entities live in plain
/// in-memory Distributed Data (durable LMDB storage off): they survive the loss of any node while one node lives;
/// after a full-cluster stop every node re-adds the torrents kept in its own state folder through the region
/// (<see cref="TorrentClusterFront"/>). The session is the same actor as a single-node daemon's (at /user/session,
/// which other nodes ask for their lists), started with <see cref="SessionOptions.Sharded"/>; front-ends get
/// <see cref="TorrentClusterFront"/> in its place in the registry.
/// </summary>
public static class TorrentClusterHosting
{
    /// <summary>The shard region's type name (the same on every node).</summary>
    public const string TypeName = "torrent";

    /// <summary>The session's actor name: other nodes address it as /user/session to list its torrents.</summary>
    public const string SessionName = "session";

    /// <summary>How long the handoff of every torrent (each announces stopped and saves its resume) and the
    /// session's last save may take when a node leaves.</summary>
    public static readonly TimeSpan LeaveBudget = TimeSpan.FromSeconds(40);

    /// <summary>The marker the shard region is registered under in the <see cref="ActorRegistry"/>.</summary>
    public sealed class TorrentRegion;

    public static AkkaConfigurationBuilder WithTorrentCluster(this AkkaConfigurationBuilder builder, BtaSettings settings,
        SessionOptions session)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        var cluster = settings.Cluster;
        builder.WithRemoting(new RemoteOptions { HostName = cluster.Hostname, Port = cluster.Port });
        builder.WithClustering(new ClusterOptions
        {
            SeedNodes = [.. cluster.SeedAddresses],
            Roles = [.. cluster.Roles],
            SplitBrainResolver = new KeepMajorityOption(),
        });
        // bta's own messages cross nodes as source-generated JSON (ClusterMessageSerializer), not through Akka's
        // reflection-based Newtonsoft default.
        builder.WithCustomSerializer(ClusterMessageSerializer.Name, ClusterMessageSerializer.BoundTypes,
            system => new ClusterMessageSerializer(system));
        builder.WithShardRegion<TorrentRegion>(TypeName,
            (system, _) =>
            {
                var replicator = DistributedData.Get(system).Replicator;
                var self = Akka.Cluster.Cluster.Get(system).SelfUniqueAddress;
                var local = system.ActorSelection("/user/" + SessionName);
                return entityId => TorrentShardEntity.Props(entityId, local, replicator, self);
            },
            new TorrentShardExtractor(cluster.Shards),
            new ShardOptions
            {
                RememberEntities = true,
                RememberEntitiesStore = RememberEntitiesStore.DData,
                StateStoreMode = StateStoreMode.DData,
                HandOffStopMessage = TorrentShardEntity.HandOff.Instance,
            });
        // Added last: a later Prepend wins over what the calls above generated.
        builder.AddHocon(ClusterConfig(settings), HoconAddMode.Prepend);
        builder.WithActors((system, registry) =>
        {
            var local = system.ActorOf(TorrentSessionActor.Props(settings, session with { Sharded = true }), SessionName);
            var region = registry.Get<TorrentRegion>();
            registry.Register<TorrentSessionActor>(system.ActorOf(TorrentClusterFront.Props(local, region), "cluster-front"));
            StartSpecSync(system);
            // After the region has handed every torrent off (each parked: stopped announced, resume saved), the
            // session saves its list: a node leaving the cluster, or stopping with the host, loses nothing.
            CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "bta-session-save",
                async () =>
                {
                    try
                    {
                        await local.Ask<TorrentSessionActor.ShutdownComplete>(TorrentSessionActor.Shutdown.Instance, LeaveBudget)
                            .ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
                    {
                        // The session is stuck or gone; the system stops anyway.
                    }
                    return Done.Instance;
                });
        });
        return builder;
    }

    /// <summary>The largest message between nodes: a torrent's spec carries its .torrent bytes (up to
    /// <see cref="TorrentLimits.MaxTorrentFileSize"/>, base64 in JSON: 4/3 of that) in one message (an add, a
    /// Distributed Data write or read, or a gossip message, which carries one spec: <see cref="ClusterConfig"/>).
    /// Akka's default, 128,000 bytes, dropped the add of any .torrent over about 96 KB to another node.</summary>
    public static long MaximumFrameBytes => ((long)TorrentLimits.Default.MaxTorrentFileSize * 4 / 3) + (16L << 20);

    /// <summary>How often Distributed Data gossips with one other node; each time it may bring up to 10 specs.</summary>
    public static readonly TimeSpan SpecGossipInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Starts this node's <see cref="SpecSyncActor"/> (at /user/spec-sync, where the other nodes find it).</summary>
    public static IActorRef StartSpecSync(ActorSystem system) =>
        system.ActorOf(SpecSyncActor.Props(DistributedData.Get(system).Replicator), SpecSyncActor.Name);

    /// <summary>The HOCON cluster mode needs beyond what Akka.Hosting generates.</summary>
    public static Config ClusterConfig(BtaSettings settings)
    {
        var seconds = (long)Math.Ceiling(settings.Cluster.StableAfter.TotalSeconds);
        var leave = (long)LeaveBudget.TotalSeconds;
        return ConfigurationFactory.ParseString(string.Create(CultureInfo.InvariantCulture, $$"""
            akka.cluster {
              split-brain-resolver.active-strategy = keep-majority
              split-brain-resolver.stable-after = {{seconds}}s
              # Remember-entities in memory only: durable DData (LMDB) is not used.
              sharding.distributed-data.durable.keys = []
              # A shard starting on a survivor reads its remembered torrents from a majority; Akka's floor of 5 makes
              # that every node of a 3-node cluster, the leaving one too: a clean leave of 1,000 entities stalled a
              # shard for 15.7-16.7 s in every run, and with 2 all were back in 1.2-1.5 s (docs/scale-out.md, section 4).
              sharding.distributed-data.majority-min-cap = 2
              distributed-data.durable.keys = []
              # One torrent's spec per gossip message. Akka.NET's replicator puts up to max-delta-elements keys (500
              # by default) in one message, whatever their size, and a spec carries its .torrent: a node that joined
              # a cluster whose specs took more than one frame together got none of them, every gossip to it dropped
              # as oversized (SpecGossipTests). One spec always fits the frame (below). A tick then sends the
              # digests of up to 10 chunks of keys (about one key each when there are many), and a node that lacks a
              # chunk's key asks for it and gets one spec: hence the shorter tick. A spec still on its way is sent
              # again on the next tick, which costs only when specs are megabytes and the link slower than a tick.
              # Two keys in one chunk can starve one of them for good: SpecSyncActor brings those.
              distributed-data.max-delta-elements = 1
              distributed-data.gossip-interval = {{SpecGossipInterval.TotalMilliseconds}}ms
              # The sharding replicator (remember-entities and shard homes; its own max-delta-elements, 5) keeps
              # Akka's interval instead of inheriting the one above.
              sharding.distributed-data.gossip-interval = 2s
            }
            akka.remote.dot-netty.tcp.maximum-frame-size = {{MaximumFrameBytes}}b
            akka.coordinated-shutdown.phases {
              cluster-sharding-shutdown-region.timeout = {{leave}}s
              before-actor-system-terminate.timeout = {{leave}}s
            }
            """));
    }
}
