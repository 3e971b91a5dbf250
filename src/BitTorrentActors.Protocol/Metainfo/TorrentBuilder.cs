using System.Globalization;
using System.Security.Cryptography;
using BitTorrentActors.Protocol.Bencode;

namespace BitTorrentActors.Protocol.Metainfo;

/// <summary>
/// Builds canonical v1 torrent files from content the caller supplies, with no file-system access: tests and tools
/// make torrents without external programs. Throws on bad arguments, since its input is code, not the network.
/// </summary>
public static class TorrentBuilder
{
    /// <summary>
    /// Builds from file descriptions and a stream yielding the files' bytes back to back (pad files excluded: the
    /// builder supplies their zeros). <paramref name="singleFile"/> with exactly one file makes a single-file
    /// torrent named <paramref name="name"/>; <paramref name="padFiles"/> inserts BEP 47 pad files so that every
    /// file of a multi-file torrent starts on a piece boundary.
    /// </summary>
    public static byte[] Build(
        string name,
        int pieceLength,
        IReadOnlyList<(string[] PathElements, long Length)> files,
        Stream content,
        IReadOnlyList<IReadOnlyList<string>>? announceTiers = null,
        bool isPrivate = false,
        string? comment = null,
        string? createdBy = null,
        DateTimeOffset? creationDate = null,
        IReadOnlyList<string>? urlList = null,
        bool singleFile = false,
        bool padFiles = false)
    {
        ArgumentNullException.ThrowIfNull(content);
        CheckShape(name, pieceLength, files.Count, singleFile);

        var entries = singleFile ? [(files[0].PathElements, files[0].Length, false)] : Layout(files, pieceLength, padFiles);
        return Encode(name, pieceLength, entries, HashPieces(entries, content, pieceLength), announceTiers, isPrivate,
            comment, createdBy, creationDate, urlList, singleFile, source: null);
    }

    /// <summary>
    /// Builds from file descriptions and piece hashes the caller computed (in parallel, from files on disk): the
    /// SHA-1 of each <paramref name="pieceLength"/> slice of the files' bytes back to back, 20 bytes per piece. No
    /// pad files. <paramref name="source"/> is the info dictionary's <c>source</c> (private trackers use it to give
    /// a cross-seeded torrent its own info-hash).
    /// </summary>
    public static byte[] BuildFromHashes(
        string name,
        int pieceLength,
        IReadOnlyList<(string[] PathElements, long Length)> files,
        ReadOnlySpan<byte> pieceHashes,
        IReadOnlyList<IReadOnlyList<string>>? announceTiers = null,
        bool isPrivate = false,
        string? comment = null,
        string? createdBy = null,
        DateTimeOffset? creationDate = null,
        IReadOnlyList<string>? urlList = null,
        bool singleFile = false,
        string? source = null)
    {
        CheckShape(name, pieceLength, files.Count, singleFile);
        var total = files.Sum(f => f.Length);
        var pieces = PieceCount(total, pieceLength);
        if (pieceHashes.Length != pieces * 20)
        {
            throw new ArgumentException($"{pieces} pieces need {pieces * 20} hash bytes, got {pieceHashes.Length}", nameof(pieceHashes));
        }
        var entries = files.Select(f => (f.PathElements, f.Length, false)).ToList();
        return Encode(name, pieceLength, entries, pieceHashes.ToArray(), announceTiers, isPrivate, comment, createdBy,
            creationDate, urlList, singleFile, source);
    }

    /// <summary>Pieces of <paramref name="pieceLength"/> that hold <paramref name="totalLength"/> bytes (the last may be short).</summary>
    public static long PieceCount(long totalLength, int pieceLength) => (totalLength + pieceLength - 1) / pieceLength;

    /// <summary>
    /// The piece length for content of <paramref name="totalLength"/> bytes: the smallest power of two from 16 KiB
    /// up that keeps the torrent at about 1500 pieces or fewer, at most 16 MiB (the sizes libtorrent and mktorrent
    /// pick within a factor of two: small torrents stay small, large ones keep a short piece list).
    /// </summary>
    public static int ChoosePieceLength(long totalLength)
    {
        const int min = 16 * 1024;
        const int max = 16 * 1024 * 1024;
        var length = min;
        while (length < max && PieceCount(totalLength, length) > 1500)
        {
            length *= 2;
        }
        return length;
    }

    /// <summary>What every build checks first: a name, a positive piece length, at least one file, and one
    /// file exactly for a single-file torrent.</summary>
    private static void CheckShape(string name, int pieceLength, int fileCount, bool singleFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        if (fileCount == 0)
        {
            throw new ArgumentException("a torrent needs at least one file", "files");
        }
        if (singleFile && fileCount != 1)
        {
            throw new ArgumentException("a single-file torrent has exactly one file", "files");
        }
    }

