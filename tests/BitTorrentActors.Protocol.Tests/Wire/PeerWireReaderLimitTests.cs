using System.Buffers;
using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Protocol.Tests.Wire.ReaderAssert;
using static BitTorrentActors.Protocol.Tests.Wire.WireTestData;

namespace BitTorrentActors.Protocol.Tests.Wire;

/// <summary>Limits, malformed frames and unknown ids.</summary>
public class PeerWireReaderLimitTests
{
    [Theory]
    [InlineData("00100003")]
    [InlineData("7FFFFFFF")]
    [InlineData("80000000")]
    [InlineData("FFFFFFFF")]
    [InlineData("FFFFFFFF 07")]
    public void Oversized_and_negative_prefixes_are_rejected_from_the_prefix_alone(string hex)
    {
        AssertProtocolError(new PeerWireReader(), hex, PeerWireErrorKind.FrameTooLong);
    }

    [Fact]
    public void The_largest_legal_prefix_waits_for_its_body()
    {
        // Default limits: the largest message is an extended one, 2 + 1 MiB.
        var reader = new PeerWireReader();
        Assert.Equal(0x100002u, reader.MaxFrameLength);
        AssertNeedMoreData(reader, "00100002");
        AssertNeedMoreData(reader, "00100002 14");
    }

    [Fact]
    public void Frame_limit_follows_the_configured_limits()
    {
        var limits = new PeerWireLimits { MaxBlockLength = 16384, MaxExtendedMessageLength = 100, MaxBitfieldLength = 50 };
        var reader = new PeerWireReader(limits);

        Assert.Equal(9u + 16384, reader.MaxFrameLength);
        AssertNeedMoreData(reader, "00004009");
        AssertProtocolError(reader, "0000400A", PeerWireErrorKind.FrameTooLong);

        // Once the piece count is known, a bitfield larger than the block limit becomes the largest message.
        reader.PieceCount = 200_000;
        Assert.Equal(1u + 25_000, reader.MaxFrameLength);
    }

    [Fact]
    public void Piece_over_the_block_limit_is_rejected_from_the_header()
    {
        var reader = new PeerWireReader();
        AssertProtocolError(reader, "0000400A 07", PeerWireErrorKind.BlockTooLong);
        AssertNeedMoreData(reader, "00004009 07");
    }

