using BitTorrentActors.Cli.CommandLine;

namespace BitTorrentActors.Cli.Commands;

/// <summary>Options every command accepts, and shared ones later commands opt into.</summary>
public static class CommonOptions
{
    public static readonly OptionSpec Help = new("--help", "Show this help and exit.");

    public static readonly OptionSpec Config = new(
        "--config", "Overlay a HOCON file on hocon.conf (repeatable; later files win).", "FILE", Repeatable: true);

    public static readonly OptionSpec LogLevel = new(
        "--log-level", "Verbose, Debug, Information, Warning, Error or Fatal.", "LEVEL",
        ConfigKey: "bta.logging.level");

    public static readonly OptionSpec Set = new(
        "--set", "Override one setting, e.g. --set bta.max-connections=100 (repeatable).", "KEY=VALUE",
        Repeatable: true);

    /// <summary>For commands that listen for peers (download, seed): overrides bta.listen-port.</summary>
    public static readonly OptionSpec Port = new(
        "--port", "TCP port to listen on for peers (bta.listen-port).", "PORT", ConfigKey: "bta.listen-port");

    public static IReadOnlyList<OptionSpec> All { get; } = [Help, Config, LogLevel, Set];

    /// <summary>Help spelled short, accepted wherever --help is.</summary>
    public static bool IsHelp(string token) => token is "--help" or "-h";
}
