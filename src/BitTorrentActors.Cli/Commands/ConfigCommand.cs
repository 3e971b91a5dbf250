using System.Text;
using System.Text.Json;
using Akka.Configuration.Hocon;
using BitTorrentActors.Cli.CommandLine;

namespace BitTorrentActors.Cli.Commands;

/// <summary><c>bta config</c>: validates and prints the effective <c>bta</c> settings, so the result of
/// hocon.conf, the --config overlays and the overrides can be checked before a long download.</summary>
public sealed class ConfigCommand : ICommand
{
    public string Name => "config";

    public string Summary => "Validate and print the effective settings.";

    public string Description =>
        "Builds the configuration the other commands would use (hocon.conf next to the binary, each --config\n"
        + "overlay in order, then --log-level/--set overrides), validates it, and prints the bta section as HOCON.";

    public IReadOnlyList<string> Arguments => [];

    public IReadOnlyList<OptionSpec> Options => [];

    public async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        _ = context.Settings; // validates; a bad value is a one-line error naming the key
        var text = new StringBuilder("bta ");
        Render(context.Config.GetConfig("bta").Root.GetObject(), text, indent: 0);
        await context.Stdout.WriteLineAsync(text.ToString()).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    /// <summary>Renders a HOCON object so that it parses back to the same values.</summary>
    private static void Render(HoconObject hocon, StringBuilder text, int indent)
    {
        text.AppendLine("{");
        foreach (var (key, value) in hocon.Items)
        {
            text.Append(' ', (indent + 1) * 2).Append(key);
            if (value.IsObject())
            {
                text.Append(' ');
                Render(value.GetObject(), text, indent + 1);
            }
            else
            {
                var leaf = value.IsArray()
                    ? "[" + string.Join(", ", value.GetArray().Select(v => Leaf(v.GetString()))) + "]"
                    : Leaf(value.GetString());
                text.Append(" = ").AppendLine(leaf);
            }
        }
        text.Append(' ', indent * 2).Append('}');
        if (indent > 0)
        {
            text.AppendLine();
        }
    }

    private static string Leaf(string value) =>
        value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')
            ? value
            : JsonSerializer.Serialize(value);
}
