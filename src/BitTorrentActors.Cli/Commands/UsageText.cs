using System.Text;
using BitTorrentActors.Cli.CommandLine;

namespace BitTorrentActors.Cli.Commands;

/// <summary>Usage text for <c>bta --help</c> and <c>bta COMMAND --help</c>, built from the command definitions.</summary>
public static class UsageText
{
    public static string ForApp(CommandRegistry registry)
    {
        var text = new StringBuilder()
            .AppendLine("bta - BitTorrentActors, a BitTorrent client built on Akka.NET")
            .AppendLine()
            .AppendLine("Usage: bta <command> [options] [arguments]")
            .AppendLine("       bta <command> --help")
            .AppendLine("       bta --version")
            .AppendLine()
            .AppendLine("Commands:");
        var width = registry.Commands.Max(c => c.Name.Length) + 2;
        foreach (var command in registry.Commands)
        {
            text.Append("  ").Append(command.Name.PadRight(width)).AppendLine(command.Summary);
        }
        text.AppendLine();
        AppendOptions(text, "Common options:", CommonOptions.All);
        return text.ToString();
    }

    public static string ForCommand(ICommand command)
    {
        var synopsis = new StringBuilder("Usage: bta ").Append(command.Name);
        foreach (var argument in command.Arguments)
        {
            synopsis.Append(" <").Append(argument).Append('>');
        }
        if (command.MaxArguments > command.Arguments.Count)
        {
            synopsis.Append("...");
        }
        foreach (var option in command.Options)
        {
            synopsis.Append(" [").Append(option.Synopsis).Append(']');
        }
        synopsis.Append(" [common options]");

        var text = new StringBuilder()
            .AppendLine(synopsis.ToString())
            .AppendLine()
            .AppendLine(command.Description)
            .AppendLine();
        if (command.Options.Count > 0)
        {
            AppendOptions(text, "Options:", command.Options);
            text.AppendLine();
        }
        AppendOptions(text, "Common options:", CommonOptions.All);
        return text.ToString();
    }

    private static void AppendOptions(StringBuilder text, string heading, IReadOnlyList<OptionSpec> options)
    {
        text.AppendLine(heading);
        var width = options.Max(o => o.Synopsis.Length) + 2;
        foreach (var option in options)
        {
            text.Append("  ").Append(option.Synopsis.PadRight(width)).AppendLine(option.Description);
        }
    }
}
