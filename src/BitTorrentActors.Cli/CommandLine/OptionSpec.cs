namespace BitTorrentActors.Cli.CommandLine;

/// <summary>
/// One <c>--option</c> a command accepts. A non-null <see cref="ValueName"/> means it takes a value
/// (<c>--port 6881</c> or <c>--port=6881</c>); a non-null <see cref="ConfigKey"/> means its value overrides that
/// HOCON setting (command-line overrides win over every config file).
/// </summary>
public sealed record OptionSpec(
    string Name,
    string Description,
    string? ValueName = null,
    bool Repeatable = false,
    string? ConfigKey = null,
    string? Alias = null)
{
    public bool TakesValue => ValueName is not null;

    /// <summary>How the option reads in usage text: <c>--config FILE</c>.</summary>
    public string Synopsis => (Alias is null ? "" : Alias + ", ") + (TakesValue ? $"{Name} {ValueName}" : Name);
}
