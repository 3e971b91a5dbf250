using System.Net;
using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Peers;

/// <summary>Probes for the actor's collaborators and a remote peer played over crossed in-memory pipes.</summary>
public abstract class PeerActorTestBase(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit("akka.loglevel = DEBUG", output)
{
    protected static readonly IPEndPoint Remote = new(IPAddress.Loopback, 51413);

    protected TorrentContext Context { get; private set; } = PeerTestContext.Create();

    /// <summary>Starts a PeerActor whose "socket" is an in-memory pipe pair; returns it and the remote's side.</summary>
    internal (IActorRef Actor, ScriptedPeer Peer) StartOverPipes(Probes probes, string overlay = "", TorrentContext? context = null)
    {
        Context = context ?? PeerTestContext.Create(overlay);
        var (actorSide, peerSide) = DuplexPipe.CreatePair();
        var actor = Sys.ActorOf(PeerActor.Props(
            Context, Remote, probes.Coordinator, probes.Scheduler, probes.Writer,
            (_, _) => Task.FromResult(actorSide)));
        Watch(actor);
        return (actor, new ScriptedPeer(peerSide));
    }

    /// <summary>Starts the actor and plays a correct handshake; the actor is Active when this returns.</summary>
    internal async Task<(IActorRef Actor, ScriptedPeer Peer)> StartActiveAsync(Probes probes, string overlay = "", bool fast = true)
    {
        var (actor, peer) = StartOverPipes(probes, overlay);
        await peer.ReadHandshakeAsync();
        await peer.SendHandshakeAsync(Context.InfoHash, fast: fast);
        await probes.Coordinator.ExpectMsgAsync<PeerActor.Connected>();
        if (fast)
        {
            Assert.Equal((byte)PeerMessageKind.HaveNone, (await peer.ReadFrameAsync())[4]);
        }

        return (actor, peer);
    }

    /// <summary>Active, unchoked, with <paramref name="blocks"/> requested and their request frames read.</summary>
    internal async Task<(IActorRef Actor, ScriptedPeer Peer)> StartRequestingAsync(Probes probes, BlockRequest[] blocks, string overlay = "")
    {
        var (actor, peer) = await StartActiveAsync(probes, overlay);
        await peer.SendRawAsync(Frames.Unchoke);
        await probes.Scheduler.ExpectMsgAsync<PieceSchedulerActor.PeerUnchoked>();
        await probes.Scheduler.ExpectMsgAsync<PieceSchedulerActor.RequestBlocks>();
        actor.Tell(new PeerActor.AssignBlocks(blocks), probes.Scheduler.Ref);
        foreach (var _ in blocks)
        {
            await peer.ReadFrameAsync();
        }

        return (actor, peer);
    }

    internal Probes NewProbes() => new(CreateTestProbe("coordinator"), CreateTestProbe("scheduler"), CreateTestProbe("writer"));

    internal static async Task<T> FishAsync<T>(TestProbe probe, Predicate<T>? match = null, TimeSpan? timeout = null)
    {
        var found = await probe.FishForMessageAsync(o => o is T t && (match is null || match(t)), timeout ?? TimeSpan.FromSeconds(5));
        return (T)found;
    }

    internal static BlockRequest Block(int piece, int index) => new(piece, index * 16384, 16384);

    internal sealed record Probes(TestProbe Coordinator, TestProbe Scheduler, TestProbe Writer);
}
