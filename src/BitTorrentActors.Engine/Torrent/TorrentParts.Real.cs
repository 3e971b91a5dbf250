using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Trackers;

namespace BitTorrentActors.Engine.Torrent;

public sealed partial record TorrentParts
{
    /// <summary>The engine's own actors.</summary>
    public static TorrentParts Real { get; } = new(
        (context, coordinator) => FileWriterActor.Props(context, coordinator),
        context => PieceSchedulerActor.Props(context),
        (context, coordinator) => TrackerActor.SupervisedProps(context, coordinator),
        spawn => PeerActor.Props(spawn.Context, spawn.Remote, spawn.Coordinator, spawn.Scheduler, spawn.Writer));
}
