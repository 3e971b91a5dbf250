using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.Torrent;

public class PieceSchedulerActorTests : Akka.TestKit.Xunit2.TestKit
{
    private const int Block = 16 * 1024;
    private readonly TorrentContext _context;

    public PieceSchedulerActorTests()
    {
        // 3 pieces of 32 KiB (2 blocks each), the last piece 8 KiB.
        var metainfo = TestTorrents.Metainfo(2 * Block, ("a.bin", TestTorrents.Content(2 * 2 * Block + 8192, 3)));
        _context = TestTorrents.Context(metainfo, Path.GetTempPath());
    }

    private IActorRef Scheduler(params int[] verified)
    {
        var scheduler = Sys.ActorOf(PieceSchedulerActor.Props(_context, new Random(5)));
        var have = new Bitfield(_context.PieceCount);
        foreach (var p in verified)
        {
            have.Set(p);
        }
        scheduler.Tell(new PieceSchedulerActor.Start(have.AsSpan().ToArray()));
        return scheduler;
    }

    private static byte[] Bits(int count, params int[] pieces)
    {
        var bits = new Bitfield(count);
        foreach (var p in pieces)
        {
            bits.Set(p);
        }
        return bits.AsSpan().ToArray();
    }

    [Fact]
    public void A_peer_with_needed_pieces_is_made_interesting_and_gets_blocks()
    {
        var scheduler = Scheduler(verified: 0);
        var peer = CreateTestProbe();
        scheduler.Tell(new PieceSchedulerActor.PeerBitfield(peer, Bits(3, 0, 2)));
        peer.ExpectMsg<PeerActor.SetInterest>(m => m.Interested);
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(peer, 10));
        var assigned = peer.ExpectMsg<PeerActor.AssignBlocks>();
        Assert.Equal([new BlockRequest(2, 0, 8192)], assigned.Blocks);
    }

    [Fact]
    public void Priorities_sent_before_start_keep_unwanted_pieces_out_and_the_high_piece_goes_first()
    {
        var scheduler = Sys.ActorOf(PieceSchedulerActor.Props(_context, new Random(5)));
        scheduler.Tell(new PieceSchedulerActor.SetPiecePriorities(new byte[] { 1, 0, 3 }));
        scheduler.Tell(new PieceSchedulerActor.Start(Bits(3)));
        var peer = CreateTestProbe();
        scheduler.Tell(new PieceSchedulerActor.PeerHaveAll(peer));
        peer.ExpectMsg<PeerActor.SetInterest>(m => m.Interested);

        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(peer, 10));

        // High piece 2 (one short block), then low piece 0 (two blocks); never piece 1, not even in endgame.
        Assert.Equal(
            [new BlockRequest(2, 0, 8192), new BlockRequest(0, 0, Block), new BlockRequest(0, Block, Block)],
            peer.ExpectMsg<PeerActor.AssignBlocks>().Blocks);
        scheduler.Tell(PieceSchedulerActor.GetStatus.Instance);
        Assert.True(ExpectMsg<PieceSchedulerActor.Status>().Endgame);
        peer.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Unwanting_what_a_peer_has_ends_interest_and_wanting_it_again_restores_it()
    {
        var scheduler = Scheduler();
        var peer = CreateTestProbe();
        scheduler.Tell(new PieceSchedulerActor.PeerBitfield(peer, Bits(3, 1)));
        peer.ExpectMsg<PeerActor.SetInterest>(m => m.Interested);

        scheduler.Tell(new PieceSchedulerActor.SetPiecePriorities(new byte[] { 2, 0, 2 }));
        peer.ExpectMsg<PeerActor.SetInterest>(m => !m.Interested);
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(peer, 4));
        peer.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        scheduler.Tell(new PieceSchedulerActor.SetPiecePriorities(new byte[] { 0, 2, 0 }));
        peer.ExpectMsg<PeerActor.SetInterest>(m => m.Interested);
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(peer, 4));
        Assert.All(peer.ExpectMsg<PeerActor.AssignBlocks>().Blocks, b => Assert.Equal(1, b.Piece));
    }

    [Fact]
    public void Priorities_of_the_wrong_length_are_ignored_with_a_warning()
    {
        var scheduler = Scheduler();
        EventFilter.Warning(contains: "Ignoring piece priorities").ExpectOne(
            () => scheduler.Tell(new PieceSchedulerActor.SetPiecePriorities(new byte[] { 0 })));
        var peer = CreateTestProbe();
        scheduler.Tell(new PieceSchedulerActor.PeerBitfield(peer, Bits(3, 1)));
        peer.ExpectMsg<PeerActor.SetInterest>(m => m.Interested);
    }

    [Fact]
    public void A_peer_with_nothing_we_need_is_not_interesting()
    {
        var scheduler = Scheduler(verified: 0);
        var peer = CreateTestProbe();
        scheduler.Tell(new PieceSchedulerActor.PeerBitfield(peer, Bits(3, 0)));
        peer.ExpectMsg<PeerActor.SetInterest>(m => !m.Interested);
        scheduler.Tell(new PieceSchedulerActor.PeerHave(peer, 1));
        peer.ExpectMsg<PeerActor.SetInterest>(m => m.Interested);
    }

    [Fact]
    public void Requests_before_start_are_served_once_the_check_is_done()
    {
        var scheduler = Sys.ActorOf(PieceSchedulerActor.Props(_context));
        var peer = CreateTestProbe();
        scheduler.Tell(new PieceSchedulerActor.PeerHaveAll(peer));
        peer.ExpectMsg<PeerActor.SetInterest>();
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(peer, 2));
        peer.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        scheduler.Tell(new PieceSchedulerActor.Start(Bits(3)));
        Assert.Equal(2, peer.ExpectMsg<PeerActor.AssignBlocks>().Blocks.Count);
    }

    [Fact]
    public void Blocks_of_a_peer_that_dies_go_to_another_peer()
    {
        var scheduler = Scheduler();
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        scheduler.Tell(new PieceSchedulerActor.PeerHaveAll(first));
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(first, 6));
        var taken = first.FishForMessage<PeerActor.AssignBlocks>(_ => true).Blocks;
        Assert.Equal(5, taken.Count);
        first.Ref.Tell(PoisonPill.Instance);
        AwaitAssert(() =>
        {
            scheduler.Tell(PieceSchedulerActor.GetStatus.Instance);
            Assert.Equal(0, ExpectMsg<PieceSchedulerActor.Status>().Peers);
        });
        scheduler.Tell(new PieceSchedulerActor.PeerHaveAll(second));
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(second, 6));
        var retaken = second.FishForMessage<PeerActor.AssignBlocks>(_ => true).Blocks;
        Assert.Equal(taken.ToHashSet(), retaken.ToHashSet());
    }

    [Fact]
    public void Choke_returns_blocks_to_the_pool()
    {
        var scheduler = Scheduler();
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        scheduler.Tell(new PieceSchedulerActor.PeerBitfield(first, Bits(3, 1)));
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(first, 2));
        var taken = first.FishForMessage<PeerActor.AssignBlocks>(_ => true).Blocks;
        scheduler.Tell(new PieceSchedulerActor.PeerChoked(first));
        scheduler.Tell(new PieceSchedulerActor.PeerBitfield(second, Bits(3, 1)));
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(second, 2));
        Assert.Equal(taken, second.FishForMessage<PeerActor.AssignBlocks>(_ => true).Blocks);
    }

    [Fact]
    public void Endgame_cancels_the_duplicate_when_a_block_arrives()
    {
        var scheduler = Scheduler(0, 1);
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        scheduler.Tell(new PieceSchedulerActor.PeerHaveAll(first));
        scheduler.Tell(new PieceSchedulerActor.PeerHaveAll(second));
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(first, 4));
        var block = first.FishForMessage<PeerActor.AssignBlocks>(_ => true).Blocks.Single();
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(second, 4));
        Assert.Equal([block], second.FishForMessage<PeerActor.AssignBlocks>(_ => true).Blocks);
        scheduler.Tell(new PieceSchedulerActor.BlockReceived(first, block));
        Assert.Equal([block], second.FishForMessage<PeerActor.CancelBlocks>(_ => true).Blocks);
        scheduler.Tell(PieceSchedulerActor.GetStatus.Instance);
        Assert.True(ExpectMsg<PieceSchedulerActor.Status>().Endgame);
    }

    [Fact]
    public void A_failed_piece_is_handed_out_again_and_verification_ends_interest()
    {
        var scheduler = Scheduler(0, 1);
        var peer = CreateTestProbe();
        scheduler.Tell(new PieceSchedulerActor.PeerHaveAll(peer));
        peer.ExpectMsg<PeerActor.SetInterest>(m => m.Interested);
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(peer, 1));
        var block = peer.ExpectMsg<PeerActor.AssignBlocks>().Blocks.Single();
        scheduler.Tell(new PieceSchedulerActor.BlockReceived(peer, block));
        scheduler.Tell(new PieceSchedulerActor.PieceFailed(2));
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(peer, 1));
        Assert.Equal([block], peer.ExpectMsg<PeerActor.AssignBlocks>().Blocks);
        scheduler.Tell(new PieceSchedulerActor.BlockReceived(peer, block));
        scheduler.Tell(new PieceSchedulerActor.PieceVerified(2));
        peer.ExpectMsg<PeerActor.SetInterest>(m => !m.Interested);
    }

    [Fact]
    public void Unmet_demand_is_served_as_soon_as_a_piece_frees_a_slot()
    {
        // A budget of one piece still allows two in flight (the floor), so three pieces need a verification.
        var settings = TestTorrents.Settings($"bta.download.max-buffered-bytes = {2 * Block}");
        var scheduler = Sys.ActorOf(PieceSchedulerActor.Props(_context with { Settings = settings }, new Random(5)));
        scheduler.Tell(new PieceSchedulerActor.Start(Bits(3)));
        var peer = CreateTestProbe();
        scheduler.Tell(new PieceSchedulerActor.PeerHaveAll(peer));
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(peer, 10));
        var first = peer.FishForMessage<PeerActor.AssignBlocks>(_ => true).Blocks;
        Assert.Equal(2, first.Select(b => b.Piece).Distinct().Count());
        foreach (var block in first)
        {
            scheduler.Tell(new PieceSchedulerActor.BlockReceived(peer, block));
        }
        peer.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        scheduler.Tell(new PieceSchedulerActor.PieceVerified(first[0].Piece));
        var next = peer.FishForMessage<PeerActor.AssignBlocks>(_ => true).Blocks;
        Assert.All(next, b => Assert.DoesNotContain(b.Piece, first.Select(f => f.Piece)));
    }

    // Four pieces of two blocks and an in-flight budget of two pieces; the peer has all and took both allowed pieces.
    private (IActorRef Scheduler, TestProbe Peer, IReadOnlyList<BlockRequest> First) SchedulerAtTheInFlightCap()
    {
        var metainfo = TestTorrents.Metainfo(2 * Block, ("a.bin", TestTorrents.Content(4 * 2 * Block, 7)));
        var settings = TestTorrents.Settings($"bta.download.max-buffered-bytes = {2 * 2 * Block}");
        var context = TestTorrents.Context(metainfo, Path.GetTempPath(), settings);
        var scheduler = Sys.ActorOf(PieceSchedulerActor.Props(context, new Random(5)));
        scheduler.Tell(new PieceSchedulerActor.Start(Bits(4)));
        var peer = CreateTestProbe();
        scheduler.Tell(new PieceSchedulerActor.PeerHaveAll(peer));
        peer.ExpectMsg<PeerActor.SetInterest>(m => m.Interested);
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(peer, 4));
        var first = peer.ExpectMsg<PeerActor.AssignBlocks>().Blocks;
        Assert.Equal(4, first.Count);
        foreach (var block in first)
        {
            scheduler.Tell(new PieceSchedulerActor.BlockReceived(peer, block));
        }
        return (scheduler, peer, first);
    }

    [Fact]
    public void Asks_held_back_by_the_in_flight_cap_add_up_and_are_all_served_once_a_piece_is_verified()
    {
        var (scheduler, peer, first) = SchedulerAtTheInFlightCap();

        // Two separate asks of one block each while both allowed pieces wait for the writer.
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(peer, 1));
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(peer, 1));
        peer.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        scheduler.Tell(new PieceSchedulerActor.PieceVerified(first[0].Piece));

        var next = peer.ExpectMsg<PeerActor.AssignBlocks>().Blocks;
        Assert.Equal(2, next.Count);
        Assert.All(next, b => Assert.DoesNotContain(b.Piece, first.Select(f => f.Piece)));
    }

    [Fact]
    public void A_resync_ask_replaces_the_asks_before_it()
    {
        var (scheduler, peer, first) = SchedulerAtTheInFlightCap();

        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(peer, 3));
        scheduler.Tell(new PieceSchedulerActor.RequestBlocks(peer, 1, Resync: true));
        scheduler.Tell(new PieceSchedulerActor.PieceVerified(first[0].Piece));

        Assert.Single(peer.ExpectMsg<PeerActor.AssignBlocks>().Blocks);
        peer.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }
}
