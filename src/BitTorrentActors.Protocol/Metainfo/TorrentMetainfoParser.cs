using System.Globalization;
using BitTorrentActors.Protocol.Bencode;

namespace BitTorrentActors.Protocol.Metainfo;

/// <summary>
/// Validates a decoded torrent. Required fields that are wrong refuse the torrent with a reason; optional fields
/// (trackers, comment, dates) that are malformed are ignored, as libtorrent does, since they cannot corrupt data.
/// </summary>
internal static class TorrentMetainfoParser
{
    private const int HashLength = InfoHash.Length;

    public static TorrentParseResult Parse(ReadOnlyMemory<byte> input, TorrentLimits limits)
    {
        // Before decoding: an oversized input must cost nothing beyond reading its length.
        if (input.Length > limits.MaxTorrentFileSize)
        {
            return Fail($"torrent file is {input.Length} bytes, over the {limits.MaxTorrentFileSize}-byte limit");
        }
        // A private copy, so the metainfo's hashes and RawInfo never change if the caller reuses its buffer.
        var bytes = input.ToArray();
        // Bytes after the root dictionary (a newline some tools append, or junk) are ignored, as libtorrent does:
        // the info hash and everything bta uses come from inside the dictionary, so they cannot change what is
        // downloaded, and the whole input is still bounded by MaxTorrentFileSize above.
        var decoded = BencodeDecoder.DecodePrefix(bytes, new BencodeLimits(limits.MaxDepth, limits.MaxDecodeTokens));
        if (!decoded.Success)
        {
            return Fail($"not valid bencode: {decoded.Error}");
        }
        if (decoded.Value is not BDictionary root)
        {
            return Fail("torrent file is not a dictionary");
        }
        var infoValue = root["info"];
        if (infoValue is null)
        {
            return Fail("missing info dictionary");
        }
        if (infoValue is not BDictionary info)
        {
            return Fail("info is not a dictionary");
        }
        return ParseInfo(root, info, limits);
    }

    private static TorrentParseResult ParseInfo(BDictionary root, BDictionary info, TorrentLimits limits)
    {
        var pieceLengthValue = info.GetInteger("piece length");
        if (pieceLengthValue is null)
        {
            return Fail("missing piece length");
        }
        if (pieceLengthValue.Value <= 0)
        {
            return Fail($"piece length {pieceLengthValue.Value} is not positive");
        }
        if (pieceLengthValue.Value > limits.MaxPieceLength)
        {
            return Fail($"piece length {pieceLengthValue.Value} is over the {limits.MaxPieceLength}-byte limit");
        }
        var pieceLength = (int)pieceLengthValue.Value;

        var nameValue = PreferUtf8(info, "name") as BString;
        if (nameValue is null)
        {
            return Fail("missing name");
        }
        var name = PathSanitizer.SanitizeName(PathSanitizer.DecodeUtf8(nameValue.Span));

        var hasLength = info.ContainsKey("length");
        var hasFiles = info.ContainsKey("files");
        if (hasLength && hasFiles)
        {
            return Fail("info has both length and files");
        }
        if (!hasLength && !hasFiles)
        {
            return Fail("info has neither length nor files");
        }
        var filesError = hasLength
            ? ReadSingleFile(info, name, out var files)
            : ReadFiles(info, name, limits, out files);
        if (filesError is not null)
        {
            return Fail(filesError);
        }

        long total = 0;
        foreach (var file in files)
        {
            if (file.Length > limits.MaxTotalSize - total)
            {
                return Fail($"total size is over the {limits.MaxTotalSize}-byte limit");
            }
            total += file.Length;
        }
        if (total == 0)
        {
            // Nothing to download, and zero pieces would leave every piece-based invariant vacuous.
            return Fail("torrent has no data (total length 0)");
        }

        if (info.GetString("pieces") is not { } pieces)
        {
            return Fail("missing pieces");
        }
        if (pieces.Bytes.Length % HashLength != 0)
        {
            return Fail($"pieces is {pieces.Bytes.Length} bytes, not a multiple of {HashLength}");
        }
        var pieceCount = pieces.Bytes.Length / HashLength;
        if (pieceCount > limits.MaxPieces)
        {
            return Fail($"{pieceCount} pieces is over the {limits.MaxPieces}-piece limit");
        }
        var expected = (total + pieceLength - 1) / pieceLength;
        if (pieceCount != expected)
        {
            return Fail($"wrong piece count: {pieceCount} hashes for {expected} pieces of {total} bytes");
        }

        var data = new TorrentMetainfoData(
            InfoHash.Compute(info.Raw.Span),
            name,
            pieceLength,
            pieces.Bytes,
            WithOffsets(files),
            hasFiles,
            info.GetInteger("private")?.Value == 1,
            TrackerLists.ReadAnnounceTiers(root),
            TrackerLists.ReadUrlList(root),
            ReadDate(root.GetInteger("creation date")),
            (PreferUtf8(root, "comment") as BString)?.Text,
            (PreferUtf8(root, "created by") as BString)?.Text,
            info.Raw);
        return TorrentParseResult.Ok(new TorrentMetainfo(data));
    }

