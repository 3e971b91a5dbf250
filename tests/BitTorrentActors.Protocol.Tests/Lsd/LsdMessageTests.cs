using System.Text;
using BitTorrentActors.Protocol.Lsd;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Tests.Lsd;

public class LsdMessageTests
{
    private static readonly InfoHash A = Hash("50d92d183eccd1ea50e9ffa0421218f117287ae5");
    private static readonly InfoHash B = Hash("7267d761cc7b43f191adb4952c8c922ec503e7b9");

    // What python3-libtorrent 2.0.8 multicast inside `unshare -n` (captured with a plain UDP socket in the group).
    private const string Libtorrent =
        "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n" +
        "Infohash: 7267d761cc7b43f191adb4952c8c922ec503e7b9\r\ncookie: 34be4d12\r\n\r\n\r\n";

    private static InfoHash Hash(string hex)
    {
        Assert.True(InfoHash.TryParseHex(hex, out var hash));
        return hash;
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Fact]
    public void One_info_hash_formats_byte_for_byte_as_libtorrent_does()
    {
        Assert.Equal(Ascii(Libtorrent), LsdMessage.Format(6881, [B], "34be4d12"));
    }

    [Fact]
    public void Several_info_hashes_are_one_line_each_and_ipv6_names_its_group_in_brackets()
    {
        var bytes = LsdMessage.Format(51413, [A, B], "ab12", ipv6: true);

        Assert.Equal(Ascii(
            "BT-SEARCH * HTTP/1.1\r\nHost: [ff15::efc0:988f]:6771\r\nPort: 51413\r\n" +
            "Infohash: 50d92d183eccd1ea50e9ffa0421218f117287ae5\r\nInfohash: 7267d761cc7b43f191adb4952c8c922ec503e7b9\r\n" +
            "cookie: ab12\r\n\r\n\r\n"), bytes);
    }

    [Fact]
    public void Without_a_cookie_the_line_is_left_out()
    {
        Assert.Equal(Ascii("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 1\r\n" +
            "Infohash: 50d92d183eccd1ea50e9ffa0421218f117287ae5\r\n\r\n\r\n"), LsdMessage.Format(1, [A], null));
    }

    [Fact]
    public void Libtorrents_announce_parses_to_its_port_hash_and_cookie()
    {
        Assert.True(LsdMessage.TryParse(Ascii(Libtorrent), out var announce, out var error), error);

        Assert.Equal(6881, announce.Port);
        Assert.Equal([B], announce.InfoHashes);
        Assert.Equal("34be4d12", announce.Cookie);
    }

    [Fact]
    public void What_we_format_parses_back()
    {
        var hashes = Enumerable.Range(1, 20).Select(i => new InfoHash(Enumerable.Repeat((byte)i, 20).ToArray())).ToArray();

        Assert.True(LsdMessage.TryParse(LsdMessage.Format(65535, hashes, "ffffffff"), out var announce, out var error), error);

        Assert.Equal(65535, announce.Port);
        Assert.Equal(hashes, announce.InfoHashes);
        Assert.Equal("ffffffff", announce.Cookie);
    }

    [Fact]
    public void Case_line_ends_and_spaces_are_read_leniently_as_libtorrent_does()
    {
        var text = "bt-search * HTTP/1.1\nHOST: 239.192.152.143:6771\nport:   7000  \n" +
            "INFOHASH:\t50D92D183ECCD1EA50E9FFA0421218F117287AE5\r\nX-Other: whatever\nno colon here\n" +
            "Cookie: Zz9\n\n";

        Assert.True(LsdMessage.TryParse(Ascii(text), out var announce, out var error), error);

        Assert.Equal(7000, announce.Port);
        Assert.Equal([A], announce.InfoHashes);
        Assert.Equal("Zz9", announce.Cookie);
    }

    [Fact]
    public void Malformed_or_repeated_info_hashes_are_skipped_and_the_rest_kept()
    {
        var text = "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: 50d92d\r\nInfohash: zz" + new string('0', 38) + "\r\n" +
            "Infohash: " + new string('0', 40) + "\r\nInfohash: " + B.ToHex() + "\r\nInfohash: " + B.ToHex() + "\r\n\r\n";

        Assert.True(LsdMessage.TryParse(Ascii(text), out var announce, out var error), error);

        Assert.Equal([B], announce.InfoHashes);
        Assert.Null(announce.Cookie);
    }

