using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using BitTorrentActors.Cli.Commands;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Session;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace BitTorrentActors.Cli.Hosting;

/// <summary>
/// The generic host for commands that run the ActorSystem: Serilog (console on stderr, plus a file when
/// bta.logging.file is set) and <see cref="BtaHostingExtensions.AddBitTorrentActors"/>.
/// </summary>
public static class BtaHost
{
    private const string ConsoleTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}";
    private const string FileTemplate =
        "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    public static IHost Build(
        Config config,
        BtaSettings settings,
        TextWriter stderr,
        Action<ActorSystem, IActorRegistry, BtaSettings>? startActors = null,
        SessionOptions? session = null,
        LiveConsole? console = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            // No appsettings.json, environment or default console logging: hocon.conf is the configuration.
            DisableDefaults = true,
            ApplicationName = "bta",
            ContentRootPath = AppContext.BaseDirectory,
        });
        AddCommandServices(builder.Services, settings, stderr, console);
        builder.Services.AddBitTorrentActors(config, startActors, session);
        return builder.Build();
    }

    /// <summary>What every bta host has besides the actors (also the daemon's web host): the command's own
    /// lifetime and Serilog.</summary>
    /// <param name="console">The live progress line the log must keep above (download and seed); null: none.</param>
    public static void AddCommandServices(IServiceCollection services, BtaSettings settings, TextWriter stderr, LiveConsole? console = null)
    {
        // bta's Program owns Ctrl-C: the first one asks the running command to stop cleanly (tracker told
        // 'stopped', files flushed). The host's console lifetime would instead stop the ActorSystem at once.
        services.AddSingleton<IHostLifetime, CommandLifetime>();
        services.AddSerilog(CreateLogger(settings.Logging, stderr, console), dispose: true);
    }

    /// <summary>Serilog at the configured level: stderr (stdout stays for command output), and the file if set.</summary>
    public static Serilog.Core.Logger CreateLogger(LoggingSettings logging, TextWriter stderr, LiveConsole? console = null)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(logging.Level)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            // Akka's false exit line (StderrLogger.IsAkkaExitLine says why).
            .Filter.ByExcluding(IsAkkaExitLine)
            // download and seed refuse to run when the port cannot be bound and say so in their one failure line.
            .Filter.ByExcluding(IsBindFailure)
            .Enrich.FromLogContext();

        if (console is not null && ReferenceEquals(stderr, Console.Error))
        {
            // Through the live console, so a log line lands above the progress line, never inside it.
            configuration.WriteTo.Sink(new LiveConsoleSink(
                console, new MessageTemplateTextFormatter(ConsoleTemplate, System.Globalization.CultureInfo.InvariantCulture),
                LiveConsoleSink.UseColour(Console.IsErrorRedirected)));
        }
        else if (ReferenceEquals(stderr, Console.Error))
        {
            // The terminal's own colours: Serilog's default theme paints text white or black, which one of a
            // light or a dark background cannot show (TERM=xterm on a white terminal: black on black-ish).
            configuration.WriteTo.Console(
                outputTemplate: ConsoleTemplate,
                standardErrorFromLevel: LogEventLevel.Verbose,
                theme: LiveConsoleSink.LevelOnlyTheme,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            configuration.WriteTo.Sink(new TextWriterSink(
                stderr, new MessageTemplateTextFormatter(ConsoleTemplate, System.Globalization.CultureInfo.InvariantCulture)));
        }

        if (!string.IsNullOrWhiteSpace(logging.File))
        {
            configuration.WriteTo.File(
                logging.File, outputTemplate: FileTemplate,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }
        return configuration.CreateLogger();
    }

    private static bool IsBindFailure(LogEvent e) =>
        e.Level == LogEventLevel.Warning
        && e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).StartsWith("Cannot listen for peers on ", StringComparison.Ordinal);

    private static bool IsAkkaExitLine(LogEvent e) =>
        e.Properties.TryGetValue("SourceContext", out var source)
        && source.ToString() == "\"Akka.Actor.ActorSystem\""
        && StderrLogger.IsAkkaExitLine(e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A lifetime that reacts to no signal: the command decides when the host stops.</summary>
    private sealed class CommandLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
