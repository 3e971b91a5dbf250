using System.Net;
using BitTorrentActors.Engine.Metadata;
using BitTorrentActors.Protocol.Extensions;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Metadata;

/// <summary>Every rule of the BEP 9 fetch state: sizes, the request schedule, bad pieces, rejects, the hash check.</summary>
public sealed class MetadataAssemblerTests
{
    private static readonly IPEndPoint A = new(IPAddress.Loopback, 1001);
    private static readonly IPEndPoint B = new(IPAddress.Loopback, 1002);
    private static readonly IPEndPoint C = new(IPAddress.Loopback, 1003);
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(100);

    /// <summary>Three pieces: 16 KiB, 16 KiB and 1,000 bytes.</summary>
    private static readonly byte[] Info = TestSupport.TestTorrents.Content((2 * MetadataMessage.PieceSize) + 1000, seed: 9);

    private static MetadataAssembler New() => new(InfoHash.Compute(Info), new Random(1));

    private static ReadOnlySpan<byte> Piece(byte[] metadata, int piece) =>
        metadata.AsSpan(piece * MetadataMessage.PieceSize, MetadataMessage.PieceLength(metadata.Length, piece));

    [Theory]
    [InlineData(0L)]
    [InlineData(-5L)]
    [InlineData((30L * 1024 * 1024) + 1)]
    [InlineData(1L << 31)]
    public void A_size_over_the_cap_or_not_positive_cuts_the_peer_off_and_allocates_nothing(long size)
    {
        var assembler = New();

        var outcome = assembler.Offer(A, size, T0);

        Assert.Equal(MetadataVerdict.CutOff, outcome.Verdict);
        Assert.Null(assembler.Size);
        Assert.Equal(0, assembler.BufferedBytes);
        Assert.Null(assembler.Next(A, T0));
    }

    [Fact]
    public void The_first_accepted_size_allocates_the_buffer_and_sets_the_piece_count()
    {
        var assembler = New();
        Assert.Equal(0, assembler.BufferedBytes);

        Assert.Equal(MetadataVerdict.Ok, assembler.Offer(A, Info.Length, T0).Verdict);

        Assert.Equal(Info.Length, assembler.Size);
        Assert.Equal(Info.Length, assembler.BufferedBytes);
        Assert.Equal(3, assembler.PiecesTotal);
        Assert.Equal(1, assembler.PeersOffering);
    }

    [Fact]
    public void A_peer_whose_size_disagrees_is_held_off_while_the_others_go_on()
    {
        var assembler = New();
        assembler.Offer(A, Info.Length, T0);

        var outcome = assembler.Offer(B, Info.Length + 1, T0);

        Assert.Equal(MetadataVerdict.HeldOff, outcome.Verdict);
        Assert.Null(assembler.Next(B, T0));
        Assert.Equal(0, assembler.Next(A, T0));
    }

    [Fact]
    public void A_peer_without_a_size_is_asked_once_another_peer_told_it()
    {
        var assembler = New();
        Assert.Equal(MetadataVerdict.Ignored, assembler.Offer(A, null, T0).Verdict);
        Assert.Null(assembler.Next(A, T0));

        assembler.Offer(B, Info.Length, T0);

        Assert.Equal(0, assembler.Next(A, T0));
    }

    [Fact]
    public void At_most_two_requests_are_out_per_peer()
    {
        var assembler = New();
        assembler.Offer(A, Info.Length, T0);

        Assert.Equal(0, assembler.Next(A, T0));
        Assert.Equal(1, assembler.Next(A, T0));
        Assert.Null(assembler.Next(A, T0));
        Assert.Equal(2, assembler.Outstanding(A));

        Assert.Equal(MetadataVerdict.Ok, assembler.Received(A, 0, Info.Length, Piece(Info, 0), T0).Verdict);
        Assert.Equal(2, assembler.Next(A, T0));
    }

    [Fact]
    public void Several_peers_are_asked_for_different_pieces_at_once()
    {
        var assembler = New();
        assembler.Offer(A, Info.Length, T0);
        assembler.Offer(B, Info.Length, T0);
        assembler.Offer(C, Info.Length, T0);

        int?[] asked = [assembler.Next(A, T0), assembler.Next(B, T0), assembler.Next(C, T0)];

        Assert.Equal([0, 1, 2], asked);
    }

