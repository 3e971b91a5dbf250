namespace BitTorrentActors.Protocol.Metainfo;

/// <summary>
/// A parsed v1 torrent file (BEP 3, with BEP 12 tiers, BEP 19 web seeds, BEP 27 private, BEP 47 pad files).
/// Paths are already sanitised; piece hashes are slices of a private copy of the input.
/// </summary>
public sealed class TorrentMetainfo
{
    private readonly ReadOnlyMemory<byte> _pieceHashes;

    internal TorrentMetainfo(TorrentMetainfoData data)
    {
        InfoHash = data.InfoHash;
        Name = data.Name;
        PieceLength = data.PieceLength;
        _pieceHashes = data.PieceHashes;
        Files = data.Files;
        IsMultiFile = data.IsMultiFile;
        IsPrivate = data.IsPrivate;
        AnnounceTiers = data.AnnounceTiers;
        UrlList = data.UrlList;
        CreationDate = data.CreationDate;
        Comment = data.Comment;
        CreatedBy = data.CreatedBy;
        RawInfo = data.RawInfo;
        Layout = new FileLayout(Files, PieceLength);
    }

    /// <summary>Parses a whole .torrent file. Never throws on any input; a bad input gives a one-line reason.</summary>
    public static TorrentParseResult Parse(ReadOnlyMemory<byte> torrentFile, TorrentLimits? limits = null) =>
        TorrentMetainfoParser.Parse(torrentFile, limits ?? TorrentLimits.Default);

    public InfoHash InfoHash { get; }

    /// <summary>The sanitised name: the single file's name, or the top directory of a multi-file torrent.</summary>
    public string Name { get; }

    public long TotalLength => Layout.TotalLength;

    public int PieceLength { get; }

    public int PieceCount => Layout.PieceCount;

    public IReadOnlyList<TorrentFile> Files { get; }

    public bool IsMultiFile { get; }

    /// <summary>BEP 27: peers only from the torrent's trackers; no DHT, PEX or local discovery.</summary>
    public bool IsPrivate { get; }

    /// <summary>BEP 12 tiers in order; URLs as given, without empty ones or duplicates.</summary>
    public IReadOnlyList<IReadOnlyList<string>> AnnounceTiers { get; }

    /// <summary>BEP 19 web seeds.</summary>
    public IReadOnlyList<string> UrlList { get; }

    public DateTimeOffset? CreationDate { get; }

    public string? Comment { get; }

    public string? CreatedBy { get; }

    public FileLayout Layout { get; }

    /// <summary>The info dictionary's exact bytes: what the info-hash covers and what BEP 9 serves to peers.</summary>
    public ReadOnlyMemory<byte> RawInfo { get; }

    /// <summary>The 20-byte SHA-1 a piece must match.</summary>
    public ReadOnlySpan<byte> GetPieceHash(int index)
    {
        if ((uint)index >= (uint)PieceCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"piece must be in [0, {PieceCount})");
        }
        return _pieceHashes.Span.Slice(index * InfoHash.Length, InfoHash.Length);
    }

    public int GetPieceSize(int index) => Layout.GetPieceSize(index);

    public override string ToString() => $"{Name} ({InfoHash}, {Files.Count} files, {TotalLength} bytes)";
}

/// <summary>Everything the parser found, handed to the constructor in one piece.</summary>
internal sealed record TorrentMetainfoData(
    InfoHash InfoHash,
    string Name,
    int PieceLength,
    ReadOnlyMemory<byte> PieceHashes,
    IReadOnlyList<TorrentFile> Files,
    bool IsMultiFile,
    bool IsPrivate,
    IReadOnlyList<IReadOnlyList<string>> AnnounceTiers,
    IReadOnlyList<string> UrlList,
    DateTimeOffset? CreationDate,
    string? Comment,
    string? CreatedBy,
    ReadOnlyMemory<byte> RawInfo);
