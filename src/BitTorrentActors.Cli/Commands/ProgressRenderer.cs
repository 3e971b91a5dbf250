using System.Diagnostics;
using System.Globalization;
using System.Text;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// Turns progress reports into something a person reads: on a terminal one line redrawn in place (a bar,
/// percent, verified bytes, rates, peers, ETA); when the output is a file or pipe, one plain line every few
/// seconds so logs stay short.
/// </summary>
public sealed class ProgressRenderer
{
    private static readonly TimeSpan _plainInterval = TimeSpan.FromSeconds(5);
    private readonly TextWriter _output;
    private readonly bool _interactive;
    private readonly Stopwatch _sinceLastLine = Stopwatch.StartNew();
    private bool _lineOpen;
    private TorrentCoordinator.TorrentState? _lastState;

    private ProgressRenderer(TextWriter output, bool interactive)
    {
        _output = output;
        _interactive = interactive;
    }

    /// <summary>Live redraw only when writing to the real console and that console is a terminal.</summary>
    public static ProgressRenderer For(TextWriter output) =>
        new(output, ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected);

    public void Render(TorrentCoordinator.Progress p)
    {
        var stateChanged = p.State != _lastState;
        _lastState = p.State;
        if (_interactive)
        {
            _output.Write("\r" + Format(p, withBar: true).PadRight(Math.Max(0, SafeWidth() - 1)));
            _lineOpen = true;
        }
        else if (stateChanged || _sinceLastLine.Elapsed >= _plainInterval)
        {
            _output.WriteLine(Format(p, withBar: false));
            _sinceLastLine.Restart();
        }
        _output.Flush();
    }

    /// <summary>Ends the live line so what follows starts on its own line.</summary>
    public void Finish()
    {
        if (_lineOpen)
        {
            _output.WriteLine();
            _lineOpen = false;
        }
    }

    public static string Format(TorrentCoordinator.Progress p, bool withBar)
    {
        var fraction = p.TotalBytes == 0 ? 1.0 : (double)p.VerifiedBytes / p.TotalBytes;
        var text = new StringBuilder();
        if (withBar)
        {
            const int width = 24;
            var filled = (int)Math.Round(fraction * width);
            text.Append('[').Append('#', filled).Append('.', width - filled).Append("] ");
        }
        var eta = p.DownloadRate > 0 && p.TotalBytes > p.VerifiedBytes
            ? FormatDuration(TimeSpan.FromSeconds((p.TotalBytes - p.VerifiedBytes) / (double)p.DownloadRate))
            : "-";
        text.Append(CultureInfo.InvariantCulture,
            $"{StateName(p.State)} {fraction * 100:0.0}% {Size(p.VerifiedBytes)}/{Size(p.TotalBytes)} "
            + $"down {Size(p.DownloadRate)}/s up {Size(p.UploadRate)}/s peers {p.Peers} eta {eta}");
        return text.ToString();
    }

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

    private static string StateName(TorrentCoordinator.TorrentState state) => state switch
    {
        TorrentCoordinator.TorrentState.Checking => "checking",
        TorrentCoordinator.TorrentState.Downloading => "downloading",
        TorrentCoordinator.TorrentState.Seeding => "seeding",
        TorrentCoordinator.TorrentState.Completed => "complete",
        TorrentCoordinator.TorrentState.Stopping => "stopping",
        _ => "failed",
    };

    private static string FormatDuration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:00}s" : $"{t.Seconds}s";

    private static int SafeWidth()
    {
        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : 100;
        }
        catch (IOException)
        {
            return 100;
        }
    }
}
