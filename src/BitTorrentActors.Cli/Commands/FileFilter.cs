using System.Globalization;
using System.IO.Enumeration;
using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// <c>--select-file</c> / <c>--exclude-file</c>: a comma-separated list of file numbers as <c>bta info</c> lists
/// them (1-based, pad files not counted), ranges <c>3-5</c>, and globs matched against the file's path inside the
/// torrent (<c>*.mkv</c>, <c>disc 2/*</c>). Turned into the engine's <see cref="FileSelection"/>.
/// </summary>
public static class FileFilter
{
    public static readonly OptionSpec Select = new(
        "--select-file", "Download only these files: numbers as bta info lists them, ranges, globs (1,3-5,*.mkv); repeatable.",
        "LIST", Repeatable: true);

    public static readonly OptionSpec Exclude = new(
        "--exclude-file", "Skip these files (same forms as --select-file); repeatable.", "LIST", Repeatable: true);

    /// <summary>The selection for <paramref name="metainfo"/>, or null when neither option is given (all files).</summary>
    public static FileSelection? For(TorrentMetainfo metainfo, IReadOnlyList<string> select, IReadOnlyList<string> exclude, string torrentPath)
    {
        if (select.Count == 0 && exclude.Count == 0)
        {
            return null;
        }
        // File numbers as bta info shows them: real files only, in torrent order, from 1.
        var numbered = metainfo.Files.Select((f, i) => (File: f, Index: i)).Where(f => !f.File.IsPadFile).ToList();
        var wanted = new bool[metainfo.Files.Count];
        if (select.Count == 0)
        {
            foreach (var (_, index) in numbered)
            {
                wanted[index] = true;
            }
        }
        foreach (var index in Matches(select, numbered, Select.Name, torrentPath))
        {
            wanted[index] = true;
        }
        foreach (var index in Matches(exclude, numbered, Exclude.Name, torrentPath))
        {
            wanted[index] = false;
        }
        if (!numbered.Exists(f => wanted[f.Index]))
        {
            throw new CliException($"{torrentPath}: --select-file/--exclude-file leave no file to download");
        }
        return new FileSelection(wanted, new FilePriority[metainfo.Files.Count]);
    }

    private static IEnumerable<int> Matches(
        IReadOnlyList<string> specs, List<(TorrentFile File, int Index)> numbered, string option, string torrentPath)
    {
        foreach (var item in specs.SelectMany(s => s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            if (TryRange(item, out var from, out var to))
            {
                if (from < 1 || to > numbered.Count || from > to)
                {
                    throw new CliException(string.Create(CultureInfo.InvariantCulture,
                        $"{torrentPath}: {option} {item}: the torrent has files 1 to {numbered.Count} (see bta info)"));
                }
                for (var n = from; n <= to; n++)
                {
                    yield return numbered[n - 1].Index;
                }
                continue;
            }
            var hits = numbered.Where(f => Glob(item, f.File)).ToList();
            if (hits.Count == 0)
            {
                throw new CliException($"{torrentPath}: {option} '{item}' matches no file of the torrent (see bta info)");
            }
            foreach (var hit in hits)
            {
                yield return hit.Index;
            }
        }
    }

    /// <summary>A glob matches the path bta info shows (with the torrent's name in front for a multi-file
    /// torrent), the path inside the torrent's folder, or the file's name.</summary>
    private static bool Glob(string pattern, TorrentFile file) =>
        FileSystemName.MatchesSimpleExpression(pattern, file.Path, ignoreCase: false)
        || (file.PathElements.Count > 1
            && FileSystemName.MatchesSimpleExpression(pattern, string.Join('/', file.PathElements.Skip(1)), ignoreCase: false))
        || FileSystemName.MatchesSimpleExpression(pattern, file.PathElements[^1], ignoreCase: false);

    private static bool TryRange(string item, out int from, out int to)
    {
        var dash = item.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            var single = int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out from);
            to = from;
            return single;
        }
        to = 0;
        return int.TryParse(item[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out from)
            && int.TryParse(item[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out to);
    }
}
