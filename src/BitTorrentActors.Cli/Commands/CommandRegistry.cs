namespace BitTorrentActors.Cli.Commands;

/// <summary>The commands <c>bta</c> knows, by name, in the order <c>bta --help</c> lists them.</summary>
public sealed class CommandRegistry
{
    private readonly List<ICommand> _commands = [];

    public IReadOnlyList<ICommand> Commands => _commands;

    /// <summary>The shipped command set. A new command is one class and one line here.</summary>
    public static CommandRegistry CreateDefault() =>
        new CommandRegistry()
            .Register(new InfoCommand())
            .Register(new CreateCommand())
            .Register(new DownloadCommand())
            .Register(new PeersCommand())
            .Register(new SeedCommand())
            .Register(new ScrapeCommand())
            .Register(new DhtCommand())
            .Register(new DaemonCommand())
            .Register(new ConfigCommand());

    public CommandRegistry Register(ICommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (TryGet(command.Name, out _))
        {
            throw new ArgumentException($"a command named '{command.Name}' is already registered", nameof(command));
        }
        _commands.Add(command);
        return this;
    }

    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ICommand? command)
    {
        command = _commands.Find(c => string.Equals(c.Name, name, StringComparison.Ordinal));
        return command is not null;
    }
}
