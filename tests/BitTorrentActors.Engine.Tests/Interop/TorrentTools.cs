using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace BitTorrentActors.Engine.Tests.Interop;

/// <summary>What one tool says a .torrent holds. Sizes from transmission-show are rounded, so it carries a
/// tolerance per file.</summary>
public sealed record ToolView(
    string Tool,
    string Name,
    string InfoHash,
    long TotalSize,
    int PieceCount,
    IReadOnlyList<ToolFile> Files,
    IReadOnlyList<string> Trackers);

public sealed record ToolFile(string Path, long Size, bool Pad, long Tolerance = 0);

/// <summary>Makes and reads torrents with mktorrent, transmission-create/-show and libtorrent's Python bindings.</summary>
public static partial class TorrentTools
{
    public const string Tracker = "http://127.0.0.1:1/announce";

    private const string CreateScript = """
        import os, sys, libtorrent as lt
        root, out, piece, flags = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
        fs = lt.file_storage()
        lt.add_files(fs, root)
        t = lt.create_torrent(fs, piece, flags=lt.create_torrent.v1_only if flags == "v1" else 0)
        t.add_tracker(sys.argv[5], 0)
        t.set_creator("libtorrent " + lt.__version__)
        t.set_comment("made by bta interop tests")
        lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(root)))
        with open(out, "wb") as f:
            f.write(lt.bencode(t.generate()))
        """;

    private const string ReadScript = """
        import json, sys, libtorrent as lt
        ti = lt.torrent_info(sys.argv[1])
        fs = ti.files()
        print(json.dumps({
            "name": ti.name(),
            "infoHash": str(ti.info_hashes().v1),
            "totalSize": ti.total_size(),
            "pieceCount": ti.num_pieces(),
            "trackers": [t.url for t in sorted(ti.trackers(), key=lambda t: t.tier)],
            "files": [{"path": fs.file_path(i), "size": fs.file_size(i),
                       "pad": bool(fs.file_flags(i) & lt.file_storage.flag_pad_file)} for i in range(fs.num_files())],
        }))
        """;

    /// <summary>Creates <paramref name="output"/> from <paramref name="root"/> (a file or a folder) with 32 KiB pieces.</summary>
    public static async Task CreateAsync(string creator, string root, string output)
    {
        switch (creator)
        {
            case "mktorrent":
                await RealTools.RunCheckedAsync(
                    "mktorrent", ["-a", Tracker, "-l", "15", "-t", "1", "-c", "made by bta interop tests", "-o", output, root]);
                break;
            case "transmission-create":
                await RealTools.RunCheckedAsync(
                    "transmission-create", ["-o", output, "-t", Tracker, "-s", "32", "-c", "made by bta interop tests", root]);
                break;
            case "libtorrent":
            case "libtorrent-hybrid":
                var flags = creator == "libtorrent" ? "v1" : "hybrid";
                await RealTools.RunPythonAsync(CreateScript, [root, output, "32768", flags, Tracker]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(creator), creator, "unknown torrent creator");
        }
        Assert.True(File.Exists(output), $"{creator} did not write {output}");
    }

    public static async Task<ToolView> ReadWithLibtorrentAsync(string torrent)
    {
        var result = await RealTools.RunPythonAsync(ReadScript, [torrent]);
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        return new ToolView(
            "libtorrent",
            root.GetProperty("name").GetString()!,
            root.GetProperty("infoHash").GetString()!,
            root.GetProperty("totalSize").GetInt64(),
            root.GetProperty("pieceCount").GetInt32(),
            [.. root.GetProperty("files").EnumerateArray().Select(f => new ToolFile(
                f.GetProperty("path").GetString()!, f.GetProperty("size").GetInt64(), f.GetProperty("pad").GetBoolean()))],
            [.. root.GetProperty("trackers").EnumerateArray().Select(t => t.GetString()!)]);
    }

    /// <summary>Parses transmission-show's text report; its sizes are rounded to the digits it prints.</summary>
    public static async Task<ToolView> ReadWithTransmissionAsync(string torrent)
    {
        var text = (await RealTools.RunCheckedAsync("transmission-show", [torrent])).Stdout;
        var lines = text.Split('\n');
        string Field(string label) =>
            lines.Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(label + ": ", StringComparison.Ordinal))?[(label.Length + 2)..]
            ?? throw new Xunit.Sdk.XunitException($"transmission-show printed no '{label}':\n{text}");

        var total = ParseSize(Field("Total Size"));
        var files = new List<ToolFile>();
        var trackers = new List<string>();
        var section = string.Empty;
        foreach (var line in lines)
        {
            if (line is "TRACKERS" or "FILES" or "GENERAL")
            {
                section = line;
            }
            else if (section == "FILES" && FileLine().Match(line) is { Success: true } m)
            {
                var (size, tolerance) = ParseSize(m.Groups[2].Value);
                files.Add(new ToolFile(m.Groups[1].Value, size, Pad: false, tolerance));
            }
            else if (section == "TRACKERS" && line.StartsWith("  ", StringComparison.Ordinal)
                && !line.TrimStart().StartsWith("Tier #", StringComparison.Ordinal) && line.Trim().Length > 0)
            {
                trackers.Add(line.Trim());
            }
        }
        return new ToolView(
            "transmission-show",
            Field("Name"),
            Field("Hash"),
            total.Size,
            int.Parse(Field("Piece Count"), CultureInfo.InvariantCulture),
            files,
            trackers);
    }

    /// <summary>"70.00 kB" -> 70000 bytes, tolerance one unit in the last printed digit (Transmission uses SI units).</summary>
    private static (long Size, long Tolerance) ParseSize(string text)
    {
        var m = SizeText().Match(text.Trim());
        Assert.True(m.Success, $"unexpected size format from transmission-show: '{text}'");
        var number = decimal.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var decimals = m.Groups[1].Value.Contains('.') ? m.Groups[1].Value.Split('.')[1].Length : 0;
        long unit = m.Groups[2].Value switch
        {
            "B" or "bytes" => 1,
            "kB" => 1000,
            "MB" => 1000_000,
            "GB" => 1000_000_000,
            _ => 1000_000_000_000,
        };
        var step = unit / (decimal)Math.Pow(10, decimals);
        return ((long)(number * unit), (long)Math.Ceiling(step));
    }

    [GeneratedRegex(@"^  (.+) \((\d+(?:\.\d+)? (?:B|bytes|kB|MB|GB|TB))\)$")]
    private static partial Regex FileLine();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?) (B|bytes|kB|MB|GB|TB)$")]
    private static partial Regex SizeText();
}
