using BitTorrentActors.Protocol.Magnet;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Tests.Magnet;

public class MagnetLinkTests
{
    // The same 20 bytes in both encodings; the base32 form was computed with Python's base64.b32encode.
    private const string Hex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
    private const string Base32 = "YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK";

    private static MagnetLink Parse(string uri)
    {
        Assert.True(MagnetLink.TryParse(uri, out var link, out var error), error);
        Assert.Null(error);
        return link;
    }

    [Fact]
    public void Hex_and_base32_name_the_same_hash()
    {
        var fromHex = Parse($"magnet:?xt=urn:btih:{Hex}");
        var fromBase32 = Parse($"magnet:?xt=urn:btih:{Base32}");
        var fromLower = Parse($"magnet:?xt=urn:btih:{Base32.ToLowerInvariant()}");
        var fromUpperHex = Parse($"MAGNET:?xt=urn:btih:{Hex.ToUpperInvariant()}");

        Assert.Equal(Hex, fromHex.InfoHash.ToHex());
        Assert.Equal(fromHex.InfoHash, fromBase32.InfoHash);
        Assert.Equal(fromHex.InfoHash, fromLower.InfoHash);
        Assert.Equal(fromHex.InfoHash, fromUpperHex.InfoHash);
    }

    [Fact]
    public void Base32_decodes_rfc_4648_vectors()
    {
        // RFC 4648 section 10: BASE32("fooba") = "MZXW6YTB"; four copies make 20 bytes and 32 characters.
        Assert.True(MagnetLink.TryParseHash("MZXW6YTBMZXW6YTBMZXW6YTBMZXW6YTB", out var hash));
        Assert.Equal("foobafoobafoobafooba"u8.ToArray(), hash.ToArray());
    }

    [Fact]
    public void Parameters_are_percent_decoded()
    {
        var link = Parse($"magnet:?xt=urn:btih:{Hex}&dn=My+Movie%20%C3%A9&tr=udp%3A%2F%2Ftracker.example%3A1337%2Fannounce"
            + "&tr=http://t2/announce?x=1&tr.1=udp%3A%2F%2Ftracker.example%3A1337%2Fannounce&ws=http%3A%2F%2Fseed%2Ff"
            + "&x.pe=203.0.113.1:6881&x.pe=%5B%3A%3A1%5D:51413&unknown=1&tr=");

        Assert.Equal("My Movie é", link.DisplayName);
        Assert.Equal(["udp://tracker.example:1337/announce", "http://t2/announce?x=1"], link.Trackers);
        Assert.Equal(["http://seed/f"], link.WebSeeds);
        Assert.Equal(["203.0.113.1:6881", "[::1]:51413"], link.Peers);
    }

    [Fact]
    public void Other_topics_next_to_btih_are_ignored()
    {
        var link = Parse($"magnet:?xt=urn:btmh:1220{new string('0', 64)}&xt=urn:btih:{Hex}");
        Assert.Equal(Hex, link.InfoHash.ToHex());
    }

    [Fact]
    public void ToString_round_trips()
    {
        var link = Parse($"magnet:?xt=urn:btih:{Base32}&dn=a%26b%3Dc d&tr=udp%3A%2F%2Ft%3A1%2Fa&ws=http://s/&x.pe=1.2.3.4:5");
        var text = link.ToString();
        Assert.StartsWith($"magnet:?xt=urn:btih:{Hex}&dn=a%26b%3Dc%20d&tr=udp%3A%2F%2Ft%3A1%2Fa", text);
        var again = Parse(text);
        Assert.Equal(link.InfoHash, again.InfoHash);
        Assert.Equal("a&b=c d", again.DisplayName);
        Assert.Equal(link.Trackers, again.Trackers);
        Assert.Equal(link.WebSeeds, again.WebSeeds);
        Assert.Equal(link.Peers, again.Peers);
    }

    [Fact]
    public void A_link_built_from_a_hash_prints_minimal_uri()
    {
        InfoHash.TryParseHex(Hex, out var hash);
        Assert.Equal($"magnet:?xt=urn:btih:{Hex}", new MagnetLink(hash).ToString());
    }

    [Theory]
    [InlineData("http://example.com/?xt=urn:btih:" + Hex, "not a magnet URI")]
    [InlineData("magnet:xt=urn:btih:" + Hex, "not a magnet URI")]
    [InlineData("magnet:?dn=x", "missing xt")]
    [InlineData("magnet:?xt=urn:btmh:1220abcd", "v2-only magnet")]
    [InlineData("magnet:?", "missing xt")]
    [InlineData("magnet:?xt=urn:btih:" + Hex + "&xt=urn:btih:" + Base32, "more than one xt")]
    [InlineData("magnet:?xt=urn:btih:" + Hex + "&xt.1=urn:btih:" + Hex, "more than one xt")]
    [InlineData("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88", "40 hex or 32 base32")]
    [InlineData("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88g", "40 hex or 32 base32")]
    [InlineData("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE1", "40 hex or 32 base32")]
    [InlineData("magnet:?xt=urn:btih:", "40 hex or 32 base32")]
    [InlineData("magnet:?xt=urn:btih:" + Hex + "&dn=%zz", "bad percent-encoding in 'dn'")]
    [InlineData("magnet:?xt=urn:btih:" + Hex + "&tr=abc%4", "bad percent-encoding in 'tr'")]
    public void Refusals_name_the_reason(string uri, string reason)
    {
        Assert.False(MagnetLink.TryParse(uri, out var link, out var error));
        Assert.Null(link);
        Assert.Contains(reason, error);
    }
}
