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
    /// <summary>Akka's "CoordinatedShutdown invoked due to [...]. Exiting with [ExitCode:0]." ends every run, also
    /// those that exit 1 or 130: a false exit line, which bta's log leaves out wherever it is written (the real
    /// loggers, or this one when they have stopped first, as in the Native AOT build). bta's own exit code and last
    /// line say how the run ended.</summary>
    public static bool IsAkkaExitLine(string message) =>
        message.Contains("CoordinatedShutdown invoked due to", StringComparison.Ordinal)
        && message.Contains("Exiting with [ExitCode", StringComparison.Ordinal);

    protected override void Log(object message)
    {
        if (message is not LogEvent logEvent || IsAkkaExitLine(logEvent.Message?.ToString() ?? string.Empty))
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
