using System.Reflection;
using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Cli.Commands;
using BitTorrentActors.Cli.Configuration;
using BitTorrentActors.Engine.Hosting;

namespace BitTorrentActors.Cli;

/// <summary>
/// The whole <c>bta</c> program behind a testable entry point. Exit codes: 0 success, 1 bad input or failure
/// (one line on stderr naming the file and the reason), 2 usage error (usage on stderr), 130 cancelled.
/// </summary>
public static class BtaApp
{
    public static Task<int> RunAsync(
        string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        RunAsync(args, stdout, stderr, CommandRegistry.CreateDefault(), baseDirectory: null, cancellationToken);

    /// <param name="baseDirectory">Where hocon.conf is looked for; null means next to the binary.</param>
    public static async Task<int> RunAsync(
        string[] args,
        TextWriter stdout,
        TextWriter stderr,
        CommandRegistry registry,
        string? baseDirectory,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ICommand? command = null;
        try
        {
            var commandIndex = FindCommand(args);
            if (commandIndex < 0)
            {
                return AppLevel(args, stdout, stderr, registry);
            }
            if (!registry.TryGet(args[commandIndex], out command))
            {
                throw new UsageException($"unknown command '{args[commandIndex]}'");
            }

            var rest = args.Take(commandIndex).Concat(args.Skip(commandIndex + 1)).ToList();
            if (rest.Exists(CommonOptions.IsHelp))
            {
                await stdout.WriteAsync(UsageText.ForCommand(command)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var parsed = ArgParser.Parse(rest, [.. command.Options, .. CommonOptions.All]);
            if (parsed.Positionals.Count < command.Arguments.Count)
            {
                throw new UsageException($"missing argument <{command.Arguments[parsed.Positionals.Count]}>");
            }
            if (parsed.Positionals.Count > command.MaxArguments)
            {
                throw new UsageException($"unexpected argument '{parsed.Positionals[command.MaxArguments]}'");
            }

            var context = new CommandContext(parsed, stdout, stderr, baseDirectory);
            return await command.RunAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (UsageException ex)
        {
            await stderr.WriteLineAsync($"bta: {ex.Message}").ConfigureAwait(false);
            await stderr.WriteLineAsync().ConfigureAwait(false);
            await stderr.WriteAsync(command is null ? UsageText.ForApp(registry) : UsageText.ForCommand(command))
                .ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (CliException ex)
        {
            await FailAsync(stderr, ex.Message).ConfigureAwait(false);
            return ex.ExitCode;
        }
        catch (BtaConfigException ex)
        {
            return await FailAsync(stderr, $"invalid configuration: {ex.Message}").ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("bta: cancelled").ConfigureAwait(false);
            return ExitCodes.Cancelled;
        }
        catch (Exception ex)
        {
            return await FailAsync(stderr, $"{ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
        }
    }

    /// <summary>Index of the command word: the first token that is neither a common option nor its value;
    /// -1 when there is none (help, version, or only options).</summary>
    private static int FindCommand(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var token = args[i];
            if (!token.StartsWith('-') || token == "-")
            {
                return i;
            }
            var name = token.Split('=', 2)[0];
            var option = CommonOptions.All.FirstOrDefault(o => o.Name == name);
            if (option is { TakesValue: true } && !token.Contains('=', StringComparison.Ordinal))
            {
                i++;
            }
        }
        return -1;
    }

    private static int AppLevel(string[] args, TextWriter stdout, TextWriter stderr, CommandRegistry registry)
    {
        if (args.Length > 0 && Array.Exists(args, CommonOptions.IsHelp))
        {
            stdout.Write(UsageText.ForApp(registry));
            return ExitCodes.Ok;
        }
        if (args is ["--version"])
        {
            stdout.WriteLine($"bta {Version}");
            return ExitCodes.Ok;
        }
        var unknown = Array.Find(
            args, a => a.StartsWith('-') && !CommonOptions.All.Any(o => o.Name == a.Split('=', 2)[0]));
        throw new UsageException(unknown is not null ? $"unknown option '{unknown}'" : "no command given");
    }

    private static async Task<int> FailAsync(TextWriter stderr, string message)
    {
        await stderr.WriteLineAsync($"bta: {BtaConfigLoader.OneLine(message)}").ConfigureAwait(false);
        return ExitCodes.Failure;
    }

    private static string Version =>
        typeof(BtaApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "0.0.0";
}
