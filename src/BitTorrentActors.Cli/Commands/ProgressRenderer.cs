using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Cli.Commands;

/// <summary>How <c>download</c> and <c>seed</c> report progress.</summary>
public enum ProgressMode
{
    /// <summary>A terminal: one line redrawn in place, fitted to the width; plain lines when not a terminal.</summary>
    Human,

    /// <summary>One JSON object per line per progress event (<c>--json</c>), nothing else on stdout.</summary>
    Json,

    /// <summary>Nothing but errors (<c>--quiet</c>).</summary>
    Quiet,
}

/// <summary>
/// Turns progress reports into something a person (or a script) reads: on a terminal one line redrawn in place
/// and fitted to the terminal width, dropping the least useful fields first; when the output is a file or pipe,
/// one plain line every few seconds so logs stay short; with --json one object per event.
/// </summary>
public sealed class ProgressRenderer
{
    private static readonly TimeSpan _plainInterval = TimeSpan.FromSeconds(5);
    private readonly LiveConsole _console;
    private readonly ProgressMode _mode;
    private readonly Func<TimeSpan> _clock;
    private readonly RateEstimate _rates = new();
    private TimeSpan? _lastPlain;
    private TorrentCoordinator.TorrentState? _lastState;
    private string? _lastMetadataLine;

    public ProgressRenderer(LiveConsole console, ProgressMode mode, Func<TimeSpan>? clock = null)
    {
        _console = console;
        _mode = mode;
        if (clock is null)
        {
            var watch = Stopwatch.StartNew();
            clock = () => watch.Elapsed;
        }
        _clock = clock;
    }

    public ProgressMode Mode => _mode;

    /// <summary>Draws the latest progress of every torrent of the command (summed when there are several).</summary>
    public void Render(IReadOnlyList<TorrentCoordinator.Progress> torrents, string? name = null)
    {
        if (torrents.Count == 0 || _mode == ProgressMode.Quiet)
        {
            return;
        }
        var now = _clock();
        var p = torrents.Count == 1 ? torrents[0] : Sum(torrents);
        var (down, up) = _rates.Update(p, now);
        var stateChanged = p.State != _lastState;
        _lastState = p.State;
        if (_mode == ProgressMode.Json)
        {
            foreach (var torrent in torrents)
            {
                _console.WriteLine(Json(torrent, name));
            }
        }
        else if (_console.Interactive)
        {
            _console.SetLive(Layout(p, down, up, _console.Width - 1, torrents.Count));
        }
        else if (stateChanged || _lastPlain is null || now - _lastPlain >= _plainInterval)
        {
            _console.WriteLine(Layout(p, down, up, int.MaxValue, torrents.Count, withBar: false));
            _lastPlain = now;
        }
    }

    /// <summary>Draws a magnet's metadata fetch (human modes; --json has its own event): the peers connected, how
    /// many of them offer the metadata, the pieces in. A plain (non-terminal) output gets a line when the numbers
    /// change, at most every few seconds.</summary>
    public void RenderMetadata(int peersConnected, int peersOffering, int piecesReceived, int piecesTotal)
    {
        if (_mode != ProgressMode.Human)
        {
            return;
        }
        var line = MetadataLine(peersConnected, peersOffering, piecesReceived, piecesTotal);
        var now = _clock();
        if (_console.Interactive)
        {
            _console.SetLive(line.Length > _console.Width - 1 ? line[..Math.Max(0, _console.Width - 1)] : line);
        }
        else if (line != _lastMetadataLine && (_lastPlain is null || now - _lastPlain >= _plainInterval || _lastMetadataLine is null))
        {
            _console.WriteLine(line);
            _lastPlain = now;
            _lastMetadataLine = line;
        }
    }

