using System.Text;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Protocol.Tests.Trackers;

public class HttpTrackerUrlTests
{
    // Bytes that must stay literal (A - . _ ~ a z 0 9 Z) mixed with ones that must be escaped, including the
    // ones a sloppy encoder gets wrong: NUL, space, '/', '%', '&', '=', '+', and the high bytes.
    private static readonly InfoHash Hash = new(
    [
        0x00, 0x41, 0x2D, 0x2E, 0x5F, 0x7E, 0x20, 0x2F, 0xFF, 0x61,
        0x7A, 0x30, 0x39, 0x5A, 0x25, 0x26, 0x3D, 0x2B, 0x80, 0x7F,
    ]);

    private const string EscapedHash = "%00A-._~%20%2F%FFaz09Z%25%26%3D%2B%80%7F";

    private static readonly byte[] PeerId = [.. "-BA0001-0123456789"u8, 0x01, (byte)'*'];

    private static AnnounceRequest Request(AnnounceEvent announceEvent = AnnounceEvent.Started, int numWant = 50,
        string? trackerId = null) =>
        new(Hash, PeerId, 6881, Uploaded: 1, Downloaded: 2, Left: 3, announceEvent, numWant, 0xDEADBEEF, trackerId);

    [Fact]
    public void Announce_url_is_byte_exact()
    {
        var url = HttpTrackerCodec.BuildAnnounceUrl("http://tracker.example/announce", Request());

        Assert.Equal(
            "http://tracker.example/announce?info_hash=" + EscapedHash
            + "&peer_id=-BA0001-0123456789%01%2A&port=6881&uploaded=1&downloaded=2&left=3"
            + "&compact=1&event=started&numwant=50&key=DEADBEEF",
            url);
    }

    [Fact]
    public void Event_none_and_default_numwant_are_omitted_and_key_is_zero_padded()
    {
        var request = Request(AnnounceEvent.None, numWant: -1) with { Key = 0xA, Left = 10_000_000_000 };

        var url = HttpTrackerCodec.BuildAnnounceUrl("http://t.example/announce", request);

        Assert.Equal(
            "http://t.example/announce?info_hash=" + EscapedHash
            + "&peer_id=-BA0001-0123456789%01%2A&port=6881&uploaded=1&downloaded=2&left=10000000000"
            + "&compact=1&key=0000000A",
            url);
    }

    [Theory]
    [InlineData(AnnounceEvent.Completed, "&event=completed&")]
    [InlineData(AnnounceEvent.Stopped, "&event=stopped&")]
    public void Other_events_are_named(AnnounceEvent announceEvent, string expected)
    {
        var url = HttpTrackerCodec.BuildAnnounceUrl("http://t.example/announce", Request(announceEvent));

        Assert.Contains(expected, url, StringComparison.Ordinal);
    }

    [Fact]
    public void Existing_query_is_extended_with_ampersand_and_tracker_id_is_escaped()
    {
        var request = Request(trackerId: "id 7/x") with { Compact = false };

        var url = HttpTrackerCodec.BuildAnnounceUrl("https://t.example/announce.php?passkey=abc", request);

        Assert.Equal(
            "https://t.example/announce.php?passkey=abc&info_hash=" + EscapedHash
            + "&peer_id=-BA0001-0123456789%01%2A&port=6881&uploaded=1&downloaded=2&left=3"
            + "&event=started&numwant=50&key=DEADBEEF&trackerid=id%207%2Fx",
            url);
    }

    [Theory]
    [InlineData("http://t.example/announce?", "http://t.example/announce?info_hash=")]
    [InlineData("http://t.example/announce?a=1&", "http://t.example/announce?a=1&info_hash=")]
    [InlineData("http://t.example/announce#frag", "http://t.example/announce?info_hash=")]
    public void Query_separator_is_not_doubled_and_fragment_is_dropped(string announce, string expectedStart)
    {
        var url = HttpTrackerCodec.BuildAnnounceUrl(announce, Request());

        Assert.StartsWith(expectedStart + EscapedHash + "&peer_id=", url, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_peer_id_or_port_is_a_caller_bug()
    {
        Assert.Throws<ArgumentException>(() =>
            HttpTrackerCodec.BuildAnnounceUrl("http://t/announce", Request() with { PeerId = new byte[19] }));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            HttpTrackerCodec.BuildAnnounceUrl("http://t/announce", Request() with { Port = 65536 }));
    }

    [Theory]
    [InlineData("http://t.example/announce", "http://t.example/scrape")]
    [InlineData("http://t.example/x/announce.php", "http://t.example/x/scrape.php")]
    [InlineData("http://t.example/announce?passkey=1", "http://t.example/scrape?passkey=1")]
    [InlineData("udp://t.example:80/announce", "udp://t.example:80/scrape")]
    [InlineData("http://t.example/a/announce/announce", "http://t.example/a/announce/scrape")]
    public void Scrape_url_follows_the_convention(string announce, string expected)
    {
        Assert.True(HttpTrackerCodec.TryGetScrapeUrl(announce, out var scrape));
        Assert.Equal(expected, scrape);
    }

    [Theory]
    [InlineData("http://t.example/a")]
    [InlineData("http://t.example/announce/x")]
    [InlineData("http://t.example/x?path=/announce")]
    [InlineData("http://announce.example.com")]
    [InlineData("http://announce.example.com/")]
    [InlineData("http://t.example/Announce")]
    public void Scrape_url_is_absent_when_the_convention_does_not_apply(string announce)
    {
        Assert.False(HttpTrackerCodec.TryGetScrapeUrl(announce, out var scrape));
        Assert.Equal(string.Empty, scrape);
    }

    [Fact]
    public void Scrape_url_lists_every_hash()
    {
        var second = new InfoHash(Enumerable.Range(0x41, 20).Select(i => (byte)i).ToArray());

        var url = HttpTrackerCodec.BuildScrapeUrl("http://t.example/scrape?passkey=1", [Hash, second]);

        Assert.Equal(
            "http://t.example/scrape?passkey=1&info_hash=" + EscapedHash + "&info_hash=ABCDEFGHIJKLMNOPQRST",
            url);
    }

    [Fact]
    public void Scrape_url_without_hashes_is_unchanged()
    {
        Assert.Equal("http://t.example/scrape", HttpTrackerCodec.BuildScrapeUrl("http://t.example/scrape", []));
    }

    [Fact]
    public void Escaping_keeps_exactly_the_unreserved_set()
    {
        var all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var builder = new StringBuilder();

        HttpTrackerCodec.AppendEscaped(builder, all);

        // Every escape is three characters; whatever follows one before the next '%' was left literal.
        var literal = string.Concat(builder.ToString().Split('%').Skip(1).Select(part => part[2..]));
        Assert.Equal("-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~", literal);
        Assert.Equal(66 + (256 - 66) * 3, builder.Length);
    }
}
