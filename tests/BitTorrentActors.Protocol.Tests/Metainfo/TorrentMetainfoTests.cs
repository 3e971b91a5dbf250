using System.Security.Cryptography;
using BitTorrentActors.Protocol.Bencode;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Protocol.Tests.Metainfo.TorrentText;

namespace BitTorrentActors.Protocol.Tests.Metainfo;

public class TorrentMetainfoTests
{
    [Fact]
    public void Single_file_torrent_parses_byte_exact()
    {
        var info = SingleInfo(50000);
        var torrent = Torrent(info, $"8:announce{S("http://t.example/announce")}7:comment{S("hi")}10:created by{S("me")}13:creation datei1700000000e");

        var m = ParseOk(torrent);

        Assert.Equal(new InfoHash(SHA1.HashData(Bytes(info))), m.InfoHash);
        Assert.Equal(Bytes(info), m.RawInfo.ToArray());
        Assert.Equal("file.bin", m.Name);
        Assert.False(m.IsMultiFile);
        Assert.Equal(50000, m.TotalLength);
        Assert.Equal(16384, m.PieceLength);
        Assert.Equal(4, m.PieceCount);
        Assert.Equal(new string('B', 20), System.Text.Encoding.ASCII.GetString(m.GetPieceHash(1)));
        Assert.Equal(16384, m.GetPieceSize(2));
        Assert.Equal(50000 - 3 * 16384, m.GetPieceSize(3));
        var file = Assert.Single(m.Files);
        Assert.Equal(new TorrentFile("file.bin", file.PathElements, 50000, 0, false), file);
        Assert.Equal(["file.bin"], file.PathElements);
        Assert.Equal([["http://t.example/announce"]], m.AnnounceTiers);
        Assert.Equal("hi", m.Comment);
        Assert.Equal("me", m.CreatedBy);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), m.CreationDate);
        Assert.False(m.IsPrivate);
        Assert.Empty(m.UrlList);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.GetPieceHash(4).ToArray());
    }

    [Fact]
    public void Multi_file_torrent_with_unsorted_keys_hashes_the_raw_bytes()
    {
        // "name" before "files" and "length" after "path": not canonical, but the hash is over these exact bytes.
        var info = $"d4:name{S("dir")}12:piece lengthi32768e5:filesld6:lengthi100e4:path{PathList("a", "b.txt")}e"
            + $"d4:path{PathList("c")}6:lengthi200eee6:pieces{Pieces(1)}e";
        var m = ParseOk(Torrent(info));

        var expected = new InfoHash(SHA1.HashData(Bytes(info)));
        Assert.Equal(expected, m.InfoHash);
        var decodedInfo = (BDictionary)BencodeDecoder.Decode(Bytes(info)).Value!;
        Assert.False(decodedInfo.IsCanonical);
        Assert.NotEqual(InfoHash.Compute(BencodeEncoder.Encode(decodedInfo)), m.InfoHash);

        Assert.True(m.IsMultiFile);
        Assert.Equal(300, m.TotalLength);
        Assert.Equal(["dir/a/b.txt", "dir/c"], m.Files.Select(f => f.Path));
        Assert.Equal(["dir", "a", "b.txt"], m.Files[0].PathElements);
        Assert.Equal([0L, 100L], m.Files.Select(f => f.Offset));
        Assert.Equal([100L, 200L], m.Files.Select(f => f.Length));
        Assert.Equal(300, m.GetPieceSize(0));
    }

    [Fact]
    public void Utf8_twins_of_name_and_path_are_preferred()
    {
        var info = $"d5:filesld6:lengthi5e4:path{PathList("bad")}10:path.utf-8{PathList("Größe.txt")}ee"
            + $"4:name{S("x")}{S("name.utf-8")}{S("Résumé")}12:piece lengthi16384e6:pieces{Pieces(1)}e";
        var m = ParseOk(Torrent(info, $"7:comment{S("plain")}13:comment.utf-8{S("ünïcode")}"));

        Assert.Equal("Résumé", m.Name);
        Assert.Equal("Résumé/Größe.txt", m.Files[0].Path);
        Assert.Equal("ünïcode", m.Comment);
    }

    [Fact]
    public void Announce_list_tiers_drop_empty_and_duplicate_urls()
    {
        // Tiers: [a, b, a], [], [""], [c, b], then a stray integer.
        var list = $"ll{S("udp://a")}{S("http://b")}{S("udp://a")}elel{S("")}el{S("http://c")}{S("http://b")}ei5ee";
        var m = ParseOk(Torrent(SingleInfo(), $"8:announce{S("http://ignored")}13:announce-list{list}"));

        Assert.Equal([["udp://a", "http://b"], ["http://c"]], m.AnnounceTiers);
    }

    [Theory]
    [InlineData("13:announce-listle")]
    [InlineData("13:announce-listll0:ee")]
    [InlineData("")]
    public void Announce_is_the_single_tier_when_the_list_is_absent_or_empty(string list)
    {
        var m = ParseOk(Torrent(SingleInfo(), $"8:announce{S("http://only")}{list}"));

        Assert.Equal([["http://only"]], m.AnnounceTiers);
    }

    [Fact]
    public void No_trackers_gives_no_tiers() => Assert.Empty(ParseOk(Torrent(SingleInfo())).AnnounceTiers);

    [Theory]
    [InlineData("i1e", true)]
    [InlineData("i0e", false)]
    [InlineData("i2e", false)]
    public void Private_flag_follows_bep_27(string value, bool expected)
    {
        var info = SingleInfo()[..^1] + $"7:private{value}e";
        Assert.Equal(expected, ParseOk(Torrent(info)).IsPrivate);
    }

    [Fact]
    public void Url_list_may_be_a_string() =>
        Assert.Equal(["http://seed/f"], ParseOk(Torrent(SingleInfo(), $"8:url-list{S("http://seed/f")}")).UrlList);

    [Fact]
    public void Url_list_may_be_a_list()
    {
        var m = ParseOk(Torrent(SingleInfo(), $"8:url-listl{S("http://a/")}{S("")}{S("http://b/")}{S("http://a/")}i1ee"));
        Assert.Equal(["http://a/", "http://b/"], m.UrlList);
    }

    [Fact]
    public void Bogus_creation_date_is_ignored() =>
        Assert.Null(ParseOk(Torrent(SingleInfo(), "13:creation datei9223372036854775807e")).CreationDate);

    [Fact]
    public void Pad_files_are_flagged_by_attr_or_legacy_name()
    {
        var info = MultiInfo("t",
            (PathList("a"), 10),
            (PathList(".pad", "6"), 6),
            (PathList(".____padding_file", "0"), 4),
            (PathList("_____padding_file_1_readme"), 2),
            (PathList("b"), 3));
        info = info.Replace($"d6:lengthi6e4:path{PathList(".pad", "6")}e", $"d4:attr1:p6:lengthi6e4:path{PathList(".pad", "6")}e");
        var m = ParseOk(Torrent(info));

        Assert.Equal([false, true, true, true, false], m.Files.Select(f => f.IsPadFile));
        Assert.Equal([0L, 10L, 16L, 20L, 22L], m.Files.Select(f => f.Offset));
        Assert.Equal(25, m.TotalLength);
    }

    [Fact]
    public void Attr_without_p_is_not_a_pad_file()
    {
        var info = MultiInfo("t", (PathList("x"), 5)).Replace("d6:lengthi5e", "d4:attr1:x6:lengthi5e");
        Assert.False(ParseOk(Torrent(info)).Files[0].IsPadFile);
    }

    [Fact]
    public void Zero_length_files_are_listed()
    {
        var m = ParseOk(Torrent(MultiInfo("t", (PathList("empty"), 0), (PathList("data"), 7))));
        Assert.Equal(["t/empty", "t/data"], m.Files.Select(f => f.Path));
        Assert.Equal([0L, 0L], m.Files.Select(f => f.Offset));
    }

    [Fact]
    public void Parse_copies_the_input()
    {
        var torrent = Torrent(SingleInfo());
        var m = ParseOk(torrent);
        var before = m.RawInfo.ToArray();
        Array.Fill(torrent, (byte)0);
        Assert.Equal(before, m.RawInfo.ToArray());
    }
}
