using System.Security.Cryptography;
using BitTorrentActors.Protocol.Bencode;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Tests.Metainfo;

public class TorrentBuilderTests
{
    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static void AssertPieceHashes(TorrentMetainfo m, byte[] stream)
    {
        Assert.Equal(stream.Length, m.TotalLength);
        for (var i = 0; i < m.PieceCount; i++)
        {
            var start = i * m.PieceLength;
            var piece = stream.AsSpan(start, Math.Min(m.PieceLength, stream.Length - start));
            Assert.Equal(piece.Length, m.GetPieceSize(i));
            Assert.Equal(SHA1.HashData(piece), m.GetPieceHash(i).ToArray());
        }
    }

    [Fact]
    public void Multi_file_round_trip()
    {
        var random = new Random(7);
        (string Path, byte[] Content)[] files =
        [
            ("readme.txt", RandomBytes(random, 1000)),
            ("sub/dir/data.bin", RandomBytes(random, 40000)),
            ("empty", []),
            ("sub/last", RandomBytes(random, 123)),
        ];
        var tiers = new[] { new[] { "http://a/announce", "udp://b:80" }, new[] { "http://c/announce" } };
        var date = DateTimeOffset.FromUnixTimeSeconds(1_600_000_000);

        var torrent = TorrentBuilder.Build("pack", 16384, files, tiers, isPrivate: true, comment: "c",
            createdBy: "tests", creationDate: date, urlList: ["http://seed/"]);
        var m = TorrentText.ParseOk(torrent);

        Assert.True(m.IsMultiFile);
        Assert.Equal("pack", m.Name);
        Assert.Equal(["pack/readme.txt", "pack/sub/dir/data.bin", "pack/empty", "pack/sub/last"], m.Files.Select(f => f.Path));
        Assert.Equal(files.Select(f => (long)f.Content.Length), m.Files.Select(f => f.Length));
        Assert.All(m.Files, f => Assert.False(f.IsPadFile));
        AssertPieceHashes(m, files.SelectMany(f => f.Content).ToArray());
        Assert.Equal(tiers, m.AnnounceTiers);
        Assert.True(m.IsPrivate);
        Assert.Equal("c", m.Comment);
        Assert.Equal("tests", m.CreatedBy);
        Assert.Equal(date, m.CreationDate);
        Assert.Equal(["http://seed/"], m.UrlList);
    }

    [Fact]
    public void Output_is_canonical_and_hash_matches_reencoding()
    {
        var torrent = TorrentBuilder.Build("x", 32768, [("b", new byte[5]), ("a", new byte[7])], comment: "z");
        var decoded = BencodeDecoder.Decode(torrent);
        var root = Assert.IsType<BDictionary>(decoded.Value);
        Assert.True(root.IsCanonical);
        Assert.Equal(torrent, BencodeEncoder.Encode(root));
        var m = TorrentText.ParseOk(torrent);
        Assert.Equal(InfoHash.Compute(BencodeEncoder.Encode(root.GetDictionary("info")!)), m.InfoHash);
        // File order is the caller's, not sorted.
        Assert.Equal(["x/b", "x/a"], m.Files.Select(f => f.Path));
    }

    [Fact]
    public void Single_file_round_trip_from_a_stream()
    {
        var content = RandomBytes(new Random(3), 70000);
        var torrent = TorrentBuilder.Build("movie.mkv", 32768, [(["ignored"], 70000L)], new MemoryStream(content),
            announceTiers: [["http://t/"]], singleFile: true);
        var m = TorrentText.ParseOk(torrent);

        Assert.False(m.IsMultiFile);
        Assert.Equal("movie.mkv", Assert.Single(m.Files).Path);
        Assert.Equal(3, m.PieceCount);
        Assert.Equal(70000 - 2 * 32768, m.GetPieceSize(2));
        AssertPieceHashes(m, content);
        Assert.Equal([["http://t/"]], m.AnnounceTiers);
        Assert.False(m.IsPrivate);
    }

    [Fact]
    public void Pad_files_align_every_file_to_a_piece()
    {
        var random = new Random(5);
        (string, byte[])[] files = [("a", RandomBytes(random, 100)), ("b", RandomBytes(random, 16384)), ("c", RandomBytes(random, 1))];
        var m = TorrentText.ParseOk(TorrentBuilder.Build("p", 16384, files, padFiles: true));

        Assert.Equal(["p/a", "p/.pad/16284", "p/b", "p/c"], m.Files.Select(f => f.Path));
        Assert.Equal([false, true, false, false], m.Files.Select(f => f.IsPadFile));
        Assert.Equal([0L, 100L, 16384L, 32768L], m.Files.Select(f => f.Offset));
        byte[] stream = [.. files[0].Item2, .. new byte[16284], .. files[1].Item2, .. files[2].Item2];
        AssertPieceHashes(m, stream);
        Assert.Equal([new FileSpan(0, 0, 100, 0, false), new FileSpan(1, 0, 16284, 100, true)], m.Layout.MapPiece(0));
    }

    [Fact]
    public void Short_stream_and_bad_arguments_throw()
    {
        Assert.Throws<EndOfStreamException>(() =>
            TorrentBuilder.Build("x", 16, [(["a"], 10L)], new MemoryStream(new byte[9])));
        Assert.Throws<ArgumentException>(() => TorrentBuilder.Build("x", 16, Array.Empty<(string, byte[])>()));
        Assert.Throws<ArgumentException>(() => TorrentBuilder.Build("x", 16, [("a", new byte[1]), ("b", new byte[1])], singleFile: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => TorrentBuilder.Build("x", 0, [("a", new byte[1])]));
    }
}