    [Theory]
    [InlineData("00000002 00 00")]
    [InlineData("00000002 01 00")]
    [InlineData("00000002 02 00")]
    [InlineData("00000005 03 00000000")]
    [InlineData("00000004 04 000000")]
    [InlineData("00000006 04 0000000000")]
    [InlineData("0000000C 06 00000000 00000000 000000")]
    [InlineData("0000000E 06 00000000 00000000 00000000 00")]
    [InlineData("00000011 08 00000000 00000000 00000000 00000000")]
    [InlineData("00000002 09 00")]
    [InlineData("00000005 09 00000000")]
    [InlineData("00000001 0D")]
    [InlineData("00000002 0E 00")]
    [InlineData("00000005 0F 00000000")]
    [InlineData("0000000C 10 00000000 00000000 000000")]
    [InlineData("00000009 11 00000000 00000000")]
    public void Fixed_size_messages_with_the_wrong_length_are_rejected(string hex)
    {
        var error = AssertProtocolError(new PeerWireReader(), hex, PeerWireErrorKind.WrongMessageLength);

        // The decision is made on the header; the body is never needed.
        AssertProtocolError(new PeerWireReader(), hex.Replace(" ", string.Empty, StringComparison.Ordinal)[..10], PeerWireErrorKind.WrongMessageLength);
        Assert.Contains("expected", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00000001 07")]
    [InlineData("00000008 07 00000000 000000")]
    [InlineData("00000001 14")]
    public void Piece_and_extended_too_short_for_their_fields_are_rejected(string hex)
    {
        AssertProtocolError(new PeerWireReader(), hex, PeerWireErrorKind.MessageTooShort);
    }

    [Fact]
    public void Empty_piece_block_is_returned()
    {
        Assert.Equal(PeerWireReadStatus.Complete, Read(new PeerWireReader(), "00000009 07 00000001 00000002", out var frame, out _));
        Assert.Equal(PeerMessageKind.Piece, frame.Kind);
        Assert.Equal(0u, frame.Length);
        Assert.True(frame.Payload.IsEmpty);
    }

    [Theory]
    [InlineData("00000000", 0u)]
    [InlineData("00004001", 0x4001u)]
    [InlineData("FFFFFFFF", uint.MaxValue)]
    public void Request_lengths_are_returned_as_sent(string lengthHex, uint expected)
    {
        var reader = new PeerWireReader();
        foreach (var id in new[] { "06", "08", "10" })
        {
            Assert.Equal(PeerWireReadStatus.Complete, Read(reader, $"0000000D {id} 00000001 00000000 {lengthHex}", out var frame, out _));
            Assert.Equal(expected, frame.Length);
        }
    }

    [Fact]
    public void Extended_message_over_the_limit_is_rejected_from_the_header()
    {
        var reader = new PeerWireReader(new PeerWireLimits { MaxExtendedMessageLength = 10 });
        AssertProtocolError(reader, "0000000D 14", PeerWireErrorKind.ExtendedMessageTooLong);
        AssertNeedMoreData(reader, "0000000C 14");
    }

    [Theory]
    [InlineData("00000001 05")]
    [InlineData("00000002 05 C0")]
    [InlineData("00000004 05 C04000")]
    public void Bitfield_of_the_wrong_size_is_rejected(string hex)
    {
        AssertProtocolError(new PeerWireReader(pieceCount: 10), hex, PeerWireErrorKind.BitfieldWrongLength);
    }

    [Fact]
    public void Bitfield_of_the_wrong_size_is_rejected_from_the_header()
    {
        AssertProtocolError(new PeerWireReader(pieceCount: 1000), "00000080 05", PeerWireErrorKind.BitfieldWrongLength);
    }

    [Theory]
    [InlineData("00000003 05 C041", 10)]
    [InlineData("00000003 05 FFFF", 10)]
    [InlineData("00000002 05 01", 7)]
    [InlineData("00000003 05 0040", 9)]
    public void Bitfield_with_spare_bits_set_is_rejected(string hex, int pieces)
    {
        AssertProtocolError(new PeerWireReader(pieceCount: pieces), hex, PeerWireErrorKind.BitfieldSpareBitsSet);
    }

    [Theory]
    [InlineData("00000003 05 FFC0", 10)]
    [InlineData("00000003 05 FFFF", 16)]
    [InlineData("00000002 05 FE", 7)]
    public void Bitfield_of_the_right_size_is_accepted(string hex, int pieces)
    {
        Assert.Equal(PeerWireReadStatus.Complete, Read(new PeerWireReader(pieceCount: pieces), hex, out var frame, out _));
        Assert.Equal(PeerMessageKind.Bitfield, frame.Kind);
        Assert.NotNull(Bitfield.FromWire(frame.Payload.ToArray(), pieces));
    }

    [Fact]
    public void Bitfield_with_unknown_piece_count_is_only_bounded_by_the_max()
    {
        var reader = new PeerWireReader(new PeerWireLimits { MaxBitfieldLength = 4 });

        Assert.Equal(PeerWireReadStatus.Complete, Read(reader, "00000005 05 FFFFFFFF", out var frame, out _));
        Assert.Equal("FFFFFFFF", ToHex(frame.Payload));
        AssertProtocolError(reader, "00000006 05", PeerWireErrorKind.BitfieldWrongLength);

        reader.PieceCount = 25;
        AssertProtocolError(reader, "00000005 05 FFFFFFFF", PeerWireErrorKind.BitfieldSpareBitsSet);
        AssertProtocolError(reader, "00000003 05 FFFF", PeerWireErrorKind.BitfieldWrongLength);
    }

    [Theory]
    [InlineData("0A")]
    [InlineData("0B")]
    [InlineData("0C")]
    [InlineData("12")]
    [InlineData("15")]
    [InlineData("FF")]
    public void Unknown_ids_are_returned_as_unknown_and_skipped(string id)
    {
        var buffer = new ReadOnlySequence<byte>(Hex($"00000004 {id} 010203 00000001 01"));
        var reader = new PeerWireReader();

        Assert.Equal(PeerWireReadStatus.Complete, reader.TryRead(ref buffer, out var frame, out _));
        Assert.Equal(PeerMessageKind.Unknown, frame.Kind);
        Assert.Equal(Convert.FromHexString(id)[0], frame.MessageId);
        Assert.Equal("010203", ToHex(frame.Payload));

        Assert.Equal(PeerWireReadStatus.Complete, reader.TryRead(ref buffer, out frame, out _));
        Assert.Equal(PeerMessageKind.Unchoke, frame.Kind);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Unknown_id_without_body_is_returned()
    {
        Assert.Equal(PeerWireReadStatus.Complete, Read(new PeerWireReader(), "00000001 63", out var frame, out _));
        Assert.Equal(PeerMessageKind.Unknown, frame.Kind);
        Assert.Equal(0x63, frame.MessageId);
        Assert.True(frame.Payload.IsEmpty);
    }

    [Fact]
    public void Unknown_ids_are_still_bounded_by_the_frame_limit()
    {
        var reader = new PeerWireReader(new PeerWireLimits { MaxExtendedMessageLength = 100, MaxBitfieldLength = 100 });
        AssertProtocolError(reader, "0000400A 63", PeerWireErrorKind.FrameTooLong);
        AssertNeedMoreData(reader, "00004009 63");
    }

    [Fact]
    public void Error_formats_as_one_line()
    {
        var error = AssertProtocolError(new PeerWireReader(), "FFFFFFFF", PeerWireErrorKind.FrameTooLong);

        Assert.StartsWith("FrameTooLong: ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("4294967295", error.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.ToString());
    }

    [Fact]
    public void Invalid_configuration_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PeerWireReader(pieceCount: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PeerWireReader(new PeerWireLimits { MaxBlockLength = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PeerWireReader { PieceCount = -1 });
    }
}
