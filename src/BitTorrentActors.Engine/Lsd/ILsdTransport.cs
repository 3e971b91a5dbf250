using System.Net;
using Akka.Actor;

namespace BitTorrentActors.Engine.Lsd;

/// <summary>
/// The multicast socket of local service discovery, kept small so tests drive <see cref="LsdActor"/> with a fake.
/// Every datagram received (our own included: multicast loopback is on, so two clients on one host hear each
/// other) goes to the actor given to <see cref="Start"/> as a <see cref="LsdActor.DatagramReceived"/>.
/// </summary>
public interface ILsdTransport : IDisposable
{
    /// <summary>Begins delivering datagrams to <paramref name="receiver"/>; called once by the actor.</summary>
    void Start(IActorRef receiver);

    /// <summary>Queues <paramref name="datagram"/> to the group (LSD sends nowhere else). False, and nothing is
    /// sent, when the transport is closed.</summary>
    bool Send(ReadOnlyMemory<byte> datagram);

    /// <summary>The group and the interface, for the log.</summary>
    string Description { get; }
}
