using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using BitTorrentActors.Cli.CommandLine;

namespace BitTorrentActors.Cli.Commands;

/// <summary><c>bta info FILE|MAGNET [--json]</c>: what a .torrent file describes, or what a magnet link says.
/// Needs no ActorSystem and no config.</summary>
public sealed class InfoCommand : ICommand
{
    public static readonly OptionSpec Json = new("--json", "Print the same information as JSON (camelCase fields).");

    public static readonly OptionSpec ShowPadFiles = new("--pad-files", "List BEP 47 pad files in the human view too.");

    private static readonly JsonSerializerOptions _jsonOptions = new(InfoJsonContext.Default.Options)
    {
        // Keep non-ASCII names readable; JSON syntax characters and control characters are still escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string Name => "info";

    public string Summary => "Show what a .torrent file describes (name, info-hash, trackers, files) or a magnet link says.";

    public string Description =>
        "Prints the torrent's name, info-hash, total size, piece length and count, private flag, trackers by\n"
        + "tier, web seeds (url-list), creation date, comment, creator and files. Files over "
        + $"{TorrentFileReader.MaxFileSize} bytes are refused. For a magnet link ('magnet:?xt=urn:btih:...',\n"
        + "quoted for the shell): its info-hash in hex, name (dn), trackers (tr), peers (x.pe) and web seeds (ws).";

    public IReadOnlyList<string> Arguments => ["file.torrent|magnet"];

    public IReadOnlyList<OptionSpec> Options => [Json, ShowPadFiles];

    public async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        if (MagnetArgument.IsMagnet(context.Args.Positionals[0]))
        {
            var magnet = MagnetInfoView.From(MagnetArgument.Parse(context.Args.Positionals[0]));
            await context.Stdout.WriteAsync(context.Args.Has(Json.Name)
                ? JsonSerializer.Serialize(magnet, _jsonOptions) + Environment.NewLine
                : FormatHuman(magnet)).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        var metainfo = await TorrentFileReader.LoadAsync(context.Args.Positionals[0], cancellationToken)
            .ConfigureAwait(false);
        var view = TorrentInfoView.From(metainfo);
        var text = context.Args.Has(Json.Name)
            ? JsonSerializer.Serialize(view, _jsonOptions) + Environment.NewLine
            : FormatHuman(view, context.Args.Has(ShowPadFiles.Name));
        await context.Stdout.WriteAsync(text).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    public static string FormatHuman(TorrentInfoView view, bool showPadFiles)
    {
        var text = new StringBuilder();
        void Line(string label, string value) => text.Append(label).Append(':').Append(' ', 14 - label.Length)
            .AppendLine(Printable(value));

        Line("Name", view.Name);
        Line("Info-hash", view.InfoHash);
        Line("Total size", $"{view.TotalSize.ToString(CultureInfo.InvariantCulture)} bytes ({HumanSize(view.TotalSize)})");
        Line("Piece length", $"{view.PieceLength.ToString(CultureInfo.InvariantCulture)} bytes ({HumanSize(view.PieceLength)})");
        Line("Pieces", view.PieceCount.ToString(CultureInfo.InvariantCulture));
        Line("Private", view.Private ? "yes" : "no");
        Line("Created", view.CreationDate?.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) ?? "-");
        Line("Created by", view.CreatedBy ?? "-");
        Line("Comment", view.Comment ?? "-");

        text.AppendLine().AppendLine("Trackers:");
        if (view.Trackers.Count == 0)
        {
            text.AppendLine("  (none)");
        }
        for (var tier = 0; tier < view.Trackers.Count; tier++)
        {
            text.Append("  tier ").Append(tier + 1).Append(": ").AppendLine(Printable(string.Join(", ", view.Trackers[tier])));
        }
        if (view.UrlList.Count > 0)
        {
            text.AppendLine().AppendLine("Web seeds (url-list):");
            foreach (var url in view.UrlList)
            {
                text.Append("  ").AppendLine(Printable(url));
            }
        }

        var files = showPadFiles ? view.Files : [.. view.Files.Where(f => !f.Pad)];
        var hidden = view.Files.Count - files.Count;
        text.AppendLine().Append("Files (").Append(files.Count)
            .Append(hidden > 0 ? $", {hidden} pad files not shown" : string.Empty).AppendLine("):");
        // Numbered as --select-file and --exclude-file take them: real files from 1, pad files not counted.
        var number = 0;
        foreach (var file in files)
        {
            var label = file.Pad ? "   " : string.Create(CultureInfo.InvariantCulture, $"{++number,2}.");
            text.Append("  ").Append(label).Append(' ').Append(Printable(file.Path)).Append(file.Pad ? " [pad]" : string.Empty)
                .Append(" (").Append(file.Size.ToString(CultureInfo.InvariantCulture)).Append(" bytes, ")
                .Append(HumanSize(file.Size)).AppendLine(")");
        }
        return text.ToString();
    }

    public static string FormatHuman(MagnetInfoView view)
    {
        var text = new StringBuilder();
        text.Append("Name:          ").AppendLine(view.Name is null ? "- (the metadata names it)" : Printable(view.Name));
        text.Append("Info-hash:     ").AppendLine(view.InfoHash);
        text.AppendLine("Size, pieces and files come with the metadata, from the peers (bta download fetches it).");
        void List(string title, IReadOnlyList<string> values)
        {
            text.AppendLine().Append(title).AppendLine(":");
            if (values.Count == 0)
            {
                text.AppendLine("  (none)");
            }
            foreach (var value in values)
            {
                text.Append("  ").AppendLine(Printable(value));
            }
        }
        List("Trackers (tr)", view.Trackers);
        List("Peers (x.pe)", view.Peers);
        List("Web seeds (ws)", view.WebSeeds);
        return text.ToString();
    }

    /// <summary>Binary units, one decimal: 1536 -> "1.5 KiB".</summary>
    public static string HumanSize(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    /// <summary>Names come from the torrent: control characters (terminal escapes) never reach the console.</summary>
    private static string Printable(string value) =>
        value.Any(char.IsControl)
            ? new string([.. value.Select(c => char.IsControl(c) ? '?' : c)])
            : value;
}
