using System.Buffers.Binary;
using Akka.Actor;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Peers;

/// <summary>The uploading side of PeerActor over crossed in-memory pipes, with a probe as the file writer.</summary>
public sealed class PeerActorUploadTests(ITestOutputHelper output) : PeerActorTestBase(output)
{
    [Fact]
    public async Task After_the_handshake_a_partial_seed_sends_its_bitfield()
    {
        var probes = NewProbes();
        var (_, peer) = await StartServingAsync(probes, Pieces(0, 3, 10));

        Assert.Equal(Frames.Bitfield([0b1001_0000, 0b0010_0000]), await peer.ReadFrameAsync());
    }

    [Fact]
    public async Task After_the_handshake_a_seed_sends_have_all_with_the_fast_extension()
    {
        var probes = NewProbes();
        var (_, peer) = await StartServingAsync(probes, Bitfield.AllSet(PeerTestContext.PieceCount));

        Assert.Equal(Frames.HaveAll, await peer.ReadFrameAsync());
    }

    [Fact]
    public async Task A_request_is_read_through_the_writer_and_answered_with_the_exact_piece_bytes()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartServingAsync(probes, Pieces(2));
        await peer.ReadFrameAsync();
        actor.Tell(new PeerActor.SetChoke(false));
        Assert.Equal(Frames.Unchoke, await peer.ReadFrameAsync());

        await peer.SendRawAsync(Frames.Request(2, 16384, 16384));

