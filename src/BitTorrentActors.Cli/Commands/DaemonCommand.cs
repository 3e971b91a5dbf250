using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using BitTorrentActors.Api;
using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Cli.Hosting;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Session;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// <c>bta daemon [--state-dir DIR] [--download-dir DIR] [--rpc-port N] [--rpc-bind ADDR] [--port N]</c>: the
/// session with its torrent list in the state folder, driven through Transmission's RPC, in the foreground until
/// Ctrl-C (or SIGTERM); then every torrent announces stopped and saves its resume data, and bta exits 0.
/// </summary>
public sealed class DaemonCommand : ICommand
{
    public static readonly OptionSpec StateDir = new(
        "--state-dir", "Folder for the torrent list and options (bta.session.state-dir).", "DIR",
        ConfigKey: "bta.session.state-dir");

    public static readonly OptionSpec DownloadDir = new(
        "--download-dir", "Where added torrents download to (bta.session.download-dir).", "DIR",
        ConfigKey: "bta.session.download-dir");

    public static readonly OptionSpec RpcPort = new(
        "--rpc-port", "TCP port of the Transmission RPC (bta.rpc.port; 0 = any free port).", "N",
        ConfigKey: "bta.rpc.port");

    public static readonly OptionSpec RpcBind = new(
        "--rpc-bind", "Address the RPC listens on (bta.rpc.bind, default 127.0.0.1).", "ADDR",
        ConfigKey: "bta.rpc.bind");

    public static readonly OptionSpec Cluster = new(
        "--cluster", "Join a cluster of daemons: torrents sharded by info-hash over them (bta.cluster.enabled).");

    public static readonly OptionSpec ClusterPort = new(
        "--cluster-port", "TCP port of this node's cluster endpoint (bta.cluster.port).", "N",
        ConfigKey: "bta.cluster.port");

    public static readonly OptionSpec ClusterSeed = new(
        "--cluster-seed", "A seed node to join through, HOST:PORT (repeatable; bta.cluster.seed-nodes).", "HOST:PORT",
        Repeatable: true);

    /// <summary>How long the clean stop may take before the host is torn down anyway (a coordinator bounds its
    /// own stop by the tracker timeout; the session stops them side by side).</summary>
    private static readonly TimeSpan StopBudget = TimeSpan.FromSeconds(45);

    public string Name => "daemon";

    public string Summary => "Run the session in the foreground, driven by Transmission's RPC.";

    public string Description =>
        "Keeps a list of torrents in the state folder (restored on the next start, also after a crash) and\n"
        + "serves Transmission's RPC at http://ADDR:PORT/transmission/rpc, so transmission-remote, the\n"
        + "Transmission web UI and other front-ends drive it. Ctrl-C stops every torrent cleanly; exit 0.";

    public IReadOnlyList<string> Arguments => [];

    public IReadOnlyList<OptionSpec> Options =>
        [StateDir, DownloadDir, RpcPort, RpcBind, CommonOptions.Port, Cluster, ClusterPort, ClusterSeed];

    public async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var config = WithClusterOptions(context);
        var settings = BtaSettings.FromConfig(config);
        var state = DownloadCommand.PrepareFolder(settings.Session.ResolveStateDirectory(), "state");
        var downloads = DownloadCommand.PrepareFolder(settings.Session.ResolveDownloadDirectory(), "download");
        var session = new SessionOptions(StateDirectory: state, DownloadDirectory: downloads);

        IHost host;
        string where;
        if (settings.Rpc.Enabled)
        {
            EnsureFree(settings.Rpc.Bind, settings.Rpc.Port);
            var web = BtaWebHost.Build(config, settings, session,
                services => BtaHost.AddCommandServices(services, settings, context.Stderr));
            host = web;
            await StartAsync(host, $"{settings.Rpc.Bind}:{settings.Rpc.Port}", cancellationToken).ConfigureAwait(false);
            where = $"RPC on {BtaWebHost.RpcUrl(web)}";
        }
        else
        {
            host = BtaHost.Build(config, settings, context.Stderr, session: session);
            await StartAsync(host, "", cancellationToken).ConfigureAwait(false);
            where = "RPC off (bta.rpc.enabled = false)";
        }
        using (host)
        {
            var actor = await host.Services.GetRequiredService<IRequiredActor<TorrentSessionActor>>()
                .GetAsync(cancellationToken).ConfigureAwait(false);
            var node = settings.Cluster.Enabled ? $", cluster node {settings.Cluster.NodeName}" : "";
            await context.Stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"bta daemon: {where}, state in {state}, downloads in {downloads}{node}")).ConfigureAwait(false);
            await context.Stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C or SIGTERM: the normal way to stop a daemon.
            }
            if (settings.Cluster.Enabled)
            {
                // Leaving the cluster: the region hands every torrent off (stopped announced, resume saved, each
                // restarted on another node) and the session saves its list (TorrentClusterHosting), as the
                // host's stop runs Akka's coordinated shutdown.
                using var timeout = new CancellationTokenSource(StopBudget);
                await host.StopAsync(timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await StopAsync(actor, host).ConfigureAwait(false);
            }
            await context.Stdout.WriteLineAsync("bta daemon: stopped").ConfigureAwait(false);
        }
        return ExitCodes.Ok;
    }

    /// <summary>The configuration with --cluster and --cluster-seed applied (--cluster-port is a plain config key):
    /// the seeds of a repeatable option join into bta.cluster.seed-nodes.</summary>
    internal static Config WithClusterOptions(CommandContext context)
    {
        var lines = new List<string>();
        if (context.Args.Has(Cluster.Name))
        {
            lines.Add("bta.cluster.enabled = true");
        }
        var seeds = context.Args.GetAll(ClusterSeed.Name);
        foreach (var seed in seeds)
        {
            if (!Engine.Hosting.DhtSettings.TryParseNode(seed, out _, out _, out var error))
            {
                throw new UsageException($"--cluster-seed: {error}");
            }
        }
        if (seeds.Count > 0)
        {
            lines.Add($"bta.cluster.seed-nodes = \"{string.Join(',', seeds)}\"");
        }
        return lines.Count == 0
            ? context.Config
            : ConfigurationFactory.ParseString(string.Join('\n', lines)).WithFallback(context.Config);
    }

    /// <summary>A port already taken is one line, checked before the host starts: the host's own failure to bind
    /// is logged as a stack trace before the command could report it.</summary>
    private static void EnsureFree(System.Net.IPAddress bind, int port)
    {
        if (port == 0)
        {
            return;
        }
        try
        {
            var probe = new System.Net.Sockets.TcpListener(bind, port);
            probe.Start();
            probe.Stop();
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new CliException($"cannot serve the RPC on {bind}:{port}: {ex.Message} (bta.rpc.port, --rpc-port)");
        }
    }

    private static async Task StartAsync(IHost host, string endpoint, CancellationToken cancellationToken)
    {
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            host.Dispose();
            throw new CliException($"cannot serve the RPC on {endpoint}: {ex.Message}");
        }
    }

    /// <summary>Every torrent announces stopped and saves its resume data, the list is saved, then the host stops.</summary>
    private static async Task StopAsync(IActorRef session, IHost host)
    {
        try
        {
            await session.Ask<TorrentSessionActor.ShutdownComplete>(TorrentSessionActor.Shutdown.Instance, StopBudget)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
        {
            // The session is stuck or gone; stopping the host below still closes every actor.
        }
        using var timeout = new CancellationTokenSource(StopBudget);
        await host.StopAsync(timeout.Token).ConfigureAwait(false);
    }
}
