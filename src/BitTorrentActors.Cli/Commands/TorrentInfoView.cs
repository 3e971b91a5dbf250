using System.Text.Json.Serialization;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// What <c>bta info</c> shows, with the stable field names of its <c>--json</c> output. Dates are ISO 8601 in UTC;
/// absent optional fields are null.
/// </summary>
public sealed record TorrentInfoView(
    string Name,
    string InfoHash,
    long TotalSize,
    int PieceLength,
    int PieceCount,
    bool Private,
    bool MultiFile,
    IReadOnlyList<IReadOnlyList<string>> Trackers,
    IReadOnlyList<string> UrlList,
    DateTimeOffset? CreationDate,
    string? Comment,
    string? CreatedBy,
    IReadOnlyList<TorrentFileView> Files)
{
    public static TorrentInfoView From(TorrentMetainfo metainfo) => new(
        metainfo.Name,
        metainfo.InfoHash.ToHex(),
        metainfo.TotalLength,
        metainfo.PieceLength,
        metainfo.PieceCount,
        metainfo.IsPrivate,
        metainfo.IsMultiFile,
        metainfo.AnnounceTiers,
        metainfo.UrlList,
        metainfo.CreationDate?.ToUniversalTime(),
        metainfo.Comment,
        metainfo.CreatedBy,
        [.. metainfo.Files.Select(f => new TorrentFileView(f.Path, f.Length, f.IsPadFile))]);
}

/// <summary>One file: its sanitised relative path ('/'-separated), size in bytes, and whether it is a BEP 47 pad file.</summary>
public sealed record TorrentFileView(string Path, long Size, bool Pad);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(TorrentInfoView))]
[JsonSerializable(typeof(MagnetInfoView))]
internal sealed partial class InfoJsonContext : JsonSerializerContext;
