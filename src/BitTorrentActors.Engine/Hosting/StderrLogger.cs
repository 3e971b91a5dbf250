using System.Globalization;
using Akka.Event;

namespace BitTorrentActors.Engine.Hosting;

/// <summary>
/// Akka's minimal logger (<c>akka.stdout-logger-class</c>), used before the real loggers are up and after they
/// stopped: Akka's default writes those events to stdout (at shutdown with akka.loglevel = DEBUG it printed
/// "Shutting down: StandardOutLogger started" there), and stdout is for command output only. This one writes
/// them to stderr, where the rest of the log goes, one line each in bta's console format.
/// </summary>
public sealed class StderrLogger : MinimalLogger
{
    protected override void Log(object message)
    {
        if (message is not LogEvent logEvent)
        {
            return;
        }
        var level = logEvent.LogLevel() switch
        {
            LogLevel.DebugLevel => "DBG",
            LogLevel.InfoLevel => "INF",
            LogLevel.WarningLevel => "WRN",
            _ => "ERR",
        };
        var text = string.Create(CultureInfo.InvariantCulture,
            $"[{logEvent.Timestamp.ToLocalTime():HH:mm:ss} {level}] {logEvent.LogSource}: {logEvent.Message}{(logEvent.Cause is { } cause ? " (" + cause.Message + ")" : "")}");
        Console.Error.WriteLine(text);
    }
}
