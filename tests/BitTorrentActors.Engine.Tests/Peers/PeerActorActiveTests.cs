using Akka.Actor;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;
using static BitTorrentActors.Engine.Torrent.PieceSchedulerActor;

namespace BitTorrentActors.Engine.Tests.Peers;

public sealed class PeerActorActiveTests(ITestOutputHelper output) : PeerActorTestBase(output)
{
    [Fact]
    public async Task A_bitfield_goes_to_the_scheduler_with_the_same_bytes()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes);

        await peer.SendRawAsync(Frames.Bitfield([0b1010_0000, 0b0110_0000]));

        var bitfield = await probes.Scheduler.ExpectMsgAsync<PeerBitfield>();
        Assert.Equal(actor, bitfield.Peer);
        Assert.Equal(new byte[] { 0b1010_0000, 0b0110_0000 }, bitfield.Bits.ToArray());
    }

    [Fact]
    public async Task A_bitfield_of_the_wrong_size_stops_the_actor()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes);

        await peer.SendRawAsync(Frames.Bitfield([0xFF, 0xE0, 0x00]));

        await ExpectTerminatedAsync(actor);
        await FishAsync<PeerActor.Misbehaved>(probes.Coordinator);
        await probes.Scheduler.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task Have_goes_to_the_scheduler_and_a_have_beyond_the_piece_count_stops_the_actor()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes);

        await peer.SendRawAsync(Frames.Have(PeerTestContext.PieceCount - 1));
        Assert.Equal(PeerTestContext.PieceCount - 1, (await probes.Scheduler.ExpectMsgAsync<PeerHave>()).Piece);

        await peer.SendRawAsync(Frames.Have(PeerTestContext.PieceCount));
        await ExpectTerminatedAsync(actor);
        await FishAsync<PeerActor.Misbehaved>(probes.Coordinator);
    }

    [Fact]
    public async Task A_have_flood_is_dropped_and_only_new_pieces_reach_the_scheduler()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes);

        // A repeated have is no news: the scheduler hears each piece once.
        await peer.SendRawAsync([.. Frames.Have(2), .. Frames.Have(2), .. Frames.Have(5), .. Frames.Have(2)]);
        Assert.Equal(2, (await probes.Scheduler.ExpectMsgAsync<PeerHave>()).Piece);
        Assert.Equal(5, (await probes.Scheduler.ExpectMsgAsync<PeerHave>()).Piece);
        await probes.Scheduler.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));

        // The same 11 pieces over and over, 20,000 times: a flood, dropped, and never passed on.
        await peer.SendRawAsync([.. Enumerable.Range(0, 20_000).SelectMany(i => Frames.Have((uint)(i % PeerTestContext.PieceCount)))]);

        Assert.Contains("have messages", (await FishAsync<PeerActor.Misbehaved>(probes.Coordinator)).Reason);
        await ExpectTerminatedAsync(actor);
        var told = 0;
        while (await probes.Scheduler.ReceiveOneAsync(TimeSpan.FromMilliseconds(300)) is { } message)
        {
            told += message is PeerHave ? 1 : 0;
        }

        Assert.True(told <= PeerTestContext.PieceCount - 2, $"{told} haves of the flood reached the scheduler");
    }

    [Fact]
    public async Task Have_all_is_passed_on_when_fast_was_agreed()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes);

        await peer.SendRawAsync(Frames.HaveAll);

        Assert.Equal(actor, (await probes.Scheduler.ExpectMsgAsync<PeerHaveAll>()).Peer);
    }

    [Fact]
    public async Task Have_all_without_the_fast_extension_stops_the_actor()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes, fast: false);

        await peer.SendRawAsync(Frames.HaveAll);

        await ExpectTerminatedAsync(actor);
        await FishAsync<PeerActor.Misbehaved>(probes.Coordinator);
    }

    [Fact]
    public async Task Unchoke_tells_the_scheduler_and_asks_for_the_initial_pipeline()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes);

        await peer.SendRawAsync(Frames.Unchoke);

        Assert.Equal(actor, (await probes.Scheduler.ExpectMsgAsync<PeerUnchoked>()).Peer);
        var ask = await probes.Scheduler.ExpectMsgAsync<RequestBlocks>();
        Assert.Equal(actor, ask.Peer);
        Assert.Equal(Context.Settings.RequestPipeline.Initial, ask.Count);
    }

    [Fact]
    public async Task Losing_interest_forgets_the_asks_so_the_next_top_up_asks_for_the_whole_pipeline()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes);
        actor.Tell(new PeerActor.SetInterest(true));
        await peer.SendRawAsync(Frames.Unchoke);
        await probes.Scheduler.ExpectMsgAsync<PeerUnchoked>();
        Assert.Equal(Context.Settings.RequestPipeline.Initial, (await probes.Scheduler.ExpectMsgAsync<RequestBlocks>()).Count);

        // The scheduler drops a peer's asks when it tells it "not interested"; the peer must not wait for them.
        actor.Tell(new PeerActor.SetInterest(false));
        actor.Tell(new PeerActor.SetInterest(true));
        await peer.SendRawAsync(Frames.Unchoke);

        // Well before the two-second re-ask, which would otherwise paper over a stale count.
        var ask = await probes.Scheduler.ExpectMsgAsync<RequestBlocks>(TimeSpan.FromMilliseconds(1500));
        Assert.Equal(Context.Settings.RequestPipeline.Initial, ask.Count);
        Assert.False(ask.Resync);
    }

    [Fact]
    public async Task Assigned_blocks_go_on_the_wire_as_request_frames_with_exact_bytes()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes);
        await peer.SendRawAsync(Frames.Unchoke);
        await probes.Scheduler.ExpectMsgAsync<PeerUnchoked>();

        actor.Tell(new PeerActor.AssignBlocks([Block(3, 1), new BlockRequest(10, 0, 1000)]));

        Assert.Equal(new byte[] { 0, 0, 0, 13, 6, 0, 0, 0, 3, 0, 0, 0x40, 0, 0, 0, 0x40, 0 }, await peer.ReadFrameAsync());
        Assert.Equal(new byte[] { 0, 0, 0, 13, 6, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0x03, 0xE8 }, await peer.ReadFrameAsync());
    }

    [Fact]
    public async Task Blocks_assigned_while_choked_are_given_back()
    {
        var probes = NewProbes();
        var (actor, _) = await StartActiveAsync(probes);

        actor.Tell(new PeerActor.AssignBlocks([Block(1, 0)]));

        Assert.Equal([Block(1, 0)], (await probes.Scheduler.ExpectMsgAsync<BlocksReleased>()).Blocks);
    }

    [Fact]
    public async Task A_piece_goes_to_the_writer_with_the_exact_bytes_and_the_pipeline_is_topped_up()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartRequestingAsync(probes, [Block(2, 0), Block(2, 1)]);
        var bytes = Frames.Block(16384, seed: 1);

        await peer.SendRawAsync(Frames.Piece(2, 16384, bytes));

        var writes = await probes.Writer.ExpectMsgAsync<FileWriterActor.WriteBlocks>();
        var data = Assert.Single(writes.Blocks);
        Assert.Equal(actor, writes.Peer);
        Assert.Equal(Block(2, 1), data.Block);
        Assert.Equal(bytes, data.Memory.ToArray());
        data.Release();
        Assert.Equal(Block(2, 1), Assert.Single((await probes.Scheduler.ExpectMsgAsync<BlocksReceived>()).Blocks));
        Assert.Equal(1, (await probes.Scheduler.ExpectMsgAsync<RequestBlocks>()).Count);
        var report = await FishAsync<PeerActor.TransferReport>(probes.Coordinator);
        Assert.Equal(16384, report.Downloaded);
    }

    [Fact]
    public async Task A_piece_whose_length_differs_from_the_request_stops_the_actor()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartRequestingAsync(probes, [Block(2, 0)]);

        await peer.SendRawAsync(Frames.Piece(2, 0, new byte[100]));

        await ExpectTerminatedAsync(actor);
        await FishAsync<PeerActor.Misbehaved>(probes.Coordinator);
        await probes.Writer.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task Choke_tells_the_scheduler()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartRequestingAsync(probes, [Block(2, 0)]);

        await peer.SendRawAsync(Frames.Choke);

        Assert.Equal(actor, (await probes.Scheduler.ExpectMsgAsync<PeerChoked>()).Peer);
    }

    [Fact]
    public async Task Blocks_in_flight_when_choked_are_dropped_without_counting_as_a_flood()
    {
        var probes = NewProbes();
        var blocks = Enumerable.Range(0, 2 * PeerActor.MaxUnrequestedBlocks).Select(i => Block(i / 2, i % 2)).ToArray();
        var (_, peer) = await StartRequestingAsync(probes, blocks);
        await peer.SendRawAsync(Frames.Choke);
        await probes.Scheduler.ExpectMsgAsync<PeerChoked>();

        foreach (var block in blocks)
        {
            await peer.SendRawAsync(Frames.Piece(block.Piece, block.Begin, new byte[block.Length]));
        }

        await peer.SendRawAsync(Frames.Have(0));
        await probes.Scheduler.ExpectMsgAsync<PeerHave>();
        await probes.Writer.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        // Still alive: the test actor watches it and would have got Terminated.
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_reject_gives_the_block_back()
    {
        var probes = NewProbes();
        var (_, peer) = await StartRequestingAsync(probes, [Block(4, 0), Block(4, 1)]);

        await peer.SendRawAsync(Frames.Reject(4, 16384, 16384));

        Assert.Equal([Block(4, 1)], (await probes.Scheduler.ExpectMsgAsync<BlocksReleased>()).Blocks);
    }

    [Fact]
    public async Task A_flood_of_unrequested_pieces_stops_the_actor()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes);

        for (var i = 0; i <= PeerActor.MaxUnrequestedBlocks; i++)
        {
            await peer.SendRawAsync(Frames.Piece(0, i * 1024, new byte[1024]));
        }

        await ExpectTerminatedAsync(actor);
        Assert.Contains("never requested", (await FishAsync<PeerActor.Misbehaved>(probes.Coordinator)).Reason);
        await probes.Writer.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task A_length_prefix_of_two_to_the_31_stops_the_actor_at_once()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes);

        await peer.SendRawAsync([0x80, 0, 0, 0, 7]);

        await ExpectTerminatedAsync(actor, TimeSpan.FromSeconds(1));
        Assert.Contains("FrameTooLong", (await FishAsync<PeerActor.Misbehaved>(probes.Coordinator)).Reason);
    }

    [Fact]
    public async Task Cancel_blocks_sends_cancel_only_for_those_still_outstanding()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartRequestingAsync(probes, [Block(5, 0)]);

        actor.Tell(new PeerActor.CancelBlocks([Block(5, 0), Block(6, 0)]));

        Assert.Equal(Frames.Cancel(5, 0, 16384), await peer.ReadFrameAsync());
        await peer.SendRawAsync(Frames.Have(1));
        await probes.Scheduler.FishForMessageAsync(m => m is PeerHave);
        Assert.False(await peer.IsClosedAsync(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task Announce_have_and_interest_changes_go_on_the_wire()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes, fast: false);

        actor.Tell(new PeerActor.SetInterest(true));
        actor.Tell(new PeerActor.SetInterest(true));
        actor.Tell(new PeerActor.AnnounceHave(7));
        actor.Tell(new PeerActor.SetInterest(false));

        Assert.Equal(new byte[] { 0, 0, 0, 1, 2 }, await peer.ReadFrameAsync());
        Assert.Equal(new byte[] { 0, 0, 0, 5, 4, 0, 0, 0, 7 }, await peer.ReadFrameAsync());
        Assert.Equal(new byte[] { 0, 0, 0, 1, 3 }, await peer.ReadFrameAsync());
    }

    [Fact]
    public async Task Requests_while_choked_are_rejected_up_to_the_flood_limit_then_stop_the_actor()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes, "bta.upload.max-requests-per-peer = 3");

        for (var i = 0; i < 3 * PeerActor.RequestFloodFactor; i++)
        {
            var piece = i % (PeerTestContext.PieceCount - 1);
            await peer.SendRawAsync(Frames.Request(piece, 0, 16384));
            // We have nothing (and choke the peer): BEP 6 says reject each one.
            Assert.Equal(Frames.Reject(piece, 0, 16384), await peer.ReadFrameAsync());
        }

        await peer.SendRawAsync(Frames.Request(3, 0, 16384));
        await ExpectTerminatedAsync(actor);
        Assert.Contains("refused requests", (await FishAsync<PeerActor.Misbehaved>(probes.Coordinator)).Reason);
    }
}
