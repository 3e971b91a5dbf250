using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using BitTorrentActors.Engine.Cluster;
using BitTorrentActors.Engine.Session;
using Microsoft.Extensions.DependencyInjection;

namespace BitTorrentActors.Engine.Hosting;

/// <summary>
/// Starts BitTorrentActors' ActorSystem inside a generic host, with the session actor
/// (<see cref="TorrentSessionActor"/>) registered in Akka.Hosting's <see cref="ActorRegistry"/> so the rest of the
/// host reaches it as <c>IRequiredActor&lt;TorrentSessionActor&gt;</c>. Commands add their own actors (the console
/// observer) through <c>startActors</c>.
/// </summary>
public static class BtaHostingExtensions
{
    /// <summary>Name of the ActorSystem the host runs.</summary>
    public const string ActorSystemName = "bta";

    /// <summary>
    /// Validates <paramref name="config"/> into <see cref="BtaSettings"/> (registered as a singleton), then adds
    /// the "bta" ActorSystem with that HOCON, Akka's log routed into Microsoft.Extensions.Logging (and from there
    /// to Serilog when the host registers it), and <paramref name="startActors"/> run once the system is up.
    /// </summary>
    /// <exception cref="BtaConfigException">a setting is missing or invalid.</exception>
    public static IServiceCollection AddBitTorrentActors(
        this IServiceCollection services,
        Config config,
        Action<ActorSystem, IActorRegistry, BtaSettings>? startActors = null,
        SessionOptions? session = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(config);

        var settings = BtaSettings.FromConfig(config);
        services.AddSingleton(settings);
        services.AddAkka(ActorSystemName, (builder, _) =>
        {
            builder.ConfigureLoggers(loggers =>
            {
                loggers.LogLevel = AkkaLogLevel(config);
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            });
            // Added after ConfigureLoggers: a later Prepend wins, so the file's akka settings are final.
            builder.AddHocon(config, HoconAddMode.Prepend);
            var clustered = settings.Cluster.Enabled && session is not null;
            if (clustered)
            {
                // The same session, its torrents placed by the shard region (the front-ends get its cluster front).
                builder.WithTorrentCluster(settings, session!);
            }
            builder.WithActors((system, registry) =>
            {
                if (session is not null && !clustered)
                {
                    registry.Register<TorrentSessionActor>(
                        system.ActorOf(TorrentSessionActor.Props(settings, session), "session"));
                }
                startActors?.Invoke(system, registry, settings);
            });
        });
        return services;
    }

    /// <summary>The akka.loglevel of <paramref name="config"/>, INFO when absent or not a level Akka knows.</summary>
    internal static LogLevel AkkaLogLevel(Config config)
    {
        var text = config.HasPath("akka.loglevel") ? config.GetString("akka.loglevel") : null;
        return text?.Trim().ToUpperInvariant() switch
        {
            "DEBUG" => LogLevel.DebugLevel,
            "WARNING" => LogLevel.WarningLevel,
            "ERROR" => LogLevel.ErrorLevel,
            _ => LogLevel.InfoLevel,
        };
    }
}
