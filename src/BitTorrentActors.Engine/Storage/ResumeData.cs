using BitTorrentActors.Protocol.Bencode;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// One file as it was on disk when the resume data was taken: its length (-1 when absent) and last-write time in
/// UTC ticks (0 when absent, and for pad files, which never exist on disk).
/// </summary>
public readonly record struct FileStamp(long Length, long LastWriteTicks)
{
    public static readonly FileStamp Absent = new(-1, 0);
}

/// <summary>
/// What a torrent's resume file says: the pieces verified and written, and every file's stamp taken after those
/// writes. Bencoded as a dictionary:
/// <c>format</c> "bta-resume", <c>version</c> 1, <c>info-hash</c> (20 bytes), <c>piece-count</c>,
/// <c>pieces</c> (wire bitfield bytes), <c>files</c> (a list of <c>[length, mtime-ticks]</c> in torrent order),
/// <c>saved</c> (UTC ticks, for people reading it).
/// </summary>
public sealed record ResumeData(InfoHash InfoHash, Bitfield Verified, IReadOnlyList<FileStamp> Files, long SavedTicks)
{
    public const string Format = "bta-resume";
    public const int Version = 1;

    public byte[] Encode() => BencodeEncoder.Encode(BDictionary.From(
        ("format", new BString(Format)),
        ("version", new BInteger(Version)),
        ("info-hash", new BString(InfoHash.ToArray())),
        ("piece-count", new BInteger(Verified.PieceCount)),
        ("pieces", new BString(Verified.AsSpan().ToArray())),
        ("files", new BList(Files.Select(f => (BValue)new BList([new BInteger(f.Length), new BInteger(f.LastWriteTicks)])))),
        ("saved", new BInteger(SavedTicks))));

    /// <summary>
    /// Decodes a resume file written for <paramref name="metainfo"/>. Null with a one-line reason when the bytes are
    /// not a resume file of this format, or belong to another torrent or another shape of it: such a file is never
    /// trusted, the data is re-checked instead.
    /// </summary>
    public static ResumeData? Decode(ReadOnlyMemory<byte> bytes, TorrentMetainfo metainfo, out string? problem)
    {
        var decoded = BencodeDecoder.Decode(bytes);
        if (!decoded.Success || decoded.Value is not BDictionary root)
        {
            problem = decoded.Error is { } error ? $"not bencode ({error})" : "not a dictionary";
            return null;
        }
        if (root.GetString("format")?.Text != Format || root.GetInteger("version")?.Value != Version)
        {
            problem = $"not a {Format} file of version {Version}";
            return null;
        }
        if (root.GetString("info-hash") is not { Bytes.Length: InfoHash.Length } hash
            || new InfoHash(hash.Span) != metainfo.InfoHash)
        {
            problem = "written for another torrent (info-hash differs)";
            return null;
        }
        if (root.GetInteger("piece-count")?.Value != metainfo.PieceCount
            || root.GetString("pieces") is not { } pieces
            || !Bitfield.TryFromWire(pieces.Span, metainfo.PieceCount, out var verified))
        {
            problem = "its piece bitfield does not fit the torrent";
            return null;
        }
        if (ReadFiles(root.GetList("files"), metainfo.Files.Count) is not { } files)
        {
            problem = "its file list does not fit the torrent";
            return null;
        }
        problem = null;
        return new ResumeData(metainfo.InfoHash, verified, files, root.GetInteger("saved")?.Value ?? 0);
    }

    private static FileStamp[]? ReadFiles(BList? list, int count)
    {
        if (list is null || list.Count != count)
        {
            return null;
        }
        var files = new FileStamp[count];
        for (var i = 0; i < count; i++)
        {
            if (list[i] is not BList { Count: 2 } entry || entry[0] is not BInteger length || entry[1] is not BInteger ticks)
            {
                return null;
            }
            files[i] = new FileStamp(length.Value, ticks.Value);
        }
        return files;
    }
}
