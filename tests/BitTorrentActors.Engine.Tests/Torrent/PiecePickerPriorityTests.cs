using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.Torrent;

/// <summary>Piece priorities in the picker: 0 is never fetched, higher classes first, rarest-first within one.</summary>
public class PiecePickerPriorityTests
{
    private const int Block = 16 * 1024;

    private static PiecePicker<string> Picker(int pieces, int pieceSize = 2 * Block, int seed = 1) =>
        new(pieces, _ => pieceSize, Block, new Random(seed));

    private static Bitfield Has(int count, params int[] pieces)
    {
        var bits = new Bitfield(count);
        foreach (var p in pieces)
        {
            bits.Set(p);
        }
        return bits;
    }

    private static List<int> PiecesOf(IEnumerable<BlockRequest> blocks) => blocks.Select(b => b.Piece).Distinct().ToList();

    [Fact]
    public void Unwanted_pieces_are_never_picked_and_do_not_make_a_peer_interesting()
    {
        var picker = Picker(4);
        picker.SetPiecePriorities([0, 2, 0, 2]);
        Assert.False(picker.SetPeerPieces("a", Has(4, 0, 2)));
        Assert.Empty(picker.Pick("a", 10));
        Assert.True(picker.SetPeerPieces("b", Bitfield.AllSet(4)));

        var picked = picker.Pick("b", 100);

        Assert.Equal([1, 3], PiecesOf(picked).Order());
        Assert.False(picker.PeerHas("a", 0));
        Assert.True(picker.PeerHas("a", 3));
    }

    [Fact]
    public void Endgame_never_duplicates_blocks_of_unwanted_pieces()
    {
        var picker = Picker(2);
        picker.SetPeerPieces("a", Bitfield.AllSet(2));
        picker.SetPeerPieces("b", Bitfield.AllSet(2));
        var fromA = picker.Pick("a", 4);
        Assert.True(picker.InEndgame);
        picker.SetPiecePriorities([2, 0]);

        var fromB = picker.Pick("b", 10);

        Assert.True(picker.InEndgame);
        Assert.Equal([0], PiecesOf(fromB));
        Assert.Subset(fromA.ToHashSet(), fromB.ToHashSet());
    }

    [Fact]
    public void Higher_classes_go_first_and_rarest_first_holds_within_a_class()
    {
        var picker = Picker(6);
        // Availability: piece 0 and 3 are rarest (1 peer), the others have 2.
        picker.SetPeerPieces("a", Bitfield.AllSet(6));
        picker.SetPeerPieces("b", Has(6, 1, 2, 4, 5));
        picker.SetPiecePriorities([1, 1, 3, 2, 2, 3]);
        var order = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            var blocks = picker.Pick("a", 2);
            order.Add(PiecesOf(blocks).Single());
        }
        // High {2, 5} (equally rare: either order), normal {3 rarer than 4}, low {0 rarer than 1}.
        Assert.Equal([2, 5], order[..2].Order());
        Assert.Equal([3, 4, 0, 1], order[2..]);
    }

    [Fact]
    public void A_started_piece_that_becomes_unwanted_keeps_its_requests_and_gets_no_new_ones()
    {
        var picker = Picker(2, pieceSize: 4 * Block);
        picker.SetPeerPieces("a", Bitfield.AllSet(2));
        picker.SetPeerPieces("b", Bitfield.AllSet(2));
        var first = picker.Pick("a", 2);
        var piece = first[0].Piece;
        var others = new byte[2];
        others[1 - piece] = 2;

        var (interesting, uninteresting) = picker.SetPiecePriorities(others);

        Assert.Empty(interesting);
        Assert.Empty(uninteresting);
        Assert.Equal(first, picker.AssignedTo("a"));
        Assert.DoesNotContain(picker.Pick("b", 10), b => b.Piece == piece);
        // The in-flight blocks may still arrive; afterwards nothing of the piece is kept in progress.
        foreach (var block in first)
        {
            picker.BlockReceived("a", block);
        }
        Assert.Equal(1, picker.PiecesInProgress);
    }

    [Fact]
    public void Released_blocks_of_an_unwanted_piece_are_not_handed_out_again_and_wanting_it_again_restarts_it()
    {
        var picker = Picker(1, pieceSize: 4 * Block);
        picker.SetPeerPieces("a", Bitfield.AllSet(1));
        var taken = picker.Pick("a", 2);
        picker.SetPiecePriorities([0]);
        picker.ReleaseAll("a");
        Assert.Equal(0, picker.PiecesInProgress);
        Assert.Empty(picker.Pick("a", 10));

        picker.SetPiecePriorities([2]);

        Assert.Equal(4, picker.Pick("a", 10).Count);
        Assert.Equal(1, picker.PiecesInProgress);
    }

    [Fact]
    public void Changing_priorities_reports_the_peers_whose_interest_changed()
    {
        var picker = Picker(3);
        picker.SetPeerPieces("a", Has(3, 0));
        picker.SetPeerPieces("b", Has(3, 1));

        var (interesting, uninteresting) = picker.SetPiecePriorities([0, 2, 2]);
        Assert.Empty(interesting);
        Assert.Equal(["a"], uninteresting);
        Assert.False(picker.Wants("a"));

        (interesting, uninteresting) = picker.SetPiecePriorities([3, 0, 2]);
        Assert.Equal(["a"], interesting);
        Assert.Equal(["b"], uninteresting);
    }

    [Fact]
    public void With_only_wanted_pieces_left_verified_the_picker_is_done_and_endgame_waits_for_wanted_ones_only()
    {
        var picker = Picker(3);
        picker.SetPiecePriorities([2, 0, 2]);
        picker.SetPeerPieces("a", Bitfield.AllSet(3));
        var blocks = picker.Pick("a", 2);
        Assert.False(picker.InEndgame);
        blocks = [.. blocks, .. picker.Pick("a", 2)];
        Assert.True(picker.InEndgame);
        Assert.Equal([0, 2], PiecesOf(blocks).Order());
        Assert.Empty(picker.PieceVerified(0));
        Assert.False(picker.WantedComplete);
        Assert.Equal(["a"], picker.PieceVerified(2));
        Assert.True(picker.WantedComplete);
        Assert.False(picker.IsComplete);
        Assert.Empty(picker.Pick("a", 10));
        // A piece that arrives although unwanted (requested before) is taken, and changes nobody's interest.
        Assert.Empty(picker.PieceVerified(1));
        Assert.True(picker.IsComplete);
    }

    [Fact]
    public void Priorities_of_the_wrong_length_are_refused()
    {
        var picker = Picker(3);
        Assert.Throws<ArgumentException>(() => picker.SetPiecePriorities([2, 2]));
    }
}
