using System.Net;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Protocol.Tests.Trackers;

public class UdpTrackerPacketsTests
{
    private static readonly InfoHash Hash = new(Enumerable.Range(0, 20).Select(i => (byte)i).ToArray());

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    private static UdpTrackerResponse Parse(string hex, bool ipv6Peers = false, bool expectValid = true)
    {
        var valid = UdpTrackerPackets.TryParseResponse(Hex(hex), ipv6Peers, out var response);
        Assert.Equal(expectValid, valid);
        Assert.Equal(expectValid, response.IsValid);
        return response;
    }

    [Fact]
    public void Connect_request_is_byte_exact()
    {
        var packet = new byte[UdpTrackerPackets.ConnectRequestLength];

        var written = UdpTrackerPackets.WriteConnectRequest(packet, 0x12345678);

        Assert.Equal(16, written);
        Assert.Equal("00000417271019800000000012345678", Convert.ToHexString(packet));
    }

    [Fact]
    public void Announce_request_is_byte_exact()
    {
        var request = new AnnounceRequest(Hash, "-BA0001-abcdefghijkl"u8.ToArray(), Port: 6881, Uploaded: 5,
            Downloaded: 0x1_0000_0000, Left: 1000, AnnounceEvent.Completed, NumWant: -1, Key: 0xDEADBEEF,
            TrackerId: "ignored over UDP");
        var packet = new byte[120];

        var written = UdpTrackerPackets.WriteAnnounceRequest(packet, 0x0102030405060708, unchecked((int)0xCAFEBABE),
            request, ipAddress: 0x7F000001);

        var expected =
            "0102030405060708" // connection id
            + "00000001" // action: announce
            + "CAFEBABE" // transaction id
            + "000102030405060708090A0B0C0D0E0F10111213" // info hash
            + "2D424130303031 2D6162636465666768696A6B6C" // peer id "-BA0001-abcdefghijkl"
            + "0000000100000000" // downloaded
            + "00000000000003E8" // left
            + "0000000000000005" // uploaded
            + "00000001" // event: completed is 1 in BEP 15
            + "7F000001" // ip address
            + "DEADBEEF" // key
            + "FFFFFFFF" // num_want: default
            + "1AE1"; // port 6881
        Assert.Equal(98, written);
        Assert.Equal(Convert.ToHexString(Hex(expected)), Convert.ToHexString(packet.AsSpan(0, written)));
        Assert.All(packet[98..], b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(AnnounceEvent.None, 0)]
    [InlineData(AnnounceEvent.Completed, 1)]
    [InlineData(AnnounceEvent.Started, 2)]
    [InlineData(AnnounceEvent.Stopped, 3)]
    public void Announce_events_use_the_bep_15_numbering(AnnounceEvent announceEvent, byte expected)
    {
        var request = new AnnounceRequest(Hash, new byte[20], 1, 0, 0, 0, announceEvent, 50, 0, null);
        var packet = new byte[UdpTrackerPackets.AnnounceRequestLength];

        UdpTrackerPackets.WriteAnnounceRequest(packet, 1, 2, request);

        Assert.Equal(new byte[] { 0, 0, 0, expected }, packet[80..84]);
        Assert.Equal(new byte[] { 0, 0, 0, 50 }, packet[92..96]);
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, packet[84..88]);
    }

    [Fact]
    public void Scrape_request_lists_the_hashes()
    {
        var second = new InfoHash(Enumerable.Repeat((byte)0xAB, 20).ToArray());
        var packet = new byte[UdpTrackerPackets.ScrapeRequestLength(2)];

        var written = UdpTrackerPackets.WriteScrapeRequest(packet, 0x0102030405060708, 7, [Hash, second]);

        Assert.Equal(56, written);
        Assert.Equal(
            "0102030405060708" + "00000002" + "00000007"
            + "000102030405060708090A0B0C0D0E0F10111213" + string.Concat(Enumerable.Repeat("AB", 20)),
            Convert.ToHexString(packet));
    }

    [Fact]
    public void Scrape_request_accepts_1_to_74_hashes()
    {
        var hashes = Enumerable.Repeat(Hash, 75).ToArray();
        var packet = new byte[UdpTrackerPackets.ScrapeRequestLength(75)];

        Assert.Equal(16 + 74 * 20, UdpTrackerPackets.WriteScrapeRequest(packet, 1, 1, hashes.AsSpan(0, 74)));
        Assert.Throws<ArgumentOutOfRangeException>(() => UdpTrackerPackets.WriteScrapeRequest(packet, 1, 1, hashes));
        Assert.Throws<ArgumentOutOfRangeException>(() => UdpTrackerPackets.WriteScrapeRequest(packet, 1, 1, []));
    }

    [Fact]
    public void Writers_refuse_a_short_destination()
    {
        var request = new AnnounceRequest(Hash, new byte[20], 1, 0, 0, 0, AnnounceEvent.None, -1, 0, null);

        Assert.Throws<ArgumentException>(() => UdpTrackerPackets.WriteConnectRequest(new byte[15], 1));
        Assert.Throws<ArgumentException>(() => UdpTrackerPackets.WriteAnnounceRequest(new byte[97], 1, 1, request));
        Assert.Throws<ArgumentException>(() => UdpTrackerPackets.WriteScrapeRequest(new byte[35], 1, 1, [Hash]));
    }

    [Fact]
    public void Connect_response_is_parsed()
    {
        var response = Parse("00000000 12345678 0102030405060708");

        Assert.Equal(UdpTrackerAction.Connect, response.Action);
        Assert.Equal(0x12345678, response.TransactionId);
        Assert.Equal(0x0102030405060708, response.ConnectionId);
    }

