using System.Net;
using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Storage;
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

    internal sealed record Probes(TestProbe Coordinator, TestProbe Scheduler, TestProbe Writer)
    {
        // Reads the actor asked for, in order, not yet taken by ExpectReadAsync (a ReadBlocks carries several).
        private readonly Queue<FileWriterActor.ReadBlock> _reads = new();

        /// <summary>The next block read the actor asked the writer for, one block at a time whether it came alone
        /// (<see cref="FileWriterActor.ReadBlock"/>) or in a batch (<see cref="FileWriterActor.ReadBlocks"/>).</summary>
        public async Task<FileWriterActor.ReadBlock> ExpectReadAsync(TimeSpan? timeout = null) =>
            await TryReadAsync(timeout ?? TimeSpan.FromSeconds(3))
                ?? throw new Xunit.Sdk.XunitException("no block read asked of the writer in time");

        /// <summary>The next block read, or null when none is asked for within <paramref name="timeout"/>; fails
        /// on any other message to the writer.</summary>
        public async Task<FileWriterActor.ReadBlock?> TryReadAsync(TimeSpan timeout)
        {
            if (_reads.Count == 0)
            {
                switch (await Writer.ReceiveOneAsync(timeout))
                {
                    case null:
                        return null;
                    case FileWriterActor.ReadBlock read:
                        _reads.Enqueue(read);
                        break;
                    case FileWriterActor.ReadBlocks reads:
                        Xunit.Assert.NotEmpty(reads.Blocks);
                        foreach (var block in reads.Blocks)
                        {
                            _reads.Enqueue(new FileWriterActor.ReadBlock(block, reads.ReplyTo));
                        }
                        break;
                    case var other:
                        throw new Xunit.Sdk.XunitException($"the writer got {other}, not a block read");
                }
            }
            return _reads.Dequeue();
        }

        /// <summary>No read asked for, and none left untaken, for <paramref name="duration"/>.</summary>
        public async Task ExpectNoReadAsync(TimeSpan duration)
        {
            Xunit.Assert.Empty(_reads);
            await Writer.ExpectNoMsgAsync(duration);
        }
    }
}
