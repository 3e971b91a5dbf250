namespace BitTorrentActors.Cli.CommandLine;

/// <summary>
/// A small GNU-style parser: <c>--name value</c>, <c>--name=value</c>, flags, positionals, and <c>--</c> to end
/// options. Anything it does not know is a <see cref="UsageException"/>.
/// </summary>
public static class ArgParser
{
    public static ParsedArgs Parse(IEnumerable<string> args, IReadOnlyCollection<OptionSpec> options)
    {
        var byName = options.ToDictionary(o => o.Name, StringComparer.Ordinal);
        foreach (var option in options)
        {
            if (option.Alias is { } alias)
            {
                byName.Add(alias, option);
            }
        }
        var parsed = new ParsedArgs();
        using var tokens = args.GetEnumerator();
        var optionsEnded = false;
        while (tokens.MoveNext())
        {
            var token = tokens.Current;
            if (optionsEnded || token == "-" || !token.StartsWith('-'))
            {
                parsed.AddPositional(token);
                continue;
            }
            if (token == "--")
            {
                optionsEnded = true;
                continue;
            }

            var eq = token.IndexOf('=', StringComparison.Ordinal);
            var name = eq > 0 ? token[..eq] : token;
            if (!byName.TryGetValue(name, out var option))
            {
                throw new UsageException($"unknown option '{name}'");
            }
            if (!option.Repeatable && parsed.Has(option.Name))
            {
                throw new UsageException($"option '{name}' given more than once");
            }

            if (!option.TakesValue)
            {
                if (eq > 0)
                {
                    throw new UsageException($"option '{name}' takes no value");
                }
                parsed.Add(option, string.Empty);
            }
            else if (eq > 0)
            {
                parsed.Add(option, token[(eq + 1)..]);
            }
            else if (tokens.MoveNext())
            {
                parsed.Add(option, tokens.Current);
            }
            else
            {
                throw new UsageException($"option '{name}' needs a value ({option.ValueName})");
            }
        }
        return parsed;
    }
}
