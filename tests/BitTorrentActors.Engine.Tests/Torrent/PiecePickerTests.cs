using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.Torrent;

public class PiecePickerTests
{
    private const int Block = 16 * 1024;

    private static PiecePicker<string> Picker(int pieces, int pieceSize = 4 * Block, long? total = null, int seed = 1)
    {
        var totalLength = total ?? (long)pieces * pieceSize;
        return new PiecePicker<string>(pieces,
            p => (int)Math.Min(pieceSize, totalLength - (long)p * pieceSize), Block, new Random(seed));
    }

    private static Bitfield Has(int count, params int[] pieces)
    {
        var bits = new Bitfield(count);
        foreach (var p in pieces)
        {
            bits.Set(p);
        }
        return bits;
    }

    [Fact]
    public void Rarest_piece_is_started_first()
    {
        var picker = Picker(4);
        picker.SetPeerPieces("a", Bitfield.AllSet(4));
        picker.SetPeerPieces("b", Has(4, 0, 1, 2));
        picker.SetPeerPieces("c", Has(4, 0, 1));
        // availability: 0->3, 1->3, 2->2, 3->1
        var first = picker.Pick("a", 4);
        Assert.All(first, b => Assert.Equal(3, b.Piece));
        var second = picker.Pick("a", 4);
        Assert.All(second, b => Assert.Equal(2, b.Piece));
    }

    [Fact]
    public void Equally_rare_pieces_are_chosen_at_random()
    {
        var chosen = new HashSet<int>();
        for (var seed = 0; seed < 40; seed++)
        {
            var picker = Picker(8, seed: seed);
            picker.SetPeerPieces("a", Bitfield.AllSet(8));
            chosen.Add(picker.Pick("a", 1)[0].Piece);
        }
        Assert.True(chosen.Count >= 4, $"only pieces {string.Join(",", chosen)} were ever chosen");
    }

    [Fact]
    public void Started_pieces_are_finished_before_new_ones()
    {
        var picker = Picker(10);
        picker.SetPeerPieces("a", Bitfield.AllSet(10));
        picker.SetPeerPieces("b", Bitfield.AllSet(10));
        var started = picker.Pick("a", 1).Single();
        var next = picker.Pick("b", 3);
        Assert.All(next, b => Assert.Equal(started.Piece, b.Piece));
        Assert.DoesNotContain(started, next);
    }

    [Fact]
    public void Blocks_cover_the_piece_and_the_last_block_is_short()
    {
        // 2 pieces of 64 KiB, total 100 KiB: the last piece is 36 KiB = 16 + 16 + 4.
        var picker = Picker(2, total: 100 * 1024);
        picker.SetPeerPieces("a", Has(2, 1));
        var blocks = picker.Pick("a", 10);
        Assert.Equal([new(1, 0, Block), new(1, Block, Block), new(1, 2 * Block, 4 * 1024)], blocks);
    }

    [Fact]
    public void Verified_pieces_are_never_picked_and_interest_follows()
    {
        var picker = Picker(3);
        picker.MarkVerified(Has(3, 0, 1).AsSpan());
        Assert.False(picker.SetPeerPieces("a", Has(3, 0, 1)));
        Assert.Empty(picker.Pick("a", 10));
        Assert.True(picker.SetPeerPieces("b", Bitfield.AllSet(3)));
        Assert.All(picker.Pick("b", 10), b => Assert.Equal(2, b.Piece));
    }

    [Fact]
    public void A_departed_peer_returns_its_blocks_to_the_pool()
    {
        var picker = Picker(1);
        picker.SetPeerPieces("a", Bitfield.AllSet(1));
        picker.SetPeerPieces("b", Bitfield.AllSet(1));
        var taken = picker.Pick("a", 2);
        picker.RemovePeer("a");
        Assert.Equal(1, picker.Availability(0));
        var retaken = picker.Pick("b", 4);
        Assert.Subset(retaken.ToHashSet(), taken.ToHashSet());
        Assert.Equal(4, retaken.Count);
    }

    [Fact]
    public void Choke_releases_everything_assigned()
    {
        var picker = Picker(2);
        picker.SetPeerPieces("a", Bitfield.AllSet(2));
        var taken = picker.Pick("a", 4);
        picker.SetPeerPieces("b", Has(2, taken[0].Piece));
        Assert.False(picker.InEndgame);
        Assert.Empty(picker.Pick("b", 4));
        picker.ReleaseAll("a");
        Assert.Empty(picker.AssignedTo("a"));
        Assert.Equal(taken, picker.Pick("b", 4));
    }

