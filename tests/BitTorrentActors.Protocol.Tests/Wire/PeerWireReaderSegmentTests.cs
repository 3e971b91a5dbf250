using System.Buffers;
using System.Runtime.InteropServices;
using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Protocol.Tests.Wire.WireTestData;

namespace BitTorrentActors.Protocol.Tests.Wire;

/// <summary>Frames arriving in pieces, and the promise that payloads are slices of the input, not copies.</summary>
public class PeerWireReaderSegmentTests
{
    [Theory]
    [MemberData(nameof(MessageVectors.Names), MemberType = typeof(MessageVectors))]
    public void Every_partial_arrival_needs_more_data_until_the_frame_is_complete(string name)
    {
        var vector = MessageVectors.Get(name);
        var wire = Hex(vector.Hex);
        var reader = new PeerWireReader(pieceCount: 10);

        for (var arrived = 0; arrived < wire.Length; arrived++)
        {
            // One segment per byte puts a segment boundary at every possible offset of the partial frame.
            var buffer = OneSegmentPerByte(wire[..arrived]);
            var original = buffer;
            Assert.Equal(PeerWireReadStatus.NeedMoreData, reader.TryRead(ref buffer, out _, out _));
            Assert.Equal(original, buffer);
        }

        var complete = OneSegmentPerByte(wire);
        Assert.Equal(PeerWireReadStatus.Complete, reader.TryRead(ref complete, out var frame, out _));
        Assert.True(complete.IsEmpty);
        PeerWireReaderTests.AssertMatches(vector, frame);
    }

    [Theory]
    [MemberData(nameof(MessageVectors.Names), MemberType = typeof(MessageVectors))]
    public void Any_single_segment_boundary_reads_the_same_frame(string name)
    {
        var vector = MessageVectors.Get(name);
        var wire = Hex(vector.Hex);
        var reader = new PeerWireReader(pieceCount: 10);

        for (var cut = 1; cut < wire.Length; cut++)
        {
            var buffer = Split(wire, cut);
            Assert.False(buffer.IsSingleSegment);
            Assert.Equal(PeerWireReadStatus.Complete, reader.TryRead(ref buffer, out var frame, out _));
            Assert.True(buffer.IsEmpty);
            PeerWireReaderTests.AssertMatches(vector, frame);
        }
    }

    [Fact]
    public void Any_pair_of_boundaries_in_a_piece_followed_by_a_frame()
    {
        var wire = Hex("0000000C 07 00000002 00008000 AABBCC 00000005 04 0000002A");
        var reader = new PeerWireReader();

        for (var first = 1; first < wire.Length; first++)
        {
            for (var second = first + 1; second < wire.Length; second++)
            {
                var buffer = Split(wire, first, second);
                Assert.Equal(PeerWireReadStatus.Complete, reader.TryRead(ref buffer, out var piece, out _));
                Assert.Equal(PeerMessageKind.Piece, piece.Kind);
                Assert.Equal("AABBCC", ToHex(piece.Payload));
                Assert.Equal(PeerWireReadStatus.Complete, reader.TryRead(ref buffer, out var have, out _));
                Assert.Equal(PeerMessageKind.Have, have.Kind);
                Assert.Equal(42u, have.Index);
                Assert.True(buffer.IsEmpty);
            }
        }
    }

    [Fact]
    public void Oversized_prefix_split_across_segments_is_rejected_without_the_body()
    {
        var buffer = Split(Hex("FFFFFFFF"), 1, 2, 3);
        Assert.Equal(PeerWireReadStatus.ProtocolError, new PeerWireReader().TryRead(ref buffer, out _, out var error));
        Assert.Equal(PeerWireErrorKind.FrameTooLong, error.Kind);
    }

    [Fact]
    public void Piece_payload_is_the_input_memory_not_a_copy()
    {
        // Junk before and the start of another frame after, to show the slice is exact on both ends.
        var array = Hex("EEEEEE 0000000C 07 00000002 00008000 AABBCC 00000001");
        var buffer = new ReadOnlySequence<byte>(array, 3, array.Length - 3);

        Assert.Equal(PeerWireReadStatus.Complete, new PeerWireReader().TryRead(ref buffer, out var frame, out _));

        Assert.True(frame.Payload.IsSingleSegment);
        Assert.True(MemoryMarshal.TryGetArray(frame.Payload.First, out var segment));
        Assert.Same(array, segment.Array);
        Assert.Equal(3 + 13, segment.Offset);
        Assert.Equal(3, segment.Count);
        Assert.Equal(4, buffer.Length);
    }

    [Fact]
    public void Full_block_across_segments_is_sliced_at_the_exact_positions()
    {
        var block = new byte[PeerWireLimits.DefaultMaxBlockLength];
        new Random(3).NextBytes(block);
        var wire = new byte[PeerWireWriter.PieceSize(block.Length)];
        PeerWireWriter.WritePiece(wire, 9, 0x10000, block);

        var original = Split(wire, 7, 4000, 9000, 16000);
        var buffer = original;
        Assert.Equal(PeerWireReadStatus.Complete, new PeerWireReader().TryRead(ref buffer, out var frame, out _));

        Assert.Equal(original.GetPosition(13), frame.Payload.Start);
        Assert.Equal(original.End, frame.Payload.End);
        Assert.Equal((uint)block.Length, frame.Length);
        Assert.Equal(block, frame.Payload.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Extended_and_bitfield_payloads_are_slices_too()
    {
        var array = Hex("00000005 14 03 010203 00000003 05 FFC0");
        var buffer = new ReadOnlySequence<byte>(array);
        var reader = new PeerWireReader(pieceCount: 10);

        reader.TryRead(ref buffer, out var extended, out _);
        reader.TryRead(ref buffer, out var bitfield, out _);

        Assert.True(MemoryMarshal.TryGetArray(extended.Payload.First, out var extSegment));
        Assert.Same(array, extSegment.Array);
        Assert.Equal(6, extSegment.Offset);
        Assert.Equal(3, extSegment.Count);
        Assert.True(MemoryMarshal.TryGetArray(bitfield.Payload.First, out var bitSegment));
        Assert.Same(array, bitSegment.Array);
        Assert.Equal(14, bitSegment.Offset);
        Assert.Equal(2, bitSegment.Count);
    }
}
