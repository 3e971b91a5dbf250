using System.Diagnostics;
using Akka.Actor;

namespace BitTorrentActors.ClusterSim;

/// <summary>
/// One per node at /user/agent: counts the entities running here, forwards their start/stop reports (stamped with
/// this node's address) to the driver's collector, and answers memory questions. Entities talk to it rather than to
/// the remote collector so an entity never resolves a remote path itself.
/// </summary>
public sealed class NodeAgent : ReceiveActor
{
    public sealed record EntityStarted(string InfoHash);

    public sealed record EntityStopped(string InfoHash);

    public sealed record GetStats
    {
        public static readonly GetStats Instance = new();
    }

    /// <summary>Heap after a full, compacting collection; working set; entities running on the node.</summary>
    public sealed record Stats(string Node, long HeapBytes, long WorkingSetBytes, int Entities);

    private readonly string _node;
    private readonly ActorSelection _collector;
    private int _local;

    public NodeAgent(string node, string collectorPath)
    {
        _node = node;
        _collector = Context.ActorSelection(collectorPath);

        Receive<EntityStarted>(m =>
        {
            _local++;
            _collector.Tell(new Collector.Started(m.InfoHash, _node));
        });
        Receive<EntityStopped>(m =>
        {
            _local--;
            _collector.Tell(new Collector.Stopped(m.InfoHash, _node));
        });
        Receive<GetStats>(_ =>
        {
            // A benchmark probe, not engine code: a forced collection blocks this one actor for a few ms.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            using var self = Process.GetCurrentProcess();
            Sender.Tell(new Stats(_node, GC.GetTotalMemory(false), self.WorkingSet64, _local));
        });
    }
}