        var read = await probes.ExpectReadAsync();
        Assert.Equal(new BlockRequest(2, 16384, 16384), read.Block);
        var bytes = Frames.Block(16384, seed: 9);
        read.ReplyTo.Tell(new FileWriterActor.BlockRead(read.Block, Data(read.Block, bytes)));
        Assert.Equal(Frames.Piece(2, 16384, bytes), await peer.ReadFrameAsync());
        var report = await FishAsync<PeerActor.TransferReport>(probes.Coordinator);
        Assert.Equal(16384, report.Uploaded);
    }

    [Fact]
    public async Task Choking_drops_queued_requests_with_a_reject_each_and_a_late_read_is_not_sent()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartServingAsync(probes, Pieces(1));
        await peer.ReadFrameAsync();
        actor.Tell(new PeerActor.SetChoke(false));
        await peer.ReadFrameAsync();
        await peer.SendRawAsync(Frames.Request(1, 0, 16384));
        await peer.SendRawAsync(Frames.Request(1, 16384, 16384));
        var firstRead = await probes.ExpectReadAsync();
        await probes.ExpectReadAsync();

        actor.Tell(new PeerActor.SetChoke(true));

        Assert.Equal(Frames.Choke, await peer.ReadFrameAsync());
        var rejects = new[] { await peer.ReadFrameAsync(), await peer.ReadFrameAsync() };
        Assert.Contains(Frames.Reject(1, 0, 16384), rejects);
        Assert.Contains(Frames.Reject(1, 16384, 16384), rejects);
        actor.Tell(new FileWriterActor.BlockRead(firstRead.Block, Data(firstRead.Block, Frames.Block(16384, 1))));
        actor.Tell(new PeerActor.AnnounceHave(4));
        Assert.Equal(Frames.Have(4), await peer.ReadFrameAsync());
    }

    [Fact]
    public async Task A_cancelled_request_is_never_read()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartServingAsync(probes, Pieces(1, 2), "bta.upload.rate-limit = 20000");
        await peer.ReadFrameAsync();
        actor.Tell(new PeerActor.SetChoke(false));
        await peer.ReadFrameAsync();

        // At 20 kB/s the burst covers two blocks; the third waits for its turn, and is cancelled meanwhile.
        await peer.SendRawAsync(Frames.Request(1, 0, 16384));
        await peer.SendRawAsync(Frames.Request(1, 16384, 16384));
        await peer.SendRawAsync(Frames.Request(2, 0, 16384));
        await peer.SendRawAsync(Frames.Cancel(2, 0, 16384));

        var reads = new List<BlockRequest>();
        while (await probes.TryReadAsync(TimeSpan.FromSeconds(2)) is { } read)
        {
            reads.Add(read.Block);
        }
        Assert.Equal([new BlockRequest(1, 0, 16384), new BlockRequest(1, 16384, 16384)], reads);
        Assert.False(actor.IsNobody());
    }

    [Fact]
    public async Task Reads_holding_the_send_bound_leave_the_pump_asleep_until_one_returns()
    {
        var probes = NewProbes();
        var (actor, peer, requested) = await RequestMoreThanTheBoundAsync(probes);
        var reads = new List<FileWriterActor.ReadBlock>();
        for (var i = 0; i < ReadsInBound; i++)
        {
            reads.Add(await probes.ExpectReadAsync());
        }

        // The reads hold the bound with nothing unsent: only a read coming back can free it, so nothing may
        // wake the pump meanwhile (the old pump woke itself through the send loop in a loop, thousands a second).
        await probes.ExpectNoReadAsync(TimeSpan.FromMilliseconds(500));
        var state = await UploadStateAsync(actor);
        Assert.Equal((requested.Length - ReadsInBound, ReadsInBound), (state.Queued, state.Reading));
        Assert.True(state.DrainWakeups <= 1, $"the pump woke {state.DrainWakeups} times while only reads held the bound");

        // Each read that comes back is sent and lets exactly the next queued block be read, to the end.
        for (var i = 0; i < reads.Count; i++)
        {
            var read = reads[i];
            var bytes = Frames.Block(16384, seed: i);
            read.ReplyTo.Tell(new FileWriterActor.BlockRead(read.Block, Data(read.Block, bytes)));
            Assert.Equal(Frames.Piece(read.Block.Piece, read.Block.Begin, bytes), await peer.ReadFrameAsync());
            if (i + ReadsInBound < requested.Length)
            {
                reads.Add(await probes.ExpectReadAsync());
            }
        }

        Assert.Equal(requested, reads.Select(r => r.Block).ToArray());
        Assert.True((await UploadStateAsync(actor)).DrainWakeups <= requested.Length);
    }

    [Fact]
    public async Task Blocks_read_back_together_are_sent_in_order_and_the_next_ones_asked_for_in_one_message()
    {
        var probes = NewProbes();
        var (_, peer, requested) = await RequestMoreThanTheBoundAsync(probes);
        var reads = new List<FileWriterActor.ReadBlock>();
        for (var i = 0; i < ReadsInBound; i++)
        {
            reads.Add(await probes.ExpectReadAsync());
        }
        await probes.ExpectNoReadAsync(TimeSpan.FromMilliseconds(300));

        // Three reads come back in one message: three pieces go out, and the three blocks that now fit the bound
        // are asked of the writer in one ReadBlocks, not one message each.
        var back = reads.Take(3).Select((r, i) => new FileWriterActor.BlockRead(r.Block, Data(r.Block, Frames.Block(16384, seed: i)))).ToArray();
        reads[0].ReplyTo.Tell(new FileWriterActor.BlocksRead(back));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(Frames.Piece(back[i].Block.Piece, back[i].Block.Begin, Frames.Block(16384, seed: i)), await peer.ReadFrameAsync());
        }
        var next = await probes.Writer.ExpectMsgAsync<FileWriterActor.ReadBlocks>();
        Assert.Equal(requested.Skip(ReadsInBound).Take(3), next.Blocks);
    }

    [Fact]
    public async Task A_burst_of_requests_is_read_in_batches_of_eight_up_to_the_send_bound()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartUnchokedSeedAsync(probes, SendBound);

        // One send, as libtorrent sends hundreds of requests in one segment: the actor sees them as one message,
        // queues them all, then asks the writer for the bound's worth in full batches (one request at a time,
        // the first read would have gone out alone).
        var requested = Enumerable.Range(0, ReadsInBound + 4).Select(i => Block(i / 2, i % 2)).ToArray();
        await peer.SendRawAsync([.. requested.SelectMany(b => Frames.Request(b.Piece, b.Begin, b.Length))]);

        var batches = new List<BlockRequest[]>();
        for (var read = 0; read < ReadsInBound; read += batches[^1].Length)
        {
            batches.Add((await probes.Writer.ExpectMsgAsync<FileWriterActor.ReadBlocks>()).Blocks);
        }

        await probes.Writer.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Assert.All(batches, b => Assert.Equal(PeerActor.ReadBatchBlocks, b.Length));
        Assert.Equal(requested.Take(ReadsInBound), batches.SelectMany(b => b));
        var state = await UploadStateAsync(actor);
        Assert.Equal((4, ReadsInBound), (state.Queued, state.Reading));
    }

    [Fact]
    public async Task Cancelling_a_block_being_read_lets_the_next_queued_one_be_read()
    {
        var probes = NewProbes();
        var (_, peer, requested) = await RequestMoreThanTheBoundAsync(probes);
        for (var i = 0; i < ReadsInBound; i++)
        {
            await probes.ExpectReadAsync();
        }

        await peer.SendRawAsync(Frames.Cancel(requested[0].Piece, requested[0].Begin, requested[0].Length));

        Assert.Equal(requested[ReadsInBound], (await probes.ExpectReadAsync()).Block);
    }

    [Fact]
    public async Task A_pipeline_of_2000_requests_gets_rejects_for_the_excess_and_is_served_in_turns_not_banned()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartUnchokedSeedAsync(probes, QueueOf500);

        // 2,000 distinct small blocks, four times the queue limit of 500; each turn asks again for what was
        // rejected, as a pipelining client does, until every block came. The disk answers only once every
        // request of the turn was seen, so the queue is full and exactly the excess is rejected.
        var wanted = Enumerable.Range(0, 2000).Select(i => new BlockRequest(0, i * 16, 16)).ToList();
        var turns = 0;
        while (wanted.Count > 0)
        {
            turns++;
            await peer.SendRawAsync([.. wanted.SelectMany(b => Frames.Request(b.Piece, b.Begin, b.Length))]);
            var queued = Math.Min(500, wanted.Count);
            var (_, rejected) = await ReadAnswersAsync(peer, wanted.Count - queued);
            Assert.Equal(wanted.Skip(queued), rejected);
            var disk = AnswerReadsAsync(probes, queued);
            Assert.Equal(wanted.Take(queued), (await ReadAnswersAsync(peer, queued)).Served);
            await disk;
            wanted = rejected;
        }

        Assert.Equal(4, turns);
        Assert.False(await peer.IsClosedAsync(TimeSpan.FromMilliseconds(200)));
        Assert.DoesNotContain(probes.Coordinator.ReceiveWhile(TimeSpan.FromMilliseconds(100), m => m), m => m is PeerActor.Misbehaved);
    }

    [Fact]
    public async Task Without_the_fast_extension_requests_beyond_the_queue_are_dropped_silently()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartServingAsync(probes, Bitfield.AllSet(PeerTestContext.PieceCount), QueueOf500, fast: false);
        Assert.Equal((byte)PeerMessageKind.Bitfield, (await peer.ReadFrameAsync())[4]);
        actor.Tell(new PeerActor.SetChoke(false));
        Assert.Equal(Frames.Unchoke, await peer.ReadFrameAsync());
        var wanted = Enumerable.Range(0, 2000).Select(i => new BlockRequest(0, i * 16, 16)).ToList();

        // Interested after the requests: once the coordinator hears it, the actor has seen every request.
        await peer.SendRawAsync([
            .. wanted.SelectMany(b => Frames.Request(b.Piece, b.Begin, b.Length)),
            .. Frames.Build(5, b => PeerWireWriter.WriteInterested(b)),
        ]);
        await FishAsync<PeerActor.InterestChanged>(probes.Coordinator);
        var disk = AnswerReadsAsync(probes, 500);
        var (served, rejected) = await ReadAnswersAsync(peer, 500);
        await disk;
        Assert.Equal(wanted.Take(500), served);
        Assert.Empty(rejected);
        await probes.ExpectNoReadAsync(TimeSpan.FromMilliseconds(300));

        // The other 1,500 were ignored, not held: asked again, the next 500 are served.
        await peer.SendRawAsync([.. wanted.Skip(500).Take(500).SelectMany(b => Frames.Request(b.Piece, b.Begin, b.Length))]);
        disk = AnswerReadsAsync(probes, 500);
        Assert.Equal(wanted.Skip(500).Take(500), (await ReadAnswersAsync(peer, 500)).Served);
        await disk;
        Assert.False(await peer.IsClosedAsync(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task A_peer_that_reads_nothing_and_floods_requests_is_closed_before_the_rejects_pile_up()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartServingAsync(probes, Bitfield.AllSet(PeerTestContext.PieceCount));
        await peer.ReadFrameAsync();
        actor.Tell(new PeerActor.SetChoke(false));
        await peer.ReadFrameAsync();

        // From here the peer reads nothing and the disk never answers: 500 queued, then 79,500 refused, whose
        // rejects (17 bytes each, 1.35 MB) would all wait in the outbox.
        var sending = peer.SendRawAsync([.. Enumerable.Range(0, 80_000).SelectMany(i => Frames.Request(i % 10, i / 10 % 2048 * 16, 16))]);

        await ExpectTerminatedAsync(actor, TimeSpan.FromSeconds(20));
        // Closed as a peer that does not read, not banned: it is not a protocol violation.
        Assert.DoesNotContain(probes.Coordinator.ReceiveWhile(TimeSpan.FromMilliseconds(100), m => m), m => m is PeerActor.Misbehaved);
        await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task A_request_over_16_KiB_closes_the_connection()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartServingAsync(probes, Pieces(1));
        await peer.ReadFrameAsync();

        await peer.SendRawAsync(Frames.Request(1, 0, 16385));

        Assert.Contains("1..16384", (await FishAsync<PeerActor.Misbehaved>(probes.Coordinator)).Reason);
        await ExpectTerminatedAsync(actor);
    }

    [Fact]
    public async Task Interest_from_the_peer_is_reported_to_the_coordinator()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartServingAsync(probes, Pieces(1));
        await peer.ReadFrameAsync();

        await peer.SendRawAsync(Frames.Build(5, b => PeerWireWriter.WriteInterested(b)));

        var interest = await FishAsync<PeerActor.InterestChanged>(probes.Coordinator);
        Assert.True(interest.Interested);
        Assert.Equal(actor, interest.Peer);
    }

    /// <summary>Blocks being read at once when nothing is unsent: the send bound in whole blocks.</summary>
    // The test torrent (352 KiB) is smaller than the default send bound: these tests set 256 KiB.
    private const string SendBound = "bta.upload.max-unsent-per-peer = 256KiB";
    private const int ReadsInBound = 256 * 1024 / 16384;

    // The queue-limit tests count in the limit they were written for, not the default's (1000).
    private const string QueueOf500 = "bta.upload.max-requests-per-peer = 500";

    /// <summary>A seed that unchoked the peer, which requested 20 blocks: more than the send bound holds.</summary>
    private async Task<(IActorRef Actor, ScriptedPeer Peer, BlockRequest[] Requested)> RequestMoreThanTheBoundAsync(Probes probes)
    {
        var (actor, peer) = await StartUnchokedSeedAsync(probes, SendBound);
        var requested = Enumerable.Range(0, ReadsInBound + 4).Select(i => Block(i / 2, i % 2)).ToArray();
        foreach (var block in requested)
        {
            await peer.SendRawAsync(Frames.Request(block.Piece, block.Begin, block.Length));
        }

        return (actor, peer, requested);
    }

    /// <summary>A seed (have-all, fast extension) that has unchoked the peer.</summary>
    private async Task<(IActorRef Actor, ScriptedPeer Peer)> StartUnchokedSeedAsync(Probes probes, string overlay)
    {
        var (actor, peer) = await StartServingAsync(probes, Bitfield.AllSet(PeerTestContext.PieceCount), overlay);
        Assert.Equal(Frames.HaveAll, await peer.ReadFrameAsync());
        actor.Tell(new PeerActor.SetChoke(false));
        Assert.Equal(Frames.Unchoke, await peer.ReadFrameAsync());
        return (actor, peer);
    }

    private async Task<PeerActor.UploadState> UploadStateAsync(IActorRef actor)
    {
        actor.Tell(PeerActor.GetUploadState.Instance, TestActor);
        return await ExpectMsgAsync<PeerActor.UploadState>();
    }

    /// <summary>Plays the disk: answers the next <paramref name="count"/> reads with zeros.</summary>
    private static async Task AnswerReadsAsync(Probes probes, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var read = await probes.ExpectReadAsync();
            read.ReplyTo.Tell(new FileWriterActor.BlockRead(read.Block, Data(read.Block, new byte[read.Block.Length])));
        }
    }

    /// <summary>Reads <paramref name="count"/> answers (piece or reject frames) from the actor.</summary>
    private static async Task<(List<BlockRequest> Served, List<BlockRequest> Rejected)> ReadAnswersAsync(ScriptedPeer peer, int count)
    {
        var served = new List<BlockRequest>();
        var rejected = new List<BlockRequest>();
        while (served.Count + rejected.Count < count)
        {
            var frame = await peer.ReadFrameAsync();
            var block = new BlockRequest(
                BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(5)), BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(9)), 0);
            switch ((PeerMessageKind)frame[4])
            {
                case PeerMessageKind.Piece:
                    served.Add(block with { Length = frame.Length - 13 });
                    break;
                case PeerMessageKind.Reject:
                    rejected.Add(block with { Length = BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(13)) });
                    break;
                default:
                    throw new InvalidOperationException($"unexpected frame {frame[4]}");
            }
        }

        return (served, rejected);
    }

    /// <summary>Active with <paramref name="ours"/> as our verified pieces; the peer's handshake is done.</summary>
    internal async Task<(IActorRef Actor, ScriptedPeer Peer)> StartServingAsync(Probes probes, Bitfield ours, string overlay = "", bool fast = true)
    {
        var context = PeerTestContext.Create(overlay);
        var setup = new PeerSetup(ours, new RateLimiter(context.Settings.Upload.RateLimit));
        var (actorSide, peerSide) = DuplexPipe.CreatePair();
        var actor = Sys.ActorOf(PeerActor.Props(
            context, Remote, probes.Coordinator, probes.Scheduler, probes.Writer, (_, _) => Task.FromResult(actorSide), setup));
        Watch(actor);
        var peer = new ScriptedPeer(peerSide);
        await peer.ReadHandshakeAsync();
        await peer.SendHandshakeAsync(context.InfoHash, fast: fast);
        await probes.Coordinator.ExpectMsgAsync<PeerActor.Connected>();
        return (actor, peer);
    }

    internal static Bitfield Pieces(params int[] pieces)
    {
        var bits = new Bitfield(PeerTestContext.PieceCount);
        foreach (var piece in pieces)
        {
            bits.Set(piece);
        }
        return bits;
    }

    internal static BlockData Data(BlockRequest block, byte[] bytes)
    {
        var data = BlockData.Rent(block);
        bytes.CopyTo(data.Memory.Span);
        return data;
    }
}