    [Theory]
    [InlineData("", "an empty datagram")]
    [InlineData("M-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: 50d92d183eccd1ea50e9ffa0421218f117287ae5\r\n\r\n", "not a BT-SEARCH")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nInfohash: 50d92d183eccd1ea50e9ffa0421218f117287ae5\r\n\r\n", "no Port")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: 50d92d183eccd1ea50e9ffa0421218f117287ae5\r\n\r\n", "not a port")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: 50d92d183eccd1ea50e9ffa0421218f117287ae5\r\n\r\n", "not a port")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: -5\r\nInfohash: 50d92d183eccd1ea50e9ffa0421218f117287ae5\r\n\r\n", "not a port")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 99999999999999999999\r\nInfohash: 50d92d183eccd1ea50e9ffa0421218f117287ae5\r\n\r\n", "not a port")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n\r\n", "no Infohash")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: 50d92d183eccd1ea50e9ffa0421218f117287ae5\r\n", "does not end")]
    public void Anything_else_is_refused_with_one_line(string text, string reason)
    {
        Assert.False(LsdMessage.TryParse(Ascii(text), out var announce, out var error));

        Assert.Null(announce);
        Assert.Contains(reason, error);
        Assert.DoesNotContain("\n", error!, StringComparison.Ordinal);
    }

    [Fact]
    public void An_oversize_datagram_is_refused_unread()
    {
        var big = Ascii(Libtorrent.Replace("\r\n\r\n\r\n", "\r\nX: " + new string('x', 1500) + "\r\n\r\n", StringComparison.Ordinal));

        Assert.False(LsdMessage.TryParse(big, out _, out var error));
        Assert.Contains("over the 1500", error);
    }

    [Fact]
    public void Hostile_bytes_never_throw_and_control_characters_are_not_echoed()
    {
        var random = new Random(14);
        for (var i = 0; i < 5000; i++)
        {
            var bytes = new byte[random.Next(0, 1600)];
            random.NextBytes(bytes);
            if (i % 2 == 0)
            {
                // Half start like an announce, so the header loop sees garbage too.
                var prefix = Ascii("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n");
                prefix.AsSpan(0, Math.Min(bytes.Length, prefix.Length)).CopyTo(bytes);
            }
            LsdMessage.TryParse(bytes, out _, out _);
        }
        Assert.False(LsdMessage.TryParse([0x1b, (byte)'[', (byte)'2', (byte)'J', (byte)' ', (byte)'x'], out _, out var error));
        Assert.DoesNotContain("\u001b", error!, StringComparison.Ordinal);
    }

    [Fact]
    public void Many_torrents_are_packed_into_datagrams_of_at_most_1400_bytes()
    {
        var hashes = Enumerable.Range(0, 100).Select(i => new InfoHash(Enumerable.Repeat((byte)(i + 1), 20).ToArray())).ToArray();

        var datagrams = LsdMessage.FormatAll(65535, hashes, "ffffffff");

        Assert.All(datagrams, d => Assert.InRange(d.Length, 1, LsdMessage.MaxFormattedLength));
        Assert.Equal(LsdMessage.MaxInfoHashesPerDatagram(65535, "ffffffff"), LsdMessage.TryParse(datagrams[0], out var first, out _) ? first.InfoHashes.Count : -1);
        var heard = datagrams.SelectMany(d => LsdMessage.TryParse(d, out var a, out _) ? a.InfoHashes : []).ToArray();
        Assert.Equal(hashes, heard);
        Assert.Equal(4, datagrams.Count);
    }

    [Fact]
    public void Formatting_an_impossible_announce_is_a_bug_and_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LsdMessage.Format(0, [A], null));
        Assert.Throws<ArgumentException>(() => LsdMessage.Format(1, [], null));
        Assert.Throws<ArgumentException>(() => LsdMessage.Format(1, [A], "no spaces"));
        Assert.Throws<ArgumentException>(() => LsdMessage.Format(1, Enumerable.Repeat(A, 30).ToArray(), null));
    }
}
