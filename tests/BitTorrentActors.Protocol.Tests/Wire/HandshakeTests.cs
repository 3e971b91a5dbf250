using System.Buffers;
using System.Text;
using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Protocol.Tests.Wire.WireTestData;

namespace BitTorrentActors.Protocol.Tests.Wire;

public class HandshakeTests
{
    // pstrlen | "BitTorrent protocol" | reserved (BEP 10 + BEP 6 + DHT) | info-hash 00..13 | "-BA0100-abcdefghijkl"
    private const string VectorHex =
        "13" +
        "426974546F7272656E742070726F746F636F6C" +
        "0000000000100005" +
        "000102030405060708090A0B0C0D0E0F10111213" +
        "2D424130313030 2D 6162636465666768696A6B6C";

    private static readonly byte[] InfoHash = Hex("000102030405060708090A0B0C0D0E0F10111213");
    private static readonly PeerId Peer = new(Encoding.ASCII.GetBytes("-BA0100-abcdefghijkl"));

    private const HandshakeReserved AllFlags =
        HandshakeReserved.ExtensionProtocol | HandshakeReserved.FastExtension | HandshakeReserved.Dht;

    [Fact]
    public void Writes_the_68_byte_vector()
    {
        var handshake = new Handshake(InfoHash, Peer, AllFlags);
        var buffer = new byte[80];

        Assert.Equal(68, handshake.WriteTo(buffer));
        Assert.Equal(ToHex(Hex(VectorHex)), ToHex(buffer.AsSpan(0, 68)));
        Assert.All(buffer[68..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void Reads_the_68_byte_vector()
    {
        var wire = Hex(VectorHex + "FFFF");

        var status = Handshake.TryRead(wire, out var handshake, out var consumed);

        Assert.Equal(HandshakeReadStatus.Complete, status);
        Assert.Equal(68, consumed);
        Assert.NotNull(handshake);
        Assert.Equal(ToHex(InfoHash), ToHex(handshake.InfoHash));
        Assert.Equal(Peer, handshake.PeerId);
        Assert.Equal(AllFlags, handshake.Reserved);
        Assert.True(handshake.SupportsExtensionProtocol);
        Assert.True(handshake.SupportsFastExtension);
        Assert.True(handshake.SupportsDht);
    }

    [Theory]
    [InlineData("0000000000000000", false, false, false)]
    [InlineData("0000000000100000", true, false, false)]
    [InlineData("0000000000000004", false, true, false)]
    [InlineData("0000000000000001", false, false, true)]
    [InlineData("FFFFFFFFFFEFFFFA", false, false, false)]
    public void Reserved_bits_map_to_the_right_flags(string reservedHex, bool extension, bool fast, bool dht)
    {
        var wire = Hex(VectorHex);
        Hex(reservedHex).CopyTo(wire, 20);

        Assert.Equal(HandshakeReadStatus.Complete, Handshake.TryRead(wire, out var handshake, out _));
        Assert.Equal(extension, handshake!.SupportsExtensionProtocol);
        Assert.Equal(fast, handshake.SupportsFastExtension);
        Assert.Equal(dht, handshake.SupportsDht);
    }

    [Fact]
    public void Unknown_reserved_bits_survive_a_round_trip()
    {
        var reserved = (HandshakeReserved)0x8000_0000_0010_0004UL;
        var buffer = new byte[68];
        new Handshake(InfoHash, Peer, reserved).WriteTo(buffer);

        Assert.Equal("8000000000100004", ToHex(buffer.AsSpan(20, 8)));
        Handshake.TryRead(buffer, out var read, out _);
        Assert.Equal(reserved, read!.Reserved);
    }

    [Fact]
    public void Every_short_prefix_needs_more_data()
    {
        var wire = Hex(VectorHex);
        for (var length = 0; length < 68; length++)
        {
            Assert.Equal(HandshakeReadStatus.NeedMoreData, Handshake.TryRead(wire.AsSpan(0, length), out var handshake, out var consumed));
            Assert.Null(handshake);
            Assert.Equal(0, consumed);
        }
    }

    [Fact]
    public void Reads_across_every_segment_boundary()
    {
        var wire = Hex(VectorHex);
        for (var length = 0; length <= 68; length++)
        {
            var sequence = OneSegmentPerByte(wire[..length]);
            var expected = length == 68 ? HandshakeReadStatus.Complete : HandshakeReadStatus.NeedMoreData;
            Assert.Equal(expected, Handshake.TryRead(sequence, out var handshake, out _));
            if (length == 68)
            {
                Assert.Equal(Peer, handshake!.PeerId);
                Assert.Equal(ToHex(InfoHash), ToHex(handshake.InfoHash));
            }
        }
    }

    [Fact]
    public void Wrong_pstrlen_is_invalid_from_the_first_byte()
    {
        Assert.Equal(HandshakeReadStatus.Invalid, Handshake.TryRead(Hex("14"), out _, out _));
        Assert.Equal(HandshakeReadStatus.Invalid, Handshake.TryRead(Hex("00"), out _, out _));
    }

    [Fact]
    public void Wrong_protocol_string_is_invalid_as_soon_as_it_differs()
    {
        // "BitTorrent P" with a capital P: invalid at byte 12 without waiting for the rest.
        var wire = Hex("13 426974546F7272656E742050");
        Assert.Equal(HandshakeReadStatus.Invalid, Handshake.TryRead(wire, out _, out _));
        Assert.Equal(HandshakeReadStatus.NeedMoreData, Handshake.TryRead(wire.AsSpan(0, 12), out _, out _));
        Assert.Equal(HandshakeReadStatus.Invalid, Handshake.TryReadPrefix(wire, new byte[20], out _));
    }

    [Fact]
    public void Http_request_is_invalid()
    {
        var wire = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n");
        Assert.Equal(HandshakeReadStatus.Invalid, Handshake.TryRead(new ReadOnlySequence<byte>(wire), out _, out _));
    }

    [Fact]
    public void Prefix_yields_the_info_hash_before_the_peer_id_arrives()
    {
        var wire = Hex(VectorHex)[..48];
        var infoHash = new byte[20];

        Assert.Equal(HandshakeReadStatus.Complete, Handshake.TryReadPrefix(wire, infoHash, out var reserved));
        Assert.Equal(ToHex(InfoHash), ToHex(infoHash));
        Assert.Equal(AllFlags, reserved);
        Assert.Equal(HandshakeReadStatus.NeedMoreData, Handshake.TryRead(wire, out _, out _));
    }

    [Fact]
    public void Prefix_needs_48_bytes_even_across_segments()
    {
        var wire = Hex(VectorHex);
        for (var length = 0; length < 48; length++)
        {
            Assert.Equal(HandshakeReadStatus.NeedMoreData, Handshake.TryReadPrefix(OneSegmentPerByte(wire[..length]), new byte[20], out _));
        }

        var infoHash = new byte[20];
        Assert.Equal(HandshakeReadStatus.Complete, Handshake.TryReadPrefix(Split(wire, 10, 30, 47), infoHash, out _));
        Assert.Equal(ToHex(InfoHash), ToHex(infoHash));
    }

    [Fact]
    public void Round_trip()
    {
        var peer = PeerId.Generate();
        var infoHash = new byte[20];
        Random.Shared.NextBytes(infoHash);
        var buffer = new byte[68];
        new Handshake(infoHash, peer, HandshakeReserved.ExtensionProtocol).WriteTo(buffer);

        Assert.Equal(HandshakeReadStatus.Complete, Handshake.TryRead(buffer, out var read, out _));
        Assert.Equal(peer, read!.PeerId);
        Assert.Equal(ToHex(infoHash), ToHex(read.InfoHash));
        Assert.True(read.SupportsExtensionProtocol);
        Assert.False(read.SupportsFastExtension);
    }

    [Fact]
    public void Constructor_and_writer_reject_bad_sizes()
    {
        Assert.Throws<ArgumentException>(() => new Handshake(new byte[19], Peer, HandshakeReserved.None));
        var handshake = new Handshake(InfoHash, Peer, HandshakeReserved.None);
        Assert.Throws<ArgumentException>(() => handshake.WriteTo(new byte[67]));
    }
}