    [Fact]
    public void Endgame_duplicates_the_last_blocks_and_names_peers_to_cancel()
    {
        var picker = Picker(1, pieceSize: 2 * Block);
        picker.SetPeerPieces("a", Bitfield.AllSet(1));
        picker.SetPeerPieces("b", Bitfield.AllSet(1));
        var fromA = picker.Pick("a", 2);
        Assert.True(picker.InEndgame);
        var fromB = picker.Pick("b", 2);
        Assert.Equal(fromA, fromB);
        Assert.Equal(["b"], picker.BlockReceived("a", fromA[0]));
        Assert.Empty(picker.BlockReceived("b", fromA[0]));
        Assert.Single(picker.AssignedTo("b"));
        Assert.DoesNotContain(fromA[0], picker.Pick("a", 5));
    }

    [Fact]
    public void Endgame_does_not_start_while_unrequested_pieces_remain()
    {
        var picker = Picker(2, pieceSize: 2 * Block);
        picker.SetPeerPieces("a", Bitfield.AllSet(2));
        picker.Pick("a", 2);
        Assert.False(picker.InEndgame);
    }

    [Fact]
    public void A_hash_failure_returns_the_whole_piece()
    {
        var picker = Picker(1, pieceSize: 2 * Block);
        picker.SetPeerPieces("a", Bitfield.AllSet(1));
        var blocks = picker.Pick("a", 2);
        foreach (var b in blocks)
        {
            picker.BlockReceived("a", b);
        }
        Assert.Empty(picker.Pick("a", 2));
        picker.PieceFailed(0);
        Assert.Equal(blocks, picker.Pick("a", 2));
    }

    [Fact]
    public void Verification_reports_peers_with_nothing_left_to_offer()
    {
        var picker = Picker(2);
        picker.SetPeerPieces("a", Has(2, 0));
        picker.SetPeerPieces("b", Bitfield.AllSet(2));
        Assert.Equal(["a"], picker.PieceVerified(0));
        Assert.False(picker.Wants("a"));
        Assert.True(picker.Wants("b"));
        Assert.Empty(picker.PieceVerified(0));
    }

    [Fact]
    public void Have_messages_raise_availability_and_interest()
    {
        var picker = Picker(3);
        Assert.False(picker.SetPeerPieces("a", Bitfield.None(3)));
        Assert.True(picker.PeerHas("a", 2));
        Assert.Equal(1, picker.Availability(2));
        Assert.All(picker.Pick("a", 10), b => Assert.Equal(2, b.Piece));
    }

    [Fact]
    public void Rarest_first_over_many_pieces_is_fast_enough_to_not_matter()
    {
        const int pieces = 10_000;
        var picker = Picker(pieces);
        var random = new Random(7);
        for (var p = 0; p < 50; p++)
        {
            var bits = new Bitfield(pieces);
            for (var i = 0; i < pieces; i++)
            {
                if (random.Next(2) == 0)
                {
                    bits.Set(i);
                }
            }
            picker.SetPeerPieces("peer" + p, bits);
        }
        var total = 0;
        for (var round = 0; round < 200; round++)
        {
            total += picker.Pick("peer" + (round % 50), 16).Count;
        }
        Assert.Equal(200 * 16, total);
        Assert.Equal(800, picker.PiecesInProgress);
    }

    [Fact]
    public void No_more_pieces_start_than_the_in_flight_cap_until_one_is_verified()
    {
        var picker = new PiecePicker<string>(10, _ => 2 * Block, Block, new Random(1), maxInProgress: 3);
        picker.SetPeerPieces("a", Bitfield.AllSet(10));
        var first = picker.Pick("a", 100);
        Assert.Equal(6, first.Count);
        Assert.Equal(3, first.Select(b => b.Piece).Distinct().Count());
        Assert.False(picker.InEndgame);
        foreach (var block in first)
        {
            picker.BlockReceived("a", block);
        }
        // Received but not yet verified pieces still hold memory in the writer: still no new piece.
        Assert.Empty(picker.Pick("a", 100));
        picker.PieceVerified(first[0].Piece);
        Assert.Equal(2, picker.Pick("a", 100).Count);
    }
}
