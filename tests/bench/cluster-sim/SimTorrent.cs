using Akka.Actor;
using Akka.Cluster.Sharding;

namespace BitTorrentActors.ClusterSim;

/// <summary>
/// Stands in for bta's per-torrent coordinator as a sharded entity: it "announces" once when it starts (what a
/// real coordinator does to its trackers and the DHT on every start, so a restart costs one re-announce), keeps a few
/// KB of state (a real coordinator's bitfield, peer table and stats are of that order), and on the handoff stop
/// message reports "stopped" before stopping, as bta's handoff announces <c>stopped</c> and saves resume data.
/// Storage is a stub: nothing is read or written to disk.
/// </summary>
public sealed class SimTorrent : ReceiveActor
{
    /// <summary>The one message the driver sends through the region; the first one starts the entity.</summary>
    public sealed record Announce(string InfoHash);

    /// <summary>The handoff stop message (ShardOptions.HandOffStopMessage): sent by the shard, never remotely.</summary>
    public sealed record Stop
    {
        public static readonly Stop Instance = new();
    }

    private readonly string _infoHash;
    private readonly IActorRef _agent;
    private readonly byte[] _state;
    private long _announces;

    public SimTorrent(string infoHash, IActorRef agent, int stateBytes)
    {
        _infoHash = infoHash;
        _agent = agent;
        // Filled, not just allocated, so the pages are really committed and the memory figure is honest.
        _state = new byte[stateBytes];
        Random.Shared.NextBytes(_state);

        Receive<Announce>(_ => _announces++);
        Receive<Stop>(_ =>
        {
            _agent.Tell(new NodeAgent.EntityStopped(_infoHash));
            Context.Stop(Self);
        });
    }

    protected override void PreStart()
    {
        // A (re)start is a (re-)announce: the entity counts its own, the collector counts incarnations cluster-wide.
        _announces++;
        _agent.Tell(new NodeAgent.EntityStarted(_infoHash));
    }
}

/// <summary>
/// The entity id is the info-hash hex, the shard id a stable hash of it modulo the shard count: the shape bta's
/// extractor has. HashCodeMessageExtractor hashes with MurmurHash (the same on every process, unlike
/// string.GetHashCode) and already maps ShardRegion.StartEntity, which remember-entities needs.
/// </summary>
public sealed class TorrentExtractor(int shards) : HashCodeMessageExtractor(shards)
{
    public override string EntityId(object message) => message switch
    {
        SimTorrent.Announce a => a.InfoHash,
        _ => null!,
    };
}
