namespace BitTorrentActors.Cli.CommandLine;

/// <summary>A parsed command line: positional arguments and option values in the order given.</summary>
public sealed class ParsedArgs
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];
    private readonly List<(OptionSpec Option, string Value)> _ordered = [];

    public IReadOnlyList<string> Positionals => _positionals;

    /// <summary>Every option occurrence in command-line order (flags carry an empty value).</summary>
    public IReadOnlyList<(OptionSpec Option, string Value)> Ordered => _ordered;

    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>The last value given for <paramref name="name"/>, or null.</summary>
    public string? Get(string name) => _values.TryGetValue(name, out var list) ? list[^1] : null;

    public IReadOnlyList<string> GetAll(string name) => _values.TryGetValue(name, out var list) ? list : [];

    internal void Add(OptionSpec option, string value)
    {
        if (!_values.TryGetValue(option.Name, out var list))
        {
            list = [];
            _values[option.Name] = list;
        }
        list.Add(value);
        _ordered.Add((option, value));
    }

    internal void AddPositional(string value) => _positionals.Add(value);
}
