using System.Net;
using Akka.Actor;
using BitTorrentActors.Engine.Peers;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>
/// How the coordinator makes its children. The engine uses <c>TorrentParts.Real</c>; tests swap in probes or
/// scripted actors for any part without touching the coordinator.
/// </summary>
public sealed partial record TorrentParts(
    Func<TorrentContext, IActorRef, Props> Writer,
    Func<TorrentContext, Props> Scheduler,
    Func<TorrentContext, IActorRef, Props>? Tracker,
    Func<PeerSpawn, Props> Peer);

/// <summary>What a PeerActor is made from: the torrent, the address to dial (or that connected to us), its three
/// collaborators, and its setup (our pieces, the rate limiters, an accepted transport).</summary>
public sealed record PeerSpawn(
    TorrentContext Context, IPEndPoint Remote, IActorRef Coordinator, IActorRef Scheduler, IActorRef Writer, PeerSetup? Setup = null);