    [Fact]
    public void A_piece_is_not_asked_of_another_peer_within_three_seconds_unless_its_peer_went_away()
    {
        var single = TestSupport.TestTorrents.Content(500, seed: 3);
        var assembler = new MetadataAssembler(InfoHash.Compute(single));
        assembler.Offer(A, single.Length, T0);
        assembler.Offer(B, single.Length, T0);
        Assert.Equal(0, assembler.Next(A, T0));

        Assert.Null(assembler.Next(B, T0 + TimeSpan.FromSeconds(2.9)));
        Assert.Equal(0, assembler.Next(B, T0 + MetadataAssembler.RerequestInterval));

        var other = new MetadataAssembler(InfoHash.Compute(single));
        other.Offer(A, single.Length, T0);
        other.Offer(B, single.Length, T0);
        Assert.Equal(0, other.Next(A, T0));
        other.PeerGone(A);
        Assert.Equal(0, other.Next(B, T0 + TimeSpan.FromSeconds(0.1)));
    }

    [Fact]
    public void A_piece_of_the_wrong_length_cuts_that_peer_off()
    {
        var assembler = New();
        assembler.Offer(A, Info.Length, T0);
        assembler.Offer(B, Info.Length, T0);
        assembler.Next(A, T0);

        var outcome = assembler.Received(A, 0, Info.Length, new byte[20 * 1024], T0);

        Assert.Equal(MetadataVerdict.CutOff, outcome.Verdict);
        Assert.Equal(0, assembler.PiecesReceived);
        // Its request went with it: the piece goes to B at once.
        Assert.Equal(0, assembler.Next(B, T0));
        Assert.Null(assembler.Next(A, T0));
    }

    [Fact]
    public void A_short_last_piece_must_have_exactly_its_length()
    {
        var assembler = New();
        assembler.Offer(A, Info.Length, T0);

        var outcome = assembler.Received(A, 2, Info.Length, new byte[MetadataMessage.PieceSize], T0);

        Assert.Equal(MetadataVerdict.CutOff, outcome.Verdict);
    }

    [Fact]
    public void A_wrong_total_size_or_piece_index_cuts_that_peer_off()
    {
        var assembler = New();
        assembler.Offer(A, Info.Length, T0);
        assembler.Offer(B, Info.Length, T0);

        Assert.Equal(MetadataVerdict.CutOff, assembler.Received(A, 0, Info.Length + 7, Piece(Info, 0), T0).Verdict);
        Assert.Equal(MetadataVerdict.CutOff, assembler.Received(B, 3, Info.Length, new byte[10], T0).Verdict);
        Assert.Equal(0, assembler.PeersOffering);
    }

    [Fact]
    public void A_reject_holds_the_peer_off_for_a_minute()
    {
        var assembler = New();
        assembler.Offer(A, Info.Length, T0);
        assembler.Offer(B, Info.Length, T0);
        Assert.Equal(0, assembler.Next(A, T0));

        Assert.Equal(MetadataVerdict.HeldOff, assembler.Rejected(A, 0, T0).Verdict);

        Assert.Equal(0, assembler.Outstanding(A));
        Assert.Null(assembler.Next(A, T0 + TimeSpan.FromSeconds(59)));
        // The rejected piece is free for another peer at once.
        Assert.Equal(0, assembler.Next(B, T0));
        Assert.NotNull(assembler.Next(A, T0 + MetadataAssembler.RejectHoldOff));
    }

    [Fact]
    public void A_request_unanswered_for_ten_seconds_counts_as_a_reject()
    {
        var assembler = New();
        assembler.Offer(A, Info.Length, T0);
        assembler.Next(A, T0);

        Assert.Empty(assembler.ExpireRequests(T0 + TimeSpan.FromSeconds(9.9)));
        var expired = assembler.ExpireRequests(T0 + MetadataAssembler.RequestTimeout);

        Assert.Equal([A], expired);
        Assert.Equal(0, assembler.Outstanding(A));
        Assert.NotNull(assembler.HeldUntil(A, T0 + MetadataAssembler.RequestTimeout));
    }

    [Fact]
    public void The_pieces_of_several_peers_assemble_into_the_verified_metadata()
    {
        var assembler = New();
        assembler.Offer(A, Info.Length, T0);
        assembler.Offer(B, Info.Length, T0);
        var a = assembler.Next(A, T0)!.Value;
        var b = assembler.Next(B, T0)!.Value;
        var c = assembler.Next(A, T0)!.Value;

        Assert.Equal(MetadataVerdict.Ok, assembler.Received(A, a, Info.Length, Piece(Info, a), T0).Verdict);
        Assert.Equal(MetadataVerdict.Ok, assembler.Received(B, b, Info.Length, Piece(Info, b), T0).Verdict);
        Assert.Equal(2, assembler.PiecesReceived);
        var last = assembler.Received(A, c, Info.Length, Piece(Info, c), T0);

        Assert.Equal(MetadataVerdict.Complete, last.Verdict);
        Assert.True(assembler.IsComplete);
        Assert.Equal(Info, assembler.Metadata.ToArray());
        Assert.Null(assembler.Next(B, T0));
    }

