using System.Net;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Protocol.Tests.Trackers;

public class CompactPeersTests
{
    private static IPEndPoint Ep(string text) => IPEndPoint.Parse(text);

    [Fact]
    public void IPv4_writer_is_byte_exact_and_round_trips()
    {
        IPEndPoint[] peers = [Ep("203.0.113.1:6881"), Ep("255.254.0.9:65535")];

        var bytes = CompactPeers.EncodeIPv4(peers);

        Assert.Equal("CB0071011AE1FFFE0009FFFF", Convert.ToHexString(bytes));
        Assert.Equal(peers, CompactPeers.ParseIPv4(bytes));
    }

    [Fact]
    public void IPv6_writer_is_byte_exact_and_round_trips()
    {
        IPEndPoint[] peers = [Ep("[2001:db8::1]:51413"), Ep("[::1]:1")];

        var bytes = CompactPeers.EncodeIPv6(peers);

        Assert.Equal("20010DB8000000000000000000000001C8D5" + "000000000000000000000000000000010001",
            Convert.ToHexString(bytes));
        Assert.Equal(peers, CompactPeers.ParseIPv6(bytes));
    }

    [Fact]
    public void Mapped_IPv4_is_written_as_IPv4()
    {
        var span = new byte[6];

        Assert.Equal(6, CompactPeers.WriteIPv4(span, Ep("[::ffff:203.0.113.1]:80")));
        Assert.Equal("CB0071010050", Convert.ToHexString(span));
    }

    [Fact]
    public void Writers_refuse_the_wrong_family_or_a_short_destination()
    {
        Assert.Throws<ArgumentException>(() => CompactPeers.WriteIPv4(new byte[6], Ep("[2001:db8::1]:1")));
        Assert.Throws<ArgumentException>(() => CompactPeers.WriteIPv6(new byte[18], Ep("203.0.113.1:1")));
        Assert.Throws<ArgumentException>(() => CompactPeers.WriteIPv4(new byte[5], Ep("203.0.113.1:1")));
        Assert.Throws<ArgumentException>(() => CompactPeers.WriteIPv6(new byte[17], Ep("[::1]:1")));
    }

    [Fact]
    public void Parse_skips_port_zero_and_ignores_a_trailing_partial_entry()
    {
        var bytes = Convert.FromHexString("CB0071011AE1" + "0A0000020000" + "0A00000300");

        Assert.Equal([Ep("203.0.113.1:6881")], CompactPeers.ParseIPv4(bytes));
        Assert.Empty(CompactPeers.ParseIPv6(bytes));
    }

    [Fact]
    public void TryParse_refuses_a_partial_entry_without_adding_anything()
    {
        var peers = new List<IPEndPoint>();

        Assert.False(CompactPeers.TryParseIPv4(Convert.FromHexString("CB0071011AE1" + "0A"), peers));
        Assert.False(CompactPeers.TryParseIPv6(new byte[19], peers));
        Assert.Empty(peers);
        Assert.True(CompactPeers.TryParseIPv4(Convert.FromHexString("CB0071011AE1"), peers));
        Assert.True(CompactPeers.TryParseIPv6([], peers));
        Assert.Equal([Ep("203.0.113.1:6881")], peers);
    }
}
