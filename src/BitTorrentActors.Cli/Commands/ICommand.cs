using BitTorrentActors.Cli.CommandLine;

namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// One <c>bta</c> sub-command. Adding a command is one class implementing this plus one line in
/// <see cref="CommandRegistry.CreateDefault"/>; parsing, <c>--help</c>, the common options and exit codes are
/// handled by <see cref="BtaApp"/>.
/// </summary>
public interface ICommand
{
    /// <summary>The word after <c>bta</c>: <c>info</c>, <c>download</c>, ...</summary>
    string Name { get; }

    /// <summary>One line for the command list in <c>bta --help</c>.</summary>
    string Summary { get; }

    /// <summary>A paragraph or two shown by <c>bta NAME --help</c>, under the synopsis.</summary>
    string Description { get; }

    /// <summary>Required positional arguments, by the name shown in usage (<c>file.torrent</c>).</summary>
    IReadOnlyList<string> Arguments { get; }

    /// <summary>How many positionals it takes at most; more than <see cref="Arguments"/> repeat the last one
    /// (<c>download a.torrent b.torrent</c>).</summary>
    int MaxArguments => Arguments.Count;

    /// <summary>The command's own options; the common ones (<see cref="CommonOptions"/>) are added for it.</summary>
    IReadOnlyList<OptionSpec> Options { get; }

    /// <summary>Runs the command and returns the exit code; throws <see cref="CliException"/> for a one-line failure.</summary>
    Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken);
}
