using System.Net;
using System.Text;
using BitTorrentActors.Protocol.Bencode;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Protocol.Tests.Trackers;

public class HttpTrackerResponseTests
{
    // Latin-1 maps chars 0..255 to the same bytes, so "\u00C0" is the byte 0xC0 (\u, not \x, which is variable length).
    private static byte[] B(string text) => Encoding.Latin1.GetBytes(text);

    private static AnnounceResponse Ok(string body) => Ok(B(body));

    private static AnnounceResponse Ok(byte[] body)
    {
        var result = HttpTrackerCodec.ParseAnnounceResponse(body);
        Assert.True(result.Success, result.Failure?.Reason);
        Assert.Null(result.Failure);
        return result.Response!;
    }

    private static TrackerFailure Fails(byte[] body, int maxBodyBytes = HttpTrackerCodec.DefaultMaxBodyBytes)
    {
        var result = HttpTrackerCodec.ParseAnnounceResponse(body, maxBodyBytes);
        Assert.False(result.Success);
        Assert.Null(result.Response);
        return result.Failure!;
    }

    private static IPEndPoint Ep(string text) => IPEndPoint.Parse(text);

    [Fact]
    public void Compact_peers_are_decoded_in_order()
    {
        var response = Ok("d8:intervali1800e5:peers12:\u00CB\u0000\u0071\u0001\u001A\u00E1\u00C6\u0033\u0064\u0002\u0000\u0050e");

        Assert.Equal([Ep("203.0.113.1:6881"), Ep("198.51.100.2:80")], response.Peers);
        Assert.Equal(TimeSpan.FromSeconds(1800), response.Interval);
        Assert.Null(response.MinInterval);
        Assert.Null(response.TrackerId);
        Assert.Null(response.Complete);
        Assert.Null(response.WarningMessage);
    }

    [Fact]
    public void Compact_peers_skip_port_zero_and_duplicates()
    {
        var response = Ok("d8:intervali1800e5:peers18:"
            + "\u00CB\u0000\u0071\u0001\u001A\u00E1" + "\u00CB\u0000\u0071\u0002\u0000\u0000" + "\u00CB\u0000\u0071\u0001\u001A\u00E1" + "e");

        Assert.Equal([Ep("203.0.113.1:6881")], response.Peers);
    }

    [Fact]
    public void Peers6_are_decoded_alongside_peers()
    {
        var response = Ok("d8:intervali1800e5:peers6:\u00CB\u0000\u0071\u0001\u001A\u00E1"
            + "6:peers618:\u0020\u0001\u000D\u00B8\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0001\u00C8\u00D5e");

        Assert.Equal([Ep("203.0.113.1:6881"), Ep("[2001:db8::1]:51413")], response.Peers);
    }

