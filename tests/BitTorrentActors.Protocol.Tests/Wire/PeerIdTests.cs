using System.Text;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Protocol.Tests.Wire;

public class PeerIdTests
{
    [Fact]
    public void Generated_id_follows_BEP20_with_our_prefix()
    {
        var id = PeerId.Generate();

        Assert.Equal(20, id.Span.Length);
        Assert.Equal("-BA0100-", Encoding.ASCII.GetString(id.Span[..8]));
        Assert.Equal("BitTorrentActors", id.ClientName);
    }

    [Fact]
    public void Generated_ids_differ_in_the_random_part()
    {
        var a = PeerId.Generate();
        var b = PeerId.Generate();

        Assert.NotEqual(a, b);
        Assert.False(a.Span[8..].SequenceEqual(b.Span[8..]));
    }

    [Fact]
    public void Constructor_copies_20_bytes()
    {
        var bytes = Encoding.ASCII.GetBytes("-TR2940-abcdefghijkl");
        var id = new PeerId(bytes);
        bytes[0] = (byte)'x';

        Assert.Equal("-TR2940-abcdefghijkl", Encoding.ASCII.GetString(id.Span));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(19)]
    [InlineData(21)]
    public void Constructor_rejects_other_lengths(int length)
    {
        Assert.Throws<ArgumentException>(() => new PeerId(new byte[length]));
    }

    [Fact]
    public void Equality_is_by_value()
    {
        var a = new PeerId(Encoding.ASCII.GetBytes("-qB4250-abcdefghijkl"));
        var b = new PeerId(Encoding.ASCII.GetBytes("-qB4250-abcdefghijkl"));
        var c = new PeerId(Encoding.ASCII.GetBytes("-qB4250-abcdefghijkm"));

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void ToString_escapes_non_printable_bytes()
    {
        var bytes = Encoding.ASCII.GetBytes("-lt0D60-ab\\defghijkl");
        bytes[18] = 0x00;
        bytes[19] = 0xFF;
        var id = new PeerId(bytes);

        Assert.Equal("-lt0D60-ab\\x5Cdefghij\\x00\\xFF", id.ToString());
    }

    [Theory]
    [InlineData("-lt0D60-abcdefghijkl", "libtorrent")]
    [InlineData("-LT2000-abcdefghijkl", "libtorrent (Rasterbar)")]
    [InlineData("-TR2940-abcdefghijkl", "Transmission")]
    [InlineData("-qB4250-abcdefghijkl", "qBittorrent")]
    [InlineData("-A21180-abcdefghijkl", "aria2")]
    [InlineData("A2-1-18-8-abcdefghij", "aria2")]
    [InlineData("-BA0100-abcdefghijkl", "BitTorrentActors")]
    [InlineData("-DE13F0-abcdefghijkl", "Deluge")]
    public void Known_clients_are_named(string id, string expected)
    {
        Assert.Equal(expected, PeerId.IdentifyClient(Encoding.ASCII.GetBytes(id)));
        Assert.Equal(expected, new PeerId(Encoding.ASCII.GetBytes(id)).ClientName);
    }

    [Theory]
    [InlineData("-ZZ1234-abcdefghijkl")]
    [InlineData("M7-2-2--abcdefghijkl")]
    [InlineData("BA0100--abcdefghijkl")]
    [InlineData("-lt")]
    [InlineData("-l")]
    [InlineData("")]
    public void Unknown_clients_are_null(string id)
    {
        Assert.Null(PeerId.IdentifyClient(Encoding.ASCII.GetBytes(id)));
    }
}