    [Fact]
    public void Announce_response_is_parsed()
    {
        var response = Parse("00000001 CAFEBABE 00000708 00000003 00000005"
            + "CB007101 1AE1" + "C6336402 0050" + "CB007103 0000" + "CB007101 1AE1");

        Assert.Equal(UdpTrackerAction.Announce, response.Action);
        Assert.Equal(unchecked((int)0xCAFEBABE), response.TransactionId);
        var announce = response.Announce!;
        Assert.Equal(TimeSpan.FromSeconds(1800), announce.Interval);
        Assert.Equal(5, announce.Complete);
        Assert.Equal(3, announce.Incomplete);
        Assert.Equal([IPEndPoint.Parse("203.0.113.1:6881"), IPEndPoint.Parse("198.51.100.2:80")], announce.Peers);
    }

    [Fact]
    public void Announce_response_with_ipv6_peers_is_parsed()
    {
        var response = Parse("00000001 00000009 00000001 00000000 00000001"
            + "20010DB8000000000000000000000001 C8D5", ipv6Peers: true);

        Assert.Equal(TimeSpan.FromSeconds(30), response.Announce!.Interval);
        Assert.Equal([IPEndPoint.Parse("[2001:db8::1]:51413")], response.Announce.Peers);
    }

    [Fact]
    public void Announce_response_with_a_partial_peer_is_invalid()
    {
        var response = Parse("00000001 00000009 00000708 00000000 00000001 CB007101 1AE1 0A", expectValid: false);

        Assert.Equal(UdpTrackerAction.Announce, response.Action);
        Assert.Equal("7 bytes of peers is not a multiple of 6", response.InvalidReason);
        Assert.Null(response.Announce);
    }

    [Fact]
    public void Scrape_response_is_parsed_in_wire_order()
    {
        var response = Parse("00000002 00000007 00000005 00000032 0000000A 00000000 00000001 00000002");

        Assert.Equal(UdpTrackerAction.Scrape, response.Action);
        Assert.Equal(
            [new ScrapeCounts(Complete: 5, Incomplete: 10, Downloaded: 50), new ScrapeCounts(0, 2, 1)],
            response.Scrape);
    }

    [Fact]
    public void Error_response_carries_the_message()
    {
        var response = Parse("00000003 00000007" + Convert.ToHexString("bad info hash"u8));

        Assert.Equal(UdpTrackerAction.Error, response.Action);
        Assert.Equal(7, response.TransactionId);
        Assert.Equal("bad info hash", response.ErrorMessage);
    }

    [Theory]
    [InlineData("", UdpTrackerAction.Unknown, "packet of 0 bytes is shorter than the 8-byte header")]
    [InlineData("00000000 123456", UdpTrackerAction.Unknown, "packet of 7 bytes is shorter than the 8-byte header")]
    [InlineData("00000000 12345678 01020304", UdpTrackerAction.Connect, "connect response of 12 bytes, expected 16")]
    [InlineData("00000001 12345678 00000708 00000000 000000", UdpTrackerAction.Announce,
        "announce response of 19 bytes is shorter than 20")]
    [InlineData("00000002 12345678 00000001 00000002", UdpTrackerAction.Scrape,
        "8 bytes of scrape data is not a multiple of 12")]
    [InlineData("00000007 12345678 0102030405060708", (UdpTrackerAction)7, "unknown action 7")]
    [InlineData("FFFFFFFF 12345678", (UdpTrackerAction)(-1), "unknown action -1")]
    public void Short_and_unknown_packets_are_invalid(string hex, UdpTrackerAction action, string reason)
    {
        var response = Parse(hex, expectValid: false);

        Assert.Equal(action, response.Action);
        Assert.Equal(reason, response.InvalidReason);
        if (hex.Length >= 17)
        {
            Assert.Equal(0x12345678, response.TransactionId);
        }
    }

    [Fact]
    public void Random_packets_never_throw()
    {
        var random = new Random(42);
        var buffer = new byte[64];
        for (var i = 0; i < 5000; i++)
        {
            random.NextBytes(buffer);
            buffer[0] = buffer[1] = buffer[2] = 0;
            buffer[3] = (byte)random.Next(5);
            var packet = buffer.AsSpan(0, random.Next(buffer.Length + 1));

            var valid = UdpTrackerPackets.TryParseResponse(packet, random.Next(2) == 0, out var response);

            Assert.Equal(valid, response.IsValid);
        }
    }

    [Theory]
    [InlineData(0, 15)]
    [InlineData(1, 30)]
    [InlineData(2, 60)]
    [InlineData(8, 3840)]
    public void Retransmit_timeout_doubles_from_15_seconds(int attempt, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), UdpTrackerPackets.RetransmitTimeout(attempt));
    }

    [Fact]
    public void Retransmit_timeout_stops_after_attempt_8()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => UdpTrackerPackets.RetransmitTimeout(9));
        Assert.Throws<ArgumentOutOfRangeException>(() => UdpTrackerPackets.RetransmitTimeout(-1));
        Assert.Equal(TimeSpan.FromSeconds(60), UdpTrackerPackets.ConnectionIdLifetime);
        Assert.Equal(0x41727101980, UdpTrackerPackets.ProtocolId);
    }

    [Theory]
    [InlineData(0, 200)]
    [InlineData(3, 1600)]
    [InlineData(8, 51200)]
    [InlineData(12, 51200)]
    public void Retransmit_timeout_from_another_base_doubles_and_is_capped_at_attempt_8(int attempt, int milliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds),
            UdpTrackerPackets.RetransmitTimeout(attempt, TimeSpan.FromMilliseconds(200)));
        Assert.Equal(UdpTrackerPackets.RetransmitTimeout(Math.Min(attempt, 8)),
            UdpTrackerPackets.RetransmitTimeout(attempt, TimeSpan.FromSeconds(15)));
    }
}