    [Fact]
    public void A_piece_received_twice_counts_once()
    {
        var assembler = New();
        assembler.Offer(A, Info.Length, T0);

        assembler.Received(A, 0, Info.Length, Piece(Info, 0), T0);
        var again = assembler.Received(A, 0, Info.Length, Piece(Info, 0), T0);

        Assert.Equal(MetadataVerdict.Ignored, again.Verdict);
        Assert.Equal(1, assembler.PiecesReceived);
    }

    [Fact]
    public void A_metadata_failing_the_hash_holds_off_every_contributor_and_starts_again()
    {
        var assembler = New();
        var forged = (byte[])Info.Clone();
        forged[^1] ^= 0xFF;
        assembler.Offer(A, Info.Length, T0);
        assembler.Offer(B, Info.Length, T0);
        assembler.Offer(C, Info.Length, T0);
        assembler.Received(A, 0, Info.Length, Piece(forged, 0), T0);
        assembler.Received(A, 1, Info.Length, Piece(forged, 1), T0);

        var outcome = assembler.Received(B, 2, Info.Length, Piece(forged, 2), T0);

        Assert.Equal(MetadataVerdict.HashFailed, outcome.Verdict);
        Assert.False(assembler.IsComplete);
        Assert.Equal(0, assembler.PiecesReceived);
        var heldA = assembler.HeldUntil(A, T0);
        var heldB = assembler.HeldUntil(B, T0);
        Assert.NotNull(heldA);
        Assert.NotNull(heldB);
        Assert.InRange(heldA!.Value - T0, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(70));
        Assert.Null(assembler.HeldUntil(C, T0));
        Assert.Null(assembler.Next(A, T0));

        // C, who sent nothing, fetches everything again from piece 0, and the honest bytes complete it.
        Assert.Equal(0, assembler.Next(C, T0));
        Assert.Equal(1, assembler.Next(C, T0));
        assembler.Received(C, 0, Info.Length, Piece(Info, 0), T0);
        assembler.Received(C, 1, Info.Length, Piece(Info, 1), T0);
        Assert.Equal(2, assembler.Next(C, T0));
        Assert.Equal(MetadataVerdict.Complete, assembler.Received(C, 2, Info.Length, Piece(Info, 2), T0).Verdict);
        Assert.Equal(Info, assembler.Metadata.ToArray());
    }

    [Fact]
    public void An_answer_arriving_after_a_failed_hash_reset_the_fetch_does_not_cut_its_honest_sender_off()
    {
        var single = TestSupport.TestTorrents.Content(500, seed: 5);
        var assembler = new MetadataAssembler(InfoHash.Compute(single));
        assembler.Offer(A, single.Length, T0);
        assembler.Offer(B, single.Length, T0);
        Assert.Equal(0, assembler.Next(A, T0));
        Assert.Equal(0, assembler.Next(B, T0 + MetadataAssembler.RerequestInterval));
        Assert.Equal(MetadataVerdict.HashFailed, assembler.Received(A, 0, single.Length, new byte[single.Length], T0).Verdict);

        // B's answer to the request made before the reset: ignored (no size is being fetched), B stays usable.
        Assert.Equal(MetadataVerdict.Ignored, assembler.Received(B, 0, single.Length, single, T0).Verdict);
        Assert.Equal(0, assembler.Next(B, T0 + TimeSpan.FromSeconds(4)));
        Assert.Equal(MetadataVerdict.Complete, assembler.Received(B, 0, single.Length, single, T0).Verdict);
    }

    [Fact]
    public void A_single_piece_metadata_failing_the_hash_holds_its_sole_sender_off_five_minutes()
    {
        var single = TestSupport.TestTorrents.Content(500, seed: 4);
        var assembler = new MetadataAssembler(InfoHash.Compute(single));
        assembler.Offer(A, single.Length, T0);

        var outcome = assembler.Received(A, 0, single.Length, new byte[single.Length], T0);

        Assert.Equal(MetadataVerdict.HashFailed, outcome.Verdict);
        Assert.Equal(T0 + MetadataAssembler.SoleContributorHoldOff, assembler.HeldUntil(A, T0));
    }

    [Fact]
    public void After_a_failed_hash_the_size_is_chosen_again_so_a_liars_size_does_not_stick()
    {
        var assembler = New();
        // A lies about the size (one piece), the honest B is held off for disagreeing.
        assembler.Offer(A, 100, T0);
        Assert.Equal(MetadataVerdict.HeldOff, assembler.Offer(B, Info.Length, T0).Verdict);
        Assert.Equal(MetadataVerdict.HashFailed, assembler.Received(A, 0, 100, new byte[100], T0).Verdict);

        Assert.Null(assembler.Size);
        Assert.Equal(0, assembler.Next(B, T0));
        Assert.Equal(Info.Length, assembler.Size);
    }
}
