using Akka.Configuration;
using Akka.Configuration.Hocon;
using BitTorrentActors.Cli.CommandLine;

namespace BitTorrentActors.Cli.Configuration;

/// <summary>
/// The settings bta knows: every leaf path under <c>bta</c> in the shipped hocon.conf. Derived from that file, not
/// listed by hand, so a section added there (with its defaults) is valid at once. An overlay or <c>--set</c> that
/// names any other path under <c>bta</c> is a misspelling that would otherwise be ignored in silence.
/// </summary>
public sealed class SettingKeys
{
    private readonly HashSet<string> _leaves;

    private SettingKeys(HashSet<string> leaves)
    {
        _leaves = leaves;
    }

    public IReadOnlyCollection<string> Leaves => _leaves;

    /// <summary>The leaf paths under <see cref="Engine.Hosting.BtaSettings.Section"/> of <paramref name="defaults"/>.</summary>
    public static SettingKeys From(Config defaults)
    {
        var leaves = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in LeafPaths(defaults, includeEmpty: true))
        {
            leaves.Add(path);
        }
        return new SettingKeys(leaves);
    }

    /// <summary>Refuses every leaf under <c>bta</c> in <paramref name="overlay"/> that the defaults lack.</summary>
    /// <param name="source">Named in the error: the overlay file, or "--set".</param>
    public void CheckKnown(Config overlay, string source)
    {
        foreach (var path in LeafPaths(overlay, includeEmpty: false))
        {
            CheckKnown(path, source);
        }
    }

    /// <summary>Refuses <paramref name="path"/> when it is under <c>bta</c> and not a known setting.</summary>
    public void CheckKnown(string path, string source)
    {
        const string prefix = Engine.Hosting.BtaSettings.Section + ".";
        if ((path != Engine.Hosting.BtaSettings.Section && !path.StartsWith(prefix, StringComparison.Ordinal))
            || _leaves.Contains(path))
        {
            return;
        }
        var section = _leaves.FirstOrDefault(l => l.StartsWith(path + ".", StringComparison.Ordinal));
        if (section is not null)
        {
            throw new CliException($"{source}: '{path}' is a section, not a setting (set e.g. '{section}')");
        }
        throw new CliException($"{source}: unknown setting '{path}' (did you mean '{Nearest(path)}'?)");
    }

    /// <summary>The known setting closest to <paramref name="path"/> by edit distance (ties: the shorter path).</summary>
    public string Nearest(string path) =>
        _leaves.OrderBy(l => EditDistance(path, l)).ThenBy(l => l.Length).ThenBy(l => l, StringComparer.Ordinal).First();

    /// <summary>Levenshtein distance: insertions, deletions and substitutions each cost one.</summary>
    public static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitute, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <param name="includeEmpty">An empty object is a setting in the defaults (a map users fill), but sets
    /// nothing in an overlay (<c>bta { }</c>).</param>
    private static IEnumerable<string> LeafPaths(Config config, bool includeEmpty)
    {
        if (config.IsEmpty || config.Root is not { } root || !root.IsObject()
            || !root.GetObject().Items.TryGetValue(Engine.Hosting.BtaSettings.Section, out var bta))
        {
            return [];
        }
        var paths = new List<string>();
        Collect(Engine.Hosting.BtaSettings.Section, bta, paths, includeEmpty);
        return paths;
    }

    private static void Collect(string path, HoconValue value, List<string> paths, bool includeEmpty)
    {
        if (!value.IsObject())
        {
            paths.Add(path);
            return;
        }
        var items = value.GetObject().Items;
        if (items.Count == 0 && includeEmpty)
        {
            paths.Add(path);
        }
        foreach (var (key, child) in items)
        {
            Collect(path + "." + key, child, paths, includeEmpty);
        }
    }
}