    [Fact]
    public void Peers6_of_a_bad_length_is_an_error()
    {
        var failure = Fails(B("d8:intervali1800e6:peers65:abcdee"));

        Assert.Contains("peers6", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Dictionary_peers_keep_only_literal_addresses_with_valid_ports()
    {
        static BDictionary Peer(string ip, long port) =>
            BDictionary.From(("ip", new BString(ip)), ("port", new BInteger(port)));
        var body = BencodeEncoder.Encode(BDictionary.From(
            ("interval", new BInteger(900)),
            ("peers", new BList(
            [
                BDictionary.From(("ip", new BString("203.0.113.1")), ("peer id", new BString("-XX0000-aaaaaaaaaaaa")),
                    ("port", new BInteger(6881))),
                Peer("2001:db8::2", 51413),
                Peer("tracker.example", 1),
                Peer("127.1", 2),
                Peer("12345", 3),
                Peer("1.2.3.4", 0),
                Peer("1.2.3.5", 65536),
                Peer("1.2.3.6", -1),
                Peer("203.0.113.1", 6881),
                new BInteger(5),
                BDictionary.From(("ip", new BString("1.2.3.7"))),
                BDictionary.From(("ip", new BInteger(1)), ("port", new BInteger(1))),
                Peer("1.2.3.8", 65535),
            ]))));

        var response = Ok(body);

        Assert.Equal([Ep("203.0.113.1:6881"), Ep("[2001:db8::2]:51413"), Ep("1.2.3.8:65535")], response.Peers);
        Assert.Equal(TimeSpan.FromSeconds(900), response.Interval);
    }

    [Fact]
    public void Optional_fields_are_read()
    {
        var response = Ok("d8:completei5e10:incompletei3e8:intervali1800e12:min intervali60e5:peers0:"
            + "10:tracker id3:abc15:warning message4:slowe");

        Assert.Equal(5, response.Complete);
        Assert.Equal(3, response.Incomplete);
        Assert.Equal(TimeSpan.FromSeconds(60), response.MinInterval);
        Assert.Equal("abc", response.TrackerId);
        Assert.Equal("slow", response.WarningMessage);
        Assert.Empty(response.Peers);
    }

    [Fact]
    public void Missing_peers_is_an_empty_swarm_and_negative_counts_are_dropped()
    {
        var response = Ok("d8:completei-1e8:intervali1800ee");

        Assert.Empty(response.Peers);
        Assert.Null(response.Complete);
    }

    [Theory]
    [InlineData(1800, 1800)]
    [InlineData(0, 30)]
    [InlineData(-5, 30)]
    [InlineData(5, 30)]
    [InlineData(7200, 7200)]
    [InlineData(99999999999, 7200)]
    public void Interval_is_clamped_to_30s_through_2h(long seconds, int expected)
    {
        var response = Ok($"d8:intervali{seconds}ee");

        Assert.Equal(TimeSpan.FromSeconds(expected), response.Interval);
    }

    [Theory]
    [InlineData(10, 30)]
    [InlineData(120, 120)]
    [InlineData(5000, 1800)]
    public void Min_interval_is_clamped_and_never_above_interval(long seconds, int expected)
    {
        var response = Ok($"d8:intervali1800e12:min intervali{seconds}ee");

        Assert.Equal(TimeSpan.FromSeconds(expected), response.MinInterval);
    }

    [Fact]
    public void Failure_reason_is_the_trackers_own()
    {
        var failure = Fails(B("d14:failure reason12:unregistered8:intervali1800ee"));

        Assert.Equal("unregistered", failure.Reason);
        Assert.True(failure.FromTracker);
    }

    [Theory]
    [InlineData("<html><body>502 Bad Gateway</body></html>")]
    [InlineData("\r\n  <!DOCTYPE html><html></html>")]
    public void Html_body_is_named_as_such(string body)
    {
        var failure = Fails(B(body));

        Assert.Equal("response is not bencode (looks like HTML)", failure.Reason);
        Assert.False(failure.FromTracker);
    }

    [Fact]
    public void Truncated_bencode_is_refused()
    {
        var failure = Fails(B("d8:intervali1800e5:peers12:\u000A\u0000\u0000"));

        Assert.StartsWith("response is not valid bencode", failure.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(13)]
    public void Peers_length_not_a_multiple_of_6_is_an_error(int length)
    {
        var failure = Fails(B($"d8:intervali1800e5:peers{length}:{new string('\u0001', length)}e"));

        Assert.Equal($"peers is {length} bytes, not a multiple of 6", failure.Reason);
    }

    [Fact]
    public void Huge_body_is_refused_before_decoding()
    {
        var body = new byte[HttpTrackerCodec.DefaultMaxBodyBytes + 1];

        Assert.Equal("response over 2097152 bytes", Fails(body).Reason);
    }

    [Fact]
    public void Body_limit_can_be_lowered()
    {
        var body = B("d8:intervali1800ee");

        Assert.Equal("response over 10 bytes", Fails(body, maxBodyBytes: 10).Reason);
        Assert.True(HttpTrackerCodec.ParseAnnounceResponse(body, maxBodyBytes: body.Length).Success);
    }

    [Theory]
    [InlineData("d5:peers0:e", "missing interval")]
    [InlineData("d8:interval4:1800e", "interval is not an integer")]
    [InlineData("", "response is empty")]
    [InlineData("li1ee", "response is not a bencode dictionary")]
    [InlineData("d8:intervali1800e5:peersi3ee", "peers is neither a string nor a list")]
    public void Unusable_replies_say_why(string body, string reason)
    {
        Assert.Equal(reason, Fails(B(body)).Reason);
    }

    [Fact]
    public void Scrape_response_reads_raw_20_byte_keys()
    {
        var raw = "\u0000\u00FF\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F\u0010\u0011\u00FE";
        var body = B("d5:filesd20:" + raw + "d8:completei5e10:downloadedi50e10:incompletei10ee"
            + "19:" + raw[..19] + "d8:completei1ee"
            + "20:aaaaaaaaaaaaaaaaaaaad8:completei-4eee"
            + "e");

        var result = HttpTrackerCodec.ParseScrapeResponse(body);

        Assert.True(result.Success, result.Failure?.Reason);
        var hash = new InfoHash(B(raw));
        Assert.Equal(2, result.Files!.Count);
        Assert.Equal(new ScrapeEntry(hash, Complete: 5, Incomplete: 10, Downloaded: 50), result.Files[hash]);
        var other = new InfoHash(B(new string('a', 20)));
        Assert.Equal(new ScrapeEntry(other, 0, 0, 0), result.Files[other]);
    }

    [Theory]
    [InlineData("d14:failure reason6:no waye", "no way")]
    [InlineData("d5:fileslee", "missing files dictionary")]
    [InlineData("<html>", "response is not bencode (looks like HTML)")]
    public void Scrape_failures_say_why(string body, string reason)
    {
        var result = HttpTrackerCodec.ParseScrapeResponse(B(body));

        Assert.False(result.Success);
        Assert.Equal(reason, result.Failure!.Reason);
    }

    [Fact]
    public void Random_bodies_never_throw()
    {
        var random = new Random(1234);
        var seed = B("d8:intervali1800e5:peers6:\u00CB\u0000\u0071\u0001\u001A\u00E1e");
        for (var i = 0; i < 5000; i++)
        {
            var body = (byte[])seed.Clone();
            body[random.Next(body.Length)] = (byte)random.Next(256);
            var cut = body.AsMemory(0, random.Next(body.Length + 1));

            var announce = HttpTrackerCodec.ParseAnnounceResponse(cut);
            var scrape = HttpTrackerCodec.ParseScrapeResponse(cut);

            Assert.True(announce.Success != (announce.Failure is not null));
            Assert.True(scrape.Success != (scrape.Failure is not null));
        }
    }
}
