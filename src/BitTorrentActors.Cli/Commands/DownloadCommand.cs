using System.Globalization;
using System.Net;
using Akka.Actor;
using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;
using Microsoft.Extensions.Hosting;

namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// <c>bta download FILE -o DIR</c>: fetches a torrent through the actor engine, verifies every piece, exits 0.
/// Ctrl-C stops cleanly (tracker told <c>stopped</c>, files flushed) and exits 130.
/// </summary>
public sealed class DownloadCommand : ICommand
{
    public static readonly OptionSpec Output = new(
        "--output", "Folder the content lands in (as <dir>/<name>); created if missing.", "DIR", Alias: "-o");

    public static readonly OptionSpec Peer = new(
        "--peer", "Also connect to this peer, HOST:PORT (repeatable).", "HOST:PORT", Repeatable: true);

    /// <summary>How long a clean stop may take before the host is torn down anyway.</summary>
    private static readonly TimeSpan _stopBudget = TimeSpan.FromSeconds(20);

    public string Name => "download";

    public string Summary => "Download a torrent's content from its swarm, verifying every piece.";

    public string Description =>
        "Checks what is already in the output folder (a re-run resumes), announces to the torrent's trackers,\n"
        + "connects to peers and fetches every piece, verifying SHA-1 before anything is marked done. Exits 0\n"
        + "when the files are complete, 1 with one line on a fatal error, 130 after Ctrl-C.";

    public IReadOnlyList<string> Arguments => ["file.torrent"];

    public IReadOnlyList<OptionSpec> Options => [Output, CommonOptions.Port, Peer];

    public async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var torrentPath = context.Args.Positionals[0];
        var output = context.Args.Get(Output.Name) ?? throw new UsageException("download needs --output DIR (-o DIR)");
        var extraPeers = context.Args.GetAll(Peer.Name).Select(ParseEndPoint).ToList();
        var metainfo = await TorrentFileReader.LoadAsync(torrentPath, cancellationToken).ConfigureAwait(false);
        var directory = PrepareOutput(output);
        var settings = context.Settings;

        var torrent = new TorrentContext(metainfo, PeerId.Generate(), directory, settings, settings.ListenPort);
        var outcome = new TaskCompletionSource<TorrentOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var renderer = ProgressRenderer.For(context.Stdout);
        IActorRef? coordinator = null;

        using var host = context.BuildHost((system, _, _) =>
        {
            var observer = system.ActorOf(ConsoleObserverActor.Props(renderer, outcome), "console");
            coordinator = system.ActorOf(TorrentCoordinator.Props(torrent, observer, TorrentParts.Real),
                "torrent-" + metainfo.InfoHash.ToHex()[..12]);
            if (extraPeers.Count > 0)
            {
                coordinator.Tell(new TorrentCoordinator.AddPeers(extraPeers));
            }
        });
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        await context.Stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Downloading {metainfo.Name} ({ProgressRenderer.Size(metainfo.TotalLength)}, {metainfo.PieceCount} pieces) into {directory}"))
            .ConfigureAwait(false);

        TorrentOutcome result;
        try
        {
            result = await outcome.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            renderer.Finish();
            await StopAsync(coordinator, host).ConfigureAwait(false);
            throw;
        }
        renderer.Finish();
        await StopAsync(coordinator, host).ConfigureAwait(false);

        if (result.FailureReason is { } reason)
        {
            throw new CliException($"{torrentPath}: {reason}");
        }
        var seconds = Math.Max(result.Elapsed.TotalSeconds, 0.001);
        await context.Stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Complete: {metainfo.Name}, {metainfo.TotalLength} bytes verified. Downloaded {result.Downloaded} bytes in {seconds:0.0} s ({ProgressRenderer.Size((long)(result.Downloaded / seconds))}/s)."))
            .ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    /// <summary>Tells the coordinator to stop (tracker <c>stopped</c>, peers closed, files flushed), waits a
    /// bounded time, then stops the host.</summary>
    private static async Task StopAsync(IActorRef? coordinator, IHost host)
    {
        if (coordinator is not null)
        {
            try
            {
                await coordinator.Ask<TorrentCoordinator.Stopped>(TorrentCoordinator.Stop.Instance, _stopBudget)
                    .ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
            {
                // The coordinator is gone or stuck; the host shutdown below still closes every actor.
            }
        }
        using var timeout = new CancellationTokenSource(_stopBudget);
        await host.StopAsync(timeout.Token).ConfigureAwait(false);
    }

    private static string PrepareOutput(string output)
    {
        try
        {
            return Directory.CreateDirectory(Path.GetFullPath(output)).FullName;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliException($"{output}: cannot use as the output folder: {ex.Message}");
        }
    }

    internal static IPEndPoint ParseEndPoint(string text)
    {
        if (IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port is > 0 and <= 65535)
        {
            return endpoint;
        }
        throw new UsageException($"--peer expects an IP address and port such as 127.0.0.1:6881, got '{text}'");
    }
}
