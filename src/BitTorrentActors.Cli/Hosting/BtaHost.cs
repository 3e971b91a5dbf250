using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
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
        SessionOptions? session = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            // No appsettings.json, environment or default console logging: hocon.conf is the configuration.
            DisableDefaults = true,
            ApplicationName = "bta",
            ContentRootPath = AppContext.BaseDirectory,
        });
        AddCommandServices(builder.Services, settings, stderr);
        builder.Services.AddBitTorrentActors(config, startActors, session);
        return builder.Build();
    }

    /// <summary>What every bta host has besides the actors (also the daemon's web host): the command's own
    /// lifetime and Serilog.</summary>
    public static void AddCommandServices(IServiceCollection services, BtaSettings settings, TextWriter stderr)
    {
        // bta's Program owns Ctrl-C: the first one asks the running command to stop cleanly (tracker told
        // 'stopped', files flushed). The host's console lifetime would instead stop the ActorSystem at once.
        services.AddSingleton<IHostLifetime, CommandLifetime>();
        services.AddSerilog(CreateLogger(settings.Logging, stderr), dispose: true);
    }

    /// <summary>Serilog at the configured level: stderr (stdout stays for command output), and the file if set.</summary>
    public static Serilog.Core.Logger CreateLogger(LoggingSettings logging, TextWriter stderr)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(logging.Level)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            // "CoordinatedShutdown invoked ... Exiting with [ExitCode:0]" ends every run, also those that exit 1 or
            // 130: a false exit line. bta's own exit code and last line say how the run ended.
            .Filter.ByExcluding(IsAkkaExitLine)
            .Enrich.FromLogContext();

        if (ReferenceEquals(stderr, Console.Error))
        {
            configuration.WriteTo.Console(
                outputTemplate: ConsoleTemplate,
                standardErrorFromLevel: LogEventLevel.Verbose,
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

    private static bool IsAkkaExitLine(LogEvent e) =>
        e.Properties.TryGetValue("SourceContext", out var source)
        && source.ToString() == "\"Akka.Actor.ActorSystem\""
        && e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture)
            .Contains("CoordinatedShutdown invoked due to", StringComparison.Ordinal);

    /// <summary>A lifetime that reacts to no signal: the command decides when the host stops.</summary>
    private sealed class CommandLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