    public static string MetadataLine(int peersConnected, int peersOffering, int piecesReceived, int piecesTotal) =>
        string.Create(CultureInfo.InvariantCulture,
            $"fetching metadata: peers {peersConnected}, {peersOffering} offering it, pieces {piecesReceived}/{(piecesTotal == 0 ? "?" : piecesTotal.ToString(CultureInfo.InvariantCulture))}");

    /// <summary>Ends the live line so what follows starts on its own line.</summary>
    public void Finish() => _console.EndLive();

    /// <summary>A line of command output (not in --json or --quiet), above the live line.</summary>
    public void Say(string text)
    {
        if (_mode == ProgressMode.Human)
        {
            _console.WriteLine(text);
        }
    }

    /// <summary>A JSON event line made only in --json: without it System.Text.Json is never loaded (1.75 MB of
    /// resident code, issue 14).</summary>
    public void Event(Func<string> json)
    {
        if (_mode == ProgressMode.Json)
        {
            _console.WriteLine(json());
        }
    }

    /// <summary>
    /// The progress line in at most <paramref name="width"/> characters. Fields in display order, each with a
    /// rank: while the line is too long the lowest-ranked field left is dropped (the bar first, the state and
    /// percentage last). Seeding shows upload and ratio instead of download and ETA.
    /// </summary>
    public static string Layout(
        TorrentCoordinator.Progress p, long downRate, long upRate, int width, int torrentCount = 1, bool withBar = true)
    {
        var seeding = p.State is TorrentCoordinator.TorrentState.Seeding or TorrentCoordinator.TorrentState.Completed;
        var fraction = Fraction(p);
        var fields = new List<(int Rank, string Text)>();
        var head = torrentCount > 1 ? $"{torrentCount} torrents " : string.Empty;
        fields.Add((10, head + StateName(p.State) + " " + Percent(fraction)));
        if (withBar)
        {
            const int barWidth = 20;
            var filled = (int)Math.Round(fraction * barWidth);
            fields.Insert(0, (1, "[" + new string('#', filled) + new string('.', barWidth - filled) + "]"));
        }
        if (seeding)
        {
            fields.Add((9, $"up {Size(upRate)}/s"));
            fields.Add((8, "ratio " + Ratio(p).ToString("0.00", CultureInfo.InvariantCulture)));
            fields.Add((6, $"peers {p.Peers}"));
            fields.Add((4, $"sent {Size(p.Uploaded)}"));
            fields.Add((3, $"size {Size(p.TotalBytes)}"));
        }
        else
        {
            var eta = downRate > 0 && p.TotalBytes > p.VerifiedBytes
                ? FormatDuration(TimeSpan.FromSeconds((Wanted(p) - WantedDone(p)) / (double)downRate))
                : "-";
            fields.Add((4, $"{Size(WantedDone(p))}/{Size(Wanted(p))}"));
            fields.Add((9, $"down {Size(downRate)}/s"));
            fields.Add((5, $"up {Size(upRate)}/s"));
            fields.Add((7, $"peers {p.Peers}"));
            fields.Add((8, $"eta {eta}"));
        }

        string Joined() => string.Join(' ', fields.Select(f => f.Text));
        var line = Joined();
        while (line.Length > width && fields.Count > 1)
        {
            fields.Remove(fields.MinBy(f => f.Rank));
            line = Joined();
        }
        return line.Length > width ? line[..Math.Max(0, width)] : line;
    }

    /// <summary>One progress event as a JSON object on one line (stable camelCase fields, for scripts).</summary>
    public static string Json(TorrentCoordinator.Progress p, string? name = null) =>
        JsonSerializer.Serialize(
            new ProgressLine(
                "progress", p.InfoHash.ToHex(), name, StateName(p.State), Math.Round(Fraction(p), 4), p.VerifiedPieces,
                p.PieceCount, p.VerifiedBytes, p.TotalBytes, Wanted(p), p.DownloadRate, p.UploadRate, p.Downloaded,
                p.Uploaded, Math.Round(Ratio(p), 4), p.Peers),
            EventJson.Default.ProgressLine);

