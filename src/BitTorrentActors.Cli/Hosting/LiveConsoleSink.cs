using BitTorrentActors.Cli.Commands;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Sinks.SystemConsole.Themes;

namespace BitTorrentActors.Cli.Hosting;

/// <summary>
/// The console log while a progress line is live: each event is formatted, then written through the
/// <see cref="LiveConsole"/> (which erases the live line, writes the log line to stderr and redraws). Colour only
/// marks warnings (yellow) and errors (red); everything else keeps the terminal's default colours, readable on
/// any background.
/// </summary>
public sealed class LiveConsoleSink(LiveConsole console, ITextFormatter formatter, bool colour) : ILogEventSink
{
    private const string Reset = "\u001b[0m";

    /// <summary>For the plain console sink: only the level token is coloured, the rest is the terminal's default.</summary>
    public static AnsiConsoleTheme LevelOnlyTheme { get; } = new(new Dictionary<ConsoleThemeStyle, string>
    {
        [ConsoleThemeStyle.LevelWarning] = "\u001b[33m",
        [ConsoleThemeStyle.LevelError] = "\u001b[31m",
        [ConsoleThemeStyle.LevelFatal] = "\u001b[1;31m",
    });

    /// <summary>Colour when stderr is a terminal that is not "dumb" and NO_COLOR (no-color.org) is unset.</summary>
    public static bool UseColour(bool stderrRedirected) =>
        !stderrRedirected
        && Environment.GetEnvironmentVariable("TERM") is not "dumb"
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    public void Emit(LogEvent logEvent)
    {
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        formatter.Format(logEvent, text);
        var line = text.ToString();
        var start = colour ? logEvent.Level switch
        {
            LogEventLevel.Warning => "\u001b[33m",
            LogEventLevel.Error or LogEventLevel.Fatal => "\u001b[31m",
            _ => null,
        } : null;
        console.WriteLog(start is null ? line : start + line.TrimEnd('\n', '\r') + Reset + Environment.NewLine);
    }
}
