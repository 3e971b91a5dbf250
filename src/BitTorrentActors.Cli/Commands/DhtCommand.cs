using System.Globalization;
using Akka.Actor;
using Akka.Hosting;
using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Engine.Session;
using Microsoft.Extensions.DependencyInjection;

namespace BitTorrentActors.Cli.Commands;

/// <summary><c>bta dht [--wait SECONDS]</c>: joins the DHT as a session would and prints what the node sees.</summary>
public sealed class DhtCommand : ICommand
{
    public static readonly OptionSpec Wait = new(
        "--wait", "Seconds to let the node join before printing (1-120, default 10).", "SECONDS");

    private static readonly TimeSpan AskBudget = TimeSpan.FromSeconds(5);

    public string Name => "dht";

    public string Summary => "Join the DHT from bta.dht.bootstrap-nodes and print the node's id, table and good nodes.";

    public string Description =>
        "Starts a session with no torrent (the same DHT node bta download and bta daemon run, on UDP\n"
        + "bta.listen-address and the listen port, or any free port when that is taken), bootstraps from\n"
        + "bta.dht.bootstrap-nodes, waits until its lookups are done or --wait passes, and prints the node id, the\n"
        + "table's size and every good node (for troubleshooting a magnet that finds no peers). Exits 1 when no\n"
        + "node answered.";

    public IReadOnlyList<string> Arguments => [];

    public IReadOnlyList<OptionSpec> Options => [Wait, CommonOptions.Port];

    public async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var waitText = context.Args.Get(Wait.Name) ?? "10";
        if (!int.TryParse(waitText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 120)
        {
            throw new UsageException($"--wait expects whole seconds 1-120, got '{waitText}'");
        }
        if (!context.Settings.Dht.Enabled)
        {
            throw new CliException("bta.dht.enabled is off");
        }
        // No list kept and no listener: nothing but the DHT node runs.
        using var host = context.BuildHost(session: new SessionOptions(StateDirectory: null, Listen: false));
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var session = await host.Services.GetRequiredService<IRequiredActor<TorrentSessionActor>>()
                .GetAsync(cancellationToken).ConfigureAwait(false);
            var status = await WaitForJoinAsync(session, TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
            await PrintAsync(context.Stdout, status).ConfigureAwait(false);
            return status.GoodNodes > 0 ? ExitCodes.Ok : ExitCodes.Failure;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Polls the node until its table has nodes and no lookup runs (the bootstrap ended), or the wait passes.</summary>
    private static async Task<DhtNodeActor.DhtStatus> WaitForJoinAsync(IActorRef session, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var answer = await session.Ask(TorrentSessionActor.GetDhtStatus.Instance, AskBudget, cancellationToken).ConfigureAwait(false);
            if (answer is TorrentSessionActor.DhtOff off)
            {
                throw new CliException($"no DHT node: {off.Reason}");
            }
            var status = (DhtNodeActor.DhtStatus)answer;
            if ((status.Nodes > 0 && status.Lookups == 0 && status.PendingQueries == 0) || DateTime.UtcNow >= deadline)
            {
                return status;
            }
            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task PrintAsync(TextWriter stdout, DhtNodeActor.DhtStatus status)
    {
        await stdout.WriteLineAsync($"DHT node {status.Id.ToHex()}").ConfigureAwait(false);
        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"table: {status.Nodes} nodes, {status.GoodNodes} good, {status.Buckets} buckets, {status.Replacements} replacements; {status.QueriesAnswered} queries answered, {status.SendsRefused} sends refused"))
            .ConfigureAwait(false);
        foreach (var node in status.Table.Where(n => n.Status == NodeStatus.Good).OrderBy(n => n.Bucket))
        {
            await stdout.WriteLineAsync($"good {node.Id.ToHex()} {node.EndPoint}").ConfigureAwait(false);
        }
    }
}