    /// <summary>A progress line's fields, in their order on the line (source-generated JSON: see <see cref="EventJson"/>).</summary>
    internal sealed record ProgressLine(
        string Event, string InfoHash, string? Name, string State, double Progress, int VerifiedPieces, int PieceCount,
        long VerifiedBytes, long TotalBytes, long WantedBytes, long DownloadRate, long UploadRate, long Downloaded,
        long Uploaded, double Ratio, int Peers);

    public static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? bytes.ToString(CultureInfo.InvariantCulture) + " B"
            : value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    public static string StateName(TorrentCoordinator.TorrentState state) => state switch
    {
        TorrentCoordinator.TorrentState.Checking => "checking",
        TorrentCoordinator.TorrentState.Downloading => "downloading",
        TorrentCoordinator.TorrentState.Seeding => "seeding",
        TorrentCoordinator.TorrentState.Completed => "complete",
        TorrentCoordinator.TorrentState.Stopping => "stopping",
        _ => "failed",
    };

    // Wanted bytes (all of them unless files are deselected); older reports leave them 0.
    private static long Wanted(TorrentCoordinator.Progress p) => p.WantedBytes > 0 ? p.WantedBytes : p.TotalBytes;

    private static long WantedDone(TorrentCoordinator.Progress p) => p.WantedBytes > 0 ? p.WantedVerifiedBytes : p.VerifiedBytes;

    private static double Fraction(TorrentCoordinator.Progress p) =>
        Wanted(p) == 0 ? 1.0 : Math.Clamp((double)WantedDone(p) / Wanted(p), 0, 1);

    private static double Ratio(TorrentCoordinator.Progress p) => p.Uploaded / (double)Math.Max(1, p.TotalBytes);

    private static string Percent(double fraction) => (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static TorrentCoordinator.Progress Sum(IReadOnlyList<TorrentCoordinator.Progress> all) =>
        new(all.Min(p => p.State), all.Sum(p => p.VerifiedPieces), all.Sum(p => p.PieceCount),
            all.Sum(p => p.VerifiedBytes), all.Sum(p => p.TotalBytes), all.Sum(p => p.DownloadRate),
            all.Sum(p => p.UploadRate), all.Sum(p => p.Downloaded), all.Sum(p => p.Uploaded), all.Sum(p => p.Peers))
        {
            WantedBytes = all.Sum(Wanted),
            WantedVerifiedBytes = all.Sum(WantedDone),
        };

    private static string FormatDuration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:00}s" : $"{t.Seconds}s";

    /// <summary>
    /// The rates to show. The coordinator's rates come from a sliding window that reads 0 for the first
    /// seconds; while it does and bytes have arrived, the average since the command started (clock zero) is
    /// shown instead, so the line never says 0 B/s while data flows. Bytes arrived are the larger of the
    /// downloaded counter and the bytes verified since the check ended (the counter can lag the pieces).
    /// </summary>
    public sealed class RateEstimate
    {
        private long? _verifiedAfterCheck;

        public (long Down, long Up) Update(TorrentCoordinator.Progress p, TimeSpan sinceStart)
        {
            if (_verifiedAfterCheck is null && p.State != TorrentCoordinator.TorrentState.Checking)
            {
                _verifiedAfterCheck = p.VerifiedBytes;
            }
            var fetched = Math.Max(p.Downloaded, p.VerifiedBytes - (_verifiedAfterCheck ?? p.VerifiedBytes));
            var seconds = Math.Max(sinceStart.TotalSeconds, 0.1);
            long Average(long bytes) => bytes > 0 ? Math.Max(1, (long)(bytes / seconds)) : 0;
            return (
                p.DownloadRate > 0 ? p.DownloadRate : Average(fetched),
                p.UploadRate > 0 ? p.UploadRate : Average(p.Uploaded));
        }
    }
}
