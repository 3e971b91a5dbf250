using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Protocol.Tests.Wire.WireTestData;

namespace BitTorrentActors.Protocol.Tests.Wire;

public class PeerWireWriterTests
{
    [Theory]
    [MemberData(nameof(MessageVectors.Names), MemberType = typeof(MessageVectors))]
    public void Writes_the_vector_byte_for_byte(string name)
    {
        var vector = MessageVectors.Get(name);
        var expected = Hex(vector.Hex);
        var buffer = new byte[expected.Length + 8];
        buffer.AsSpan().Fill(0xEE);

        var written = vector.Write(buffer);

        Assert.Equal(expected.Length, written);
        Assert.Equal(ToHex(expected), ToHex(buffer.AsSpan(0, written)));
        Assert.All(buffer[written..], b => Assert.Equal(0xEE, b));
    }

    [Theory]
    [MemberData(nameof(MessageVectors.Names), MemberType = typeof(MessageVectors))]
    public void Throws_when_the_destination_is_one_byte_short(string name)
    {
        var vector = MessageVectors.Get(name);
        var size = Hex(vector.Hex).Length;

        Assert.Throws<ArgumentException>(() => vector.Write(new byte[size - 1]));
    }

    [Fact]
    public void Size_constants_match_what_is_written()
    {
        var buffer = new byte[64];
        Assert.Equal(PeerWireWriter.KeepAliveSize, PeerWireWriter.WriteKeepAlive(buffer));
        Assert.Equal(PeerWireWriter.NoPayloadMessageSize, PeerWireWriter.WriteChoke(buffer));
        Assert.Equal(PeerWireWriter.HaveSize, PeerWireWriter.WriteHave(buffer, 1));
        Assert.Equal(PeerWireWriter.RequestSize, PeerWireWriter.WriteRequest(buffer, 1, 2, 3));
        Assert.Equal(PeerWireWriter.PortSize, PeerWireWriter.WritePort(buffer, 1));
        Assert.Equal(PeerWireWriter.PieceHeaderSize, PeerWireWriter.WritePieceHeader(buffer, 1, 2, 3));
        Assert.Equal(PeerWireWriter.ExtendedHeaderSize, PeerWireWriter.WriteExtendedHeader(buffer, 1, 3));
        Assert.Equal(PeerWireWriter.PieceSize(5), PeerWireWriter.WritePiece(buffer, 1, 2, new byte[5]));
        Assert.Equal(PeerWireWriter.ExtendedSize(5), PeerWireWriter.WriteExtended(buffer, 1, new byte[5]));
        Assert.Equal(PeerWireWriter.BitfieldSize(new Bitfield(20)), PeerWireWriter.WriteBitfield(buffer, new Bitfield(20)));
    }

    [Fact]
    public void Piece_header_announces_the_block_that_follows()
    {
        var buffer = new byte[13];

        Assert.Equal(13, PeerWireWriter.WritePieceHeader(buffer, 5, 0x4000, 16384));

        // length = 9 + 16384 = 0x4009
        Assert.Equal("00004009 07 00000005 00004000".Replace(" ", string.Empty, StringComparison.Ordinal), ToHex(buffer));
    }

    [Fact]
    public void Extended_header_announces_the_payload_that_follows()
    {
        var buffer = new byte[6];

        Assert.Equal(6, PeerWireWriter.WriteExtendedHeader(buffer, 2, 300));

        // length = 2 + 300 = 0x12E
        Assert.Equal("0000012E1402", ToHex(buffer));
    }

    [Fact]
    public void Bitfield_of_17_pieces_has_a_three_byte_body()
    {
        var bitfield = Bitfield.AllSet(17);
        var buffer = new byte[PeerWireWriter.BitfieldSize(bitfield)];

        Assert.Equal(8, PeerWireWriter.WriteBitfield(buffer, bitfield));
        Assert.Equal("0000000405FFFF80", ToHex(buffer));
    }

    [Fact]
    public void Negative_lengths_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerWireWriter.WritePieceHeader(new byte[13], 0, 0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerWireWriter.WriteExtendedHeader(new byte[6], 0, -1));
    }
}
