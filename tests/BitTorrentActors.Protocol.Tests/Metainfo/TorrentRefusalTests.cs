using System.Diagnostics;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Protocol.Tests.Metainfo.TorrentText;

namespace BitTorrentActors.Protocol.Tests.Metainfo;

public class TorrentRefusalTests
{
    private static void AssertRefused(byte[] torrent, string reason, TorrentLimits? limits = null)
    {
        var result = TorrentMetainfo.Parse(torrent, limits);
        Assert.False(result.Success, $"expected refusal '{reason}'");
        Assert.Null(result.Metainfo);
        Assert.Contains(reason, result.Error);
        Assert.DoesNotContain('\n', result.Error);
    }

    private static string Info(string entries) => $"d{entries}e";

    private static readonly string _name = $"4:name{S("n")}";
    private static readonly string _pieceLength = "12:piece lengthi16384e";
    private static readonly string _onePiece = $"6:pieces{Pieces(1)}";

    [Theory]
    [InlineData("", "not valid bencode")]
    [InlineData("d4:infod", "not valid bencode")]
    [InlineData("i42e", "not a dictionary")]
    [InlineData("le", "not a dictionary")]
    [InlineData("de", "missing info dictionary")]
    [InlineData("d4:infoi1ee", "info is not a dictionary")]
    public void Refuses_what_is_not_a_torrent(string text, string reason) => AssertRefused(Bytes(text), reason);

    [Theory]
    [InlineData("", "missing piece length")]
    [InlineData("12:piece length3:abc", "missing piece length")]
    [InlineData("12:piece lengthi0e", "piece length 0 is not positive")]
    [InlineData("12:piece lengthi-16384e", "is not positive")]
    [InlineData("12:piece lengthi134217729e", "over the 134217728-byte limit")]
    public void Refuses_bad_piece_length(string pieceLength, string reason) =>
        AssertRefused(Torrent(Info($"6:lengthi5e{_name}{pieceLength}{_onePiece}")), reason);

    [Fact]
    public void Accepts_the_largest_piece_length()
    {
        var info = Info($"6:lengthi5e{_name}12:piece lengthi134217728e{_onePiece}");
        Assert.True(TorrentMetainfo.Parse(Torrent(info)).Success);
    }

    [Theory]
    [InlineData("", "missing name")]
    [InlineData("4:namei5e", "missing name")]
    public void Refuses_missing_name(string name, string reason) =>
        AssertRefused(Torrent(Info($"6:lengthi5e{name}{_pieceLength}{_onePiece}")), reason);

    [Fact]
    public void Refuses_both_length_and_files() =>
        AssertRefused(Torrent(Info($"5:filesld6:lengthi5e4:path{PathList("a")}ee6:lengthi5e{_name}{_pieceLength}{_onePiece}")),
            "both length and files");

    [Fact]
    public void Refuses_neither_length_nor_files() =>
        AssertRefused(Torrent(Info($"{_name}{_pieceLength}{_onePiece}")), "neither length nor files");

    [Theory]
    [InlineData("6:lengthi-1e", "negative file length -1")]
    [InlineData("6:length1:5", "length is not an integer")]
    [InlineData("6:lengthi0e", "no data")]
    public void Refuses_bad_single_file_length(string length, string reason) =>
        AssertRefused(Torrent(Info($"{length}{_name}{_pieceLength}{_onePiece}")), reason);

    [Theory]
    [InlineData("5:filesle", "no files")]
    [InlineData("5:files3:abc", "files is not a list")]
    [InlineData("5:filesli1ee", "file 0 is not a dictionary")]
    [InlineData("5:filesld4:pathl1:aeee", "file 0 has no integer length")]
    [InlineData("5:filesld6:lengthi-5e4:pathl1:aeee", "file 0 has negative length -5")]
    [InlineData("5:filesld6:lengthi5e4:pathl1:aeed6:lengthi-1e4:pathl1:beee", "file 1 has negative length -1")]
    [InlineData("5:filesld6:lengthi5eee", "file 0 has no path list")]
    [InlineData("5:filesld6:lengthi5e4:path1:aee", "file 0 has no path list")]
    [InlineData("5:filesld6:lengthi5e4:pathli1eeee", "path element that is not a string")]
    public void Refuses_bad_file_lists(string files, string reason) =>
        AssertRefused(Torrent(Info($"{files}{_name}{_pieceLength}{_onePiece}")), reason);

