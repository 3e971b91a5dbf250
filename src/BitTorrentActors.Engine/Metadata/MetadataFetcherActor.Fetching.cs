using Akka.Actor;
using BitTorrentActors.Engine.Trackers;

namespace BitTorrentActors.Engine.Metadata;

// The fetching itself: being written on branch 'fetch' (this file is its to replace).
public sealed partial class MetadataFetcherActor
{
    private readonly MagnetContext _context;
    private readonly IActorRef _owner;
    private readonly ITrackerTransport? _transport;

    public MetadataFetcherActor(MagnetContext context, IActorRef owner, ITrackerTransport? transport)
    {
        _context = context;
        _owner = owner;
        _transport = transport;
        Receive<StopFetching>(_ => Context.Stop(Self));
    }
}