    private static byte[] Encode(
        string name,
        int pieceLength,
        List<(string[] Path, long Length, bool IsPad)> entries,
        byte[] pieceHashes,
        IReadOnlyList<IReadOnlyList<string>>? announceTiers,
        bool isPrivate,
        string? comment,
        string? createdBy,
        DateTimeOffset? creationDate,
        IReadOnlyList<string>? urlList,
        bool singleFile,
        string? source)
    {
        var info = new List<(string, BValue)>
        {
            ("name", new BString(name)),
            ("piece length", new BInteger(pieceLength)),
            ("pieces", new BString(pieceHashes)),
        };
        if (singleFile)
        {
            info.Add(("length", new BInteger(entries[0].Length)));
        }
        else
        {
            info.Add(("files", new BList(entries.Select(FileEntry))));
        }
        if (isPrivate)
        {
            info.Add(("private", new BInteger(1)));
        }
        if (source is not null)
        {
            info.Add(("source", new BString(source)));
        }

        var root = new List<(string, BValue)> { ("info", BDictionary.From(info.ToArray())) };
        var tiers = announceTiers?.Where(t => t.Count > 0).ToList() ?? [];
        if (tiers.Count > 0)
        {
            root.Add(("announce", new BString(tiers[0][0])));
            root.Add(("announce-list", new BList(tiers.Select(t => new BList(t.Select(u => new BString(u)))))));
        }
        if (comment is not null)
        {
            root.Add(("comment", new BString(comment)));
        }
        if (createdBy is not null)
        {
            root.Add(("created by", new BString(createdBy)));
        }
        if (creationDate is { } date)
        {
            root.Add(("creation date", new BInteger(date.ToUnixTimeSeconds())));
        }
        if (urlList is { Count: > 0 })
        {
            root.Add(("url-list", new BList(urlList.Select(u => new BString(u)))));
        }
        return BencodeEncoder.Encode(BDictionary.From(root.ToArray()));
    }

    /// <summary>
    /// Builds from in-memory files: each path is relative with '/' between elements. A convenience for tests.
    /// </summary>
    public static byte[] Build(
        string name,
        int pieceLength,
        IReadOnlyList<(string Path, byte[] Content)> files,
        IReadOnlyList<IReadOnlyList<string>>? announceTiers = null,
        bool isPrivate = false,
        string? comment = null,
        string? createdBy = null,
        DateTimeOffset? creationDate = null,
        IReadOnlyList<string>? urlList = null,
        bool singleFile = false,
        bool padFiles = false)
    {
        var descriptions = files.Select(f => (f.Path.Split('/'), (long)f.Content.Length)).ToList();
        using var content = new MemoryStream(files.SelectMany(f => f.Content).ToArray(), writable: false);
        return Build(name, pieceLength, descriptions, content, announceTiers, isPrivate, comment, createdBy,
            creationDate, urlList, singleFile, padFiles);
    }

    private static List<(string[] Path, long Length, bool IsPad)> Layout(
        IReadOnlyList<(string[] PathElements, long Length)> files, int pieceLength, bool padFiles)
    {
        var entries = new List<(string[] Path, long Length, bool IsPad)>();
        long offset = 0;
        foreach (var (path, length) in files)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(length);
            var misalignment = offset % pieceLength;
            if (padFiles && misalignment != 0 && length > 0)
            {
                var padLength = pieceLength - misalignment;
                entries.Add(([".pad", padLength.ToString(CultureInfo.InvariantCulture)], padLength, true));
                offset += padLength;
            }
            entries.Add((path, length, false));
            offset += length;
        }
        return entries;
    }

    private static BDictionary FileEntry((string[] Path, long Length, bool IsPad) entry)
    {
        var fields = new List<(string, BValue)>
        {
            ("length", new BInteger(entry.Length)),
            ("path", new BList(entry.Path.Select(e => new BString(e)))),
        };
        if (entry.IsPad)
        {
            fields.Add(("attr", new BString("p")));
        }
        return BDictionary.From(fields.ToArray());
    }

    private static byte[] HashPieces(List<(string[] Path, long Length, bool IsPad)> entries, Stream content, int pieceLength)
    {
        var hashes = new MemoryStream();
        var buffer = new byte[pieceLength];
        var filled = 0;
        foreach (var (_, length, isPad) in entries)
        {
            var remaining = length;
            while (remaining > 0)
            {
                var take = (int)Math.Min(remaining, pieceLength - filled);
                var target = buffer.AsSpan(filled, take);
                if (isPad)
                {
                    target.Clear();
                }
                else
                {
                    content.ReadExactly(target);
                }
                filled += take;
                remaining -= take;
                if (filled == pieceLength)
                {
                    hashes.Write(SHA1.HashData(buffer));
                    filled = 0;
                }
            }
        }
        if (filled > 0)
        {
            hashes.Write(SHA1.HashData(buffer.AsSpan(0, filled)));
        }
        return hashes.ToArray();
    }
}
