using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Trackers;

namespace BitTorrentActors.Engine.Torrent;

public sealed partial record TorrentParts
{
    /// <summary>The engine's own actors. Peers and the scheduler (the per-block message routing) share the peer
    /// dispatcher; the writer picks the io dispatcher itself; the tracker stays on the default one.</summary>
    public static TorrentParts Real { get; } = new(
        (context, coordinator) => FileWriterActor.Props(context, coordinator),
        context => PieceSchedulerActor.Props(context).WithDispatcher(BtaSettings.PeerDispatcherId),
        (context, coordinator) => TrackerActor.SupervisedProps(context, coordinator),
        spawn => PeerActor.Props(spawn.Context, spawn.Remote, spawn.Coordinator, spawn.Scheduler, spawn.Writer, setup: spawn.Setup)
            .WithDispatcher(BtaSettings.PeerDispatcherId));
}
