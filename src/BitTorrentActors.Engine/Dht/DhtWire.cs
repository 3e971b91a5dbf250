using Akka.Actor;

namespace BitTorrentActors.Engine.Dht;

/// <summary>
/// The DHT on the peer wire (BEP 5): peers whose handshake sets reserved bit 0x01 of byte 7 get a PORT message
/// with <paramref name="Port"/>, and a PORT message a peer sends becomes a <see cref="DhtNodeActor.PingNode"/> to
/// <paramref name="Node"/> (the node joins the table if it answers).
/// </summary>
/// <param name="Node">The session's DHT node.</param>
/// <param name="Port">Our DHT's UDP port.</param>
public sealed record DhtWire(IActorRef Node, int Port);
