using System.Collections.Concurrent;
using System.Net;
using Akka.Actor;
using BitTorrentActors.Engine.Lsd;
using BitTorrentActors.Protocol.Lsd;

namespace BitTorrentActors.Engine.Tests.Lsd;

/// <summary>An <see cref="ILsdTransport"/> with no socket: every datagram the actor sends is parsed and kept in
/// <see cref="Sent"/> (what the group would hear), and tests deliver datagrams with <see cref="Deliver"/>.</summary>
internal sealed class ScriptedLsdTransport : ILsdTransport
{
    private IActorRef _actor = ActorRefs.Nobody;

    public ConcurrentQueue<(byte[] Bytes, LsdAnnounce Announce)> Sent { get; } = new();

    public string Description => "scripted";

    public bool Started => !_actor.IsNobody();

    public bool Disposed { get; private set; }

    public void Start(IActorRef receiver) => _actor = receiver;

    public bool Send(ReadOnlyMemory<byte> datagram)
    {
        Assert.True(LsdMessage.TryParse(datagram.Span, out var announce, out var error), error);
        Assert.InRange(datagram.Length, 1, LsdMessage.MaxFormattedLength);
        Sent.Enqueue((datagram.ToArray(), announce));
        return true;
    }

    public void Deliver(byte[] datagram, IPEndPoint from) => _actor.Tell(new LsdActor.DatagramReceived(datagram, from));

    public void Dispose() => Disposed = true;
}
