using System.Text;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Tests.Metainfo;

/// <summary>Helpers for writing torrents by hand as bencode text, so tests see every byte they parse.</summary>
internal static class TorrentText
{
    /// <summary>A bencode string of the text's UTF-8 bytes.</summary>
    public static string S(string text) => $"{Encoding.UTF8.GetByteCount(text)}:{text}";

    /// <summary>n piece hashes of 20 ASCII letters each ('A' repeated, then 'B', ...).</summary>
    public static string Pieces(int count)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            builder.Append((char)('A' + i % 26), 20);
        }
        return S(builder.ToString());
    }

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>A torrent with the given info dictionary text and optional extra top-level entries.</summary>
    public static byte[] Torrent(string info, string extra = "") => Bytes($"d{extra}4:info{info}e");

    /// <summary>A valid single-file info dictionary of `length` bytes in 16 KiB pieces.</summary>
    public static string SingleInfo(long length = 50000, string name = "file.bin")
    {
        var pieces = (int)((length + 16383) / 16384);
        return $"d6:lengthi{length}e4:name{S(name)}12:piece lengthi16384e6:pieces{Pieces(pieces)}e";
    }

    /// <summary>A valid multi-file info dictionary; files are (bencoded path list, length), all in one piece.</summary>
    public static string MultiInfo(string name, params (string PathList, long Length)[] files)
    {
        var list = string.Concat(files.Select(f => $"d6:lengthi{f.Length}e4:path{f.PathList}e"));
        var total = files.Sum(f => f.Length);
        var pieces = (int)((total + 16383) / 16384);
        return $"d5:filesl{list}e4:name{S(name)}12:piece lengthi16384e6:pieces{Pieces(pieces)}e";
    }

    public static string PathList(params string[] elements) => "l" + string.Concat(elements.Select(S)) + "e";

    public static TorrentMetainfo ParseOk(byte[] torrent, TorrentLimits? limits = null)
    {
        var result = TorrentMetainfo.Parse(torrent, limits);
        Assert.True(result.Success, result.Error);
        return result.Metainfo;
    }

    public static void AssertInsideRoot(TorrentMetainfo metainfo)
    {
        var root = Path.GetFullPath(Path.Combine(Path.GetTempPath(), "bta-root"));
        foreach (var file in metainfo.Files)
        {
            Assert.False(Path.IsPathRooted(file.Path), file.Path);
            var full = Path.GetFullPath(Path.Combine(root, file.Path));
            Assert.StartsWith(root + Path.DirectorySeparatorChar, full);
            Assert.True(PathSanitizer.IsInside(root, file.Path), file.Path);
            Assert.Equal(file.Path, string.Join('/', file.PathElements));
            Assert.DoesNotContain(file.PathElements, e => e is "" or "." or "..");
        }
    }
}