    private static string? ReadSingleFile(BDictionary info, string name, out List<TorrentFile> files)
    {
        files = [];
        if (info["length"] is not BInteger length)
        {
            return "length is not an integer";
        }
        if (length.Value < 0)
        {
            return $"negative file length {length.Value}";
        }
        files.Add(new TorrentFile(name, [name], length.Value, 0, false));
        return null;
    }

    private static string? ReadFiles(BDictionary info, string name, TorrentLimits limits, out List<TorrentFile> files)
    {
        files = [];
        if (info["files"] is not BList list)
        {
            return "files is not a list";
        }
        if (list.Count == 0)
        {
            return "no files: the files list is empty";
        }
        if (list.Count > limits.MaxFiles)
        {
            return $"{list.Count} files is over the {limits.MaxFiles}-file limit";
        }
        var paths = new List<string[]>(list.Count);
        var lengths = new List<(long Length, bool IsPad)>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is not BDictionary entry)
            {
                return $"file {i} is not a dictionary";
            }
            var attrValue = entry.GetString("attr");
            var attr = attrValue is null ? ReadOnlySpan<byte>.Empty : attrValue.Span;
            long fileLength;
            if (entry["length"] is BInteger length)
            {
                fileLength = length.Value;
            }
            else if (entry["length"] is null && attr.IndexOf((byte)'l') >= 0)
            {
                // A BEP 47 symlink may omit its length (libtorrent loads it as 0 bytes). Safe: it then covers no
                // byte of any piece; bta never creates the link nor reads 'symlink path', so nothing can point out
                // of the download folder; the entry is at most an empty file at its sanitised path inside it.
                fileLength = 0;
            }
            else
            {
                return $"file {i} has no integer length";
            }
            if (fileLength < 0)
            {
                return $"file {i} has negative length {fileLength}";
            }
            var pathValue = PreferUtf8(entry, "path");
            if (pathValue is null && attr.IndexOf((byte)'p') >= 0)
            {
                // A BEP 47 pad file may omit its path (libtorrent names it .pad/<length>). Safe: pad files are
                // hashed as zeros and never opened or written, so the name is only what listings show.
                pathValue = new BList([new BString(".pad"), new BString(fileLength.ToString(CultureInfo.InvariantCulture))]);
            }
            if (pathValue is not BList pathList)
            {
                return $"file {i} has no path list";
            }
            if (pathList.Count > limits.MaxDirectoryDepth)
            {
                return $"file {i} has {pathList.Count} path elements, over the {limits.MaxDirectoryDepth} limit";
            }
            var raw = new string[pathList.Count];
            for (var j = 0; j < raw.Length; j++)
            {
                if (pathList[j] is not BString element)
                {
                    return $"file {i} has a path element that is not a string";
                }
                raw[j] = PathSanitizer.DecodeUtf8(element.Span);
            }
            var isPad = IsPadFile(entry, raw);
            var clean = PathSanitizer.SanitizeElements(raw);
            var full = new string[clean.Count + 1];
            full[0] = name;
            for (var j = 0; j < clean.Count; j++)
            {
                full[j + 1] = clean[j];
            }
            paths.Add(full);
            lengths.Add((fileLength, isPad));
        }
        UniquePaths.Resolve(paths);
        for (var i = 0; i < paths.Count; i++)
        {
            files.Add(new TorrentFile(string.Join('/', paths[i]), paths[i], lengths[i].Length, 0, lengths[i].IsPad));
        }
        return null;
    }

    private static bool IsPadFile(BDictionary entry, string[] rawPath)
    {
        if (entry.GetString("attr") is { } attr && attr.Span.IndexOf((byte)'p') >= 0)
        {
            return true;
        }
        // Before BEP 47, BitComet marked pad files only by name.
        foreach (var element in rawPath)
        {
            if (element == ".____padding_file" || element.StartsWith("_____padding_file_", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    private static List<TorrentFile> WithOffsets(List<TorrentFile> files)
    {
        long offset = 0;
        for (var i = 0; i < files.Count; i++)
        {
            files[i] = files[i] with { Offset = offset };
            offset += files[i].Length;
        }
        return files;
    }

    /// <summary>BEP 3 text fields may have a "key.utf-8" twin that is the better-encoded copy.</summary>
    private static BValue? PreferUtf8(BDictionary dictionary, string key)
    {
        var utf8 = dictionary[key + ".utf-8"];
        var plain = dictionary[key];
        return utf8 is not null && (plain is null || utf8.GetType() == plain.GetType()) ? utf8 : plain;
    }

    private static DateTimeOffset? ReadDate(BInteger? seconds)
    {
        // The range DateTimeOffset can hold; anything outside is a bogus value, not a date.
        const long min = -62_135_596_800;
        const long max = 253_402_300_799;
        return seconds is { Value: >= min and <= max } ? DateTimeOffset.FromUnixTimeSeconds(seconds.Value) : null;
    }

    private static TorrentParseResult Fail(string reason) => TorrentParseResult.Fail(reason);
}