    [Theory]
    [InlineData("6:pieces19:AAAAAAAAAAAAAAAAAAA", "not a multiple of 20")]
    [InlineData("6:pieces21:AAAAAAAAAAAAAAAAAAAAA", "not a multiple of 20")]
    [InlineData("6:pieces0:", "wrong piece count: 0 hashes for 4 pieces")]
    [InlineData("", "missing pieces")]
    [InlineData("6:piecesi1e", "missing pieces")]
    public void Refuses_bad_pieces(string pieces, string reason) =>
        AssertRefused(Torrent(Info($"6:lengthi50000e{_name}{_pieceLength}{pieces}")), reason);

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void Refuses_wrong_piece_count(int count) =>
        AssertRefused(Torrent(Info($"6:lengthi50000e{_name}{_pieceLength}6:pieces{Pieces(count)}")),
            $"wrong piece count: {count} hashes for 4 pieces");

    [Fact]
    public void Refuses_a_total_size_over_the_limit()
    {
        var files = $"5:filesld6:lengthi{1L << 47}e4:pathl1:aeed6:lengthi{1L << 47}e4:pathl1:beed6:lengthi1e4:pathl1:ceee";
        AssertRefused(Torrent(Info($"{files}{_name}{_pieceLength}{_onePiece}")), "total size is over");
    }

    [Fact]
    public void Refuses_past_configured_limits()
    {
        var torrent = Torrent(MultiInfo("t", (PathList("a"), 1), (PathList("b", "c", "d"), 1), (PathList("e"), 40000)));
        Assert.True(TorrentMetainfo.Parse(torrent).Success);
        AssertRefused(torrent, "3 files is over the 2-file limit", TorrentLimits.Default with { MaxFiles = 2 });
        AssertRefused(torrent, "file 1 has 3 path elements, over the 2 limit", TorrentLimits.Default with { MaxDirectoryDepth = 2 });
        AssertRefused(torrent, "3 pieces is over the 2-piece limit", TorrentLimits.Default with { MaxPieces = 2 });
        AssertRefused(torrent, "piece length 16384 is over", TorrentLimits.Default with { MaxPieceLength = 16383 });
        AssertRefused(torrent, "total size is over the 40000-byte limit", TorrentLimits.Default with { MaxTotalSize = 40000 });
        AssertRefused(torrent, "token", TorrentLimits.Default with { MaxDecodeTokens = 10 });
        AssertRefused(torrent, "nesting deeper than 2", TorrentLimits.Default with { MaxDepth = 2 });
    }

    [Fact]
    public void Size_limit_is_exact_and_checked_before_decoding()
    {
        var limit = TorrentLimits.Default.MaxTorrentFileSize;
        Assert.Equal(10_000_000, limit);
        // A valid torrent padded with a comment to exactly the limit loads; one byte more is refused by size,
        // which proves the size check runs before decoding (the content would decode fine).
        var info = SingleInfo();
        // The comment's length prefix is 7 digits and a colon at this size.
        var commentLength = limit - Torrent(info, "7:comment").Length - 8;
        var atLimit = Torrent(info, $"7:comment{commentLength}:{new string('x', commentLength)}");
        Assert.Equal(limit, atLimit.Length);
        Assert.True(TorrentMetainfo.Parse(atLimit).Success);

        var over = Torrent(info, $"7:comment{commentLength + 1}:{new string('x', commentLength + 1)}");
        Assert.Equal(limit + 1, over.Length);
        AssertRefused(over, "torrent file is 10000001 bytes, over the 10000000-byte limit");

        // Garbage of the same size gets the size reason too, not a decoding one, and quickly.
        var garbage = new byte[limit + 1];
        Array.Fill(garbage, (byte)'l');
        var watch = Stopwatch.StartNew();
        AssertRefused(garbage, "over the 10000000-byte limit");
        Assert.True(watch.ElapsedMilliseconds < 1000, $"took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void Deep_nesting_is_refused_not_a_stack_overflow()
    {
        var deep = Bytes(new string('l', 100_000) + new string('e', 100_000));
        AssertRefused(deep, "nesting deeper than 100");
    }
}
