using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Protocol.Magnet;

namespace BitTorrentActors.Cli.Commands;

/// <summary>A command argument that is a magnet URI rather than a .torrent path.</summary>
public static class MagnetArgument
{
    public static bool IsMagnet(string argument) => argument.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase);

    /// <summary>The parsed link; a bad one (or a v2-only one) is one line with the usage exit code, as other bad
    /// argument values are (no usage text: the line says what is wrong with it).</summary>
    public static MagnetLink Parse(string argument) =>
        MagnetLink.TryParse(argument.Trim(), out var link, out var error)
            ? link
            : throw new CliException($"invalid magnet link: {error}", ExitCodes.Usage);
}

/// <summary>What <c>bta info 'magnet:...'</c> shows: what the link itself says (its size, pieces and files come
/// only with the metadata), with the stable field names of its <c>--json</c> output.</summary>
public sealed record MagnetInfoView(
    string InfoHash,
    string? Name,
    IReadOnlyList<string> Trackers,
    IReadOnlyList<string> Peers,
    IReadOnlyList<string> WebSeeds)
{
    public static MagnetInfoView From(MagnetLink link) =>
        new(link.InfoHash.ToHex(), link.DisplayName, link.Trackers, link.Peers, link.WebSeeds);
}
