namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// The one writer for a terminal that shows a live progress line: command output and log lines are written
/// above it (the live line is erased, the text written, the live line drawn again), so a log line never lands in
/// the middle of the progress line. The log sink and the renderer both write through here, under one lock.
/// </summary>
public sealed class LiveConsole
{
    // Carriage return, then "erase to the end of the line": the live line vanishes whatever its length was.
    private const string EraseLine = "\r\u001b[K";
    private readonly Lock _gate = new();
    private readonly TextWriter _stdout;
    private readonly TextWriter _stderr;
    private readonly Func<int> _width;
    private string? _live;

    public LiveConsole(TextWriter stdout, TextWriter stderr, bool interactive, Func<int>? width = null)
    {
        _stdout = stdout;
        _stderr = stderr;
        Interactive = interactive;
        _width = width ?? TerminalWidth;
    }

    /// <summary>True when stdout is a terminal: the live line is redrawn in place.</summary>
    public bool Interactive { get; }

    /// <summary>Columns available for the live line.</summary>
    public int Width => Math.Max(20, _width());

    /// <summary>The real console; live only when stdout is a terminal.</summary>
    public static LiveConsole ForConsole() => new(Console.Out, Console.Error, !Console.IsOutputRedirected);

    /// <summary>Replaces the live line (terminal only; the caller fits it to <see cref="Width"/>).</summary>
    public void SetLive(string line)
    {
        lock (_gate)
        {
            _live = line;
            _stdout.Write(EraseLine + line);
            _stdout.Flush();
        }
    }

    /// <summary>Leaves the live line where it is, as a finished line; what follows starts below it.</summary>
    public void EndLive()
    {
        lock (_gate)
        {
            if (_live is not null)
            {
                _stdout.WriteLine();
                _stdout.Flush();
                _live = null;
            }
        }
    }

    /// <summary>A line of command output, above the live line.</summary>
    public void WriteLine(string text) => Above(_stdout, text + Environment.NewLine);

    /// <summary>Formatted log text (ending in a new line) on stderr, above the live line.</summary>
    public void WriteLog(string text) => Above(_stderr, text);

    private void Above(TextWriter writer, string text)
    {
        lock (_gate)
        {
            if (_live is not null)
            {
                _stdout.Write(EraseLine);
                _stdout.Flush();
            }
            writer.Write(text);
            writer.Flush();
            if (_live is not null)
            {
                _stdout.Write(_live);
                _stdout.Flush();
            }
        }
    }

    private static int TerminalWidth()
    {
        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }
}
