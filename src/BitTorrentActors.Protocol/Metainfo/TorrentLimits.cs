namespace BitTorrentActors.Protocol.Metainfo;

/// <summary>
/// Bounds on what a torrent file may cost to load. Defaults follow libtorrent's <c>load_torrent_limits</c>, so a
/// torrent that libtorrent loads also loads here and a hostile one is refused before it costs much.
/// </summary>
public sealed record TorrentLimits
{
    public static TorrentLimits Default { get; } = new();

    /// <summary>Checked on the byte length before decoding, so an oversized input costs nothing to refuse.</summary>
    public int MaxTorrentFileSize { get; init; } = 10_000_000;

    public int MaxPieces { get; init; } = 0x200000;

    public int MaxDecodeTokens { get; init; } = 3_000_000;

    public int MaxDepth { get; init; } = 100;

    /// <summary>Most path elements one file may have.</summary>
    public int MaxDirectoryDepth { get; init; } = 100;

    public int MaxFiles { get; init; } = 1_000_000;

    /// <summary>128 MiB; larger pieces make every hash check and every request absurd.</summary>
    public int MaxPieceLength { get; init; } = 128 * 1024 * 1024;

    /// <summary>256 TiB: generous for real data, and keeps offset arithmetic far from overflow.</summary>
    public long MaxTotalSize { get; init; } = 1L << 48;
}
