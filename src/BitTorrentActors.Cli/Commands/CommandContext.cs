using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Cli.Configuration;
using BitTorrentActors.Cli.Hosting;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Session;
using Microsoft.Extensions.Hosting;

namespace BitTorrentActors.Cli.Commands;

/// <summary>What a command gets: its parsed arguments, the output writers, and lazy access to configuration and
/// to a host running the ActorSystem (commands that do not need them, like <c>info</c>, never pay for them).</summary>
public sealed class CommandContext
{
    private readonly string? _baseDirectory;
    private Config? _config;
    private BtaSettings? _settings;

    public CommandContext(ParsedArgs args, TextWriter stdout, TextWriter stderr, string? baseDirectory = null)
    {
        Args = args;
        Stdout = stdout;
        Stderr = stderr;
        _baseDirectory = baseDirectory;
    }

    public ParsedArgs Args { get; }

    /// <summary>Command output (what scripts parse).</summary>
    public TextWriter Stdout { get; }

    /// <summary>Errors, and the log when it goes to the console.</summary>
    public TextWriter Stderr { get; }

    /// <summary>hocon.conf next to the binary, each --config overlay in order, then command-line overrides.</summary>
    public Config Config => _config ??= BtaConfigLoader.Load(
        Args.GetAll(CommonOptions.Config.Name), CommandLineOverrides(), _baseDirectory);

    /// <summary>The validated <c>bta</c> section of <see cref="Config"/>.</summary>
    public BtaSettings Settings => _settings ??= BtaSettings.FromConfig(Config);

    /// <summary>A host running the "bta" ActorSystem with Serilog; <paramref name="startActors"/> creates the actors.</summary>
    /// <param name="console">The live console the log is written through (above the progress line), if any.</param>
    public IHost BuildHost(
        Action<ActorSystem, IActorRegistry, BtaSettings>? startActors = null, SessionOptions? session = null,
        LiveConsole? console = null) =>
        BtaHost.Build(Config, Settings, Stderr, startActors, session, console);

    /// <summary>Overrides from options that carry a config key, then every --set, in command-line order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> CommandLineOverrides()
    {
        var overrides = new List<KeyValuePair<string, string>>();
        if (Args.Has("--quiet"))
        {
            // First, so an explicit --log-level still wins.
            overrides.Add(new("bta.logging.level", "Error"));
            overrides.Add(new("akka.loglevel", "ERROR"));
        }
        foreach (var (option, value) in Args.Ordered)
        {
            if (option.ConfigKey is { } key)
            {
                overrides.Add(new(key, value));
                if (option == CommonOptions.LogLevel)
                {
                    overrides.Add(new("akka.loglevel", AkkaLevelFor(value)));
                }
            }
            else if (option == CommonOptions.Set)
            {
                var eq = value.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new UsageException($"--set expects KEY=VALUE, got '{value}'");
                }
                overrides.Add(new(value[..eq].Trim(), value[(eq + 1)..]));
            }
        }
        return overrides;
    }

    private static string AkkaLevelFor(string serilogLevel)
    {
        if (!BtaSettings.TryParseLogLevel(serilogLevel, out var level))
        {
            throw new UsageException(
                $"--log-level expects Verbose, Debug, Information, Warning, Error or Fatal, got '{serilogLevel}'");
        }
        return level switch
        {
            Serilog.Events.LogEventLevel.Verbose or Serilog.Events.LogEventLevel.Debug => "DEBUG",
            Serilog.Events.LogEventLevel.Information => "INFO",
            Serilog.Events.LogEventLevel.Warning => "WARNING",
            _ => "ERROR",
        };
    }
}
