using System.Diagnostics.CodeAnalysis;

namespace BitTorrentActors.Protocol.Metainfo;

/// <summary>A parsed torrent, or a one-line reason why the input is not one.</summary>
public readonly record struct TorrentParseResult
{
    private TorrentParseResult(TorrentMetainfo? metainfo, string? error)
    {
        Metainfo = metainfo;
        Error = error;
    }

    public TorrentMetainfo? Metainfo { get; }

    public string? Error { get; }

    [MemberNotNullWhen(true, nameof(Metainfo))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool Success => Metainfo is not null;

    public static TorrentParseResult Ok(TorrentMetainfo metainfo) => new(metainfo, null);

    public static TorrentParseResult Fail(string error) => new(null, error);

    public override string ToString() => Success ? $"torrent {Metainfo.InfoHash}" : $"invalid torrent: {Error}";
}
