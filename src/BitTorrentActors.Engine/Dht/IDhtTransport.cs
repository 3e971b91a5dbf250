using System.Net;
using Akka.Actor;

namespace BitTorrentActors.Engine.Dht;

/// <summary>
/// The DHT node's socket, kept small so the node runs on the session's shared UDP socket (<see cref="DhtUdpTransport"/>
/// over <c>Network.UdpService</c>, demultiplexed by the first byte) and tests can script the wire. Every datagram received goes to the actor
/// given to <see cref="Start"/> as a <see cref="DhtNodeActor.DatagramReceived"/>; sends never block the caller.
/// </summary>
public interface IDhtTransport : IDisposable
{
    /// <summary>Where other nodes reach us (the port we announce when not implied).</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Begins delivering datagrams to <paramref name="receiver"/>; called once by the node actor.</summary>
    void Start(IActorRef receiver);

    /// <summary>Queues <paramref name="datagram"/> to <paramref name="destination"/>. False, and nothing is sent,
    /// when the destination is refused (the session's loopback-only guard) or the transport is closed.</summary>
    bool Send(ReadOnlyMemory<byte> datagram, IPEndPoint destination);
}
