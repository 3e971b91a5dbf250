using System.Globalization;
using System.Net;
using Akka.Actor;
using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;
using Microsoft.Extensions.Hosting;

namespace BitTorrentActors.Cli.Commands;

/// <summary>What <c>download</c> and <c>seed</c> share: a host with the peer listener and one coordinator, the
/// wait for completion, optional seeding until Ctrl-C or the seed ratio, and a bounded clean stop.</summary>
internal sealed record TorrentRunRequest(
    string TorrentPath,
    string Directory,
    IReadOnlyList<IPEndPoint> ExtraPeers,
    bool Seed,
    double? SeedRatio,
    bool ReportMissing);

internal static class TorrentRun
{
    public static readonly OptionSpec SeedRatio = new(
        "--seed-ratio", "Stop seeding (exit 0) once uploaded / size reaches R.", "R");

    /// <summary>How long a clean stop may take before the host is torn down anyway.</summary>
    private static readonly TimeSpan _stopBudget = TimeSpan.FromSeconds(20);

    public static double? ParseRatio(CommandContext context)
    {
        if (context.Args.Get(SeedRatio.Name) is not { } text)
        {
            return null;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) && ratio >= 0 && double.IsFinite(ratio)
            ? ratio
            : throw new UsageException($"--seed-ratio expects a number of at least 0 such as 1.5, got '{text}'");
    }

    public static async Task<int> RunAsync(CommandContext context, TorrentRunRequest request, CancellationToken cancellationToken)
    {
        var metainfo = await TorrentFileReader.LoadAsync(request.TorrentPath, cancellationToken).ConfigureAwait(false);
        var settings = context.Settings;
        var torrent = new TorrentContext(metainfo, PeerId.Generate(), request.Directory, settings, settings.ListenPort);
        var signals = new TorrentSignals();
        var renderer = ProgressRenderer.For(context.Stdout);
        IActorRef? coordinator = null;

        using var host = context.BuildHost((system, _, _) =>
        {
            var listener = system.ActorOf(ListenerActor.Props(settings.ListenAddress, settings.ListenPort,
                settings.MaxConnections, settings.Timeouts.Handshake), "listener");
            var observer = system.ActorOf(ConsoleObserverActor.Props(renderer, signals), "console");
            var options = new CoordinatorOptions(request.Seed, request.SeedRatio, listener);
            coordinator = system.ActorOf(TorrentCoordinator.Props(torrent, observer, TorrentParts.Real, options),
                "torrent-" + metainfo.InfoHash.ToHex()[..12]);
            if (request.ExtraPeers.Count > 0)
            {
                coordinator.Tell(new TorrentCoordinator.AddPeers(request.ExtraPeers));
            }
        });
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        var verb = request.ReportMissing ? "Seeding" : "Downloading";
        await Line(context, $"{verb} {metainfo.Name} ({ProgressRenderer.Size(metainfo.TotalLength)}, {metainfo.PieceCount} pieces) in {request.Directory}");

        TorrentOutcome result;
        try
        {
            if (request.ReportMissing)
            {
                var check = await signals.Checked.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                var missing = check.PieceCount - check.VerifiedPieces;
                if (missing > 0)
                {
                    renderer.Finish();
                    await Line(context, $"{missing} of {check.PieceCount} pieces are missing or damaged; fetching them first");
                }
            }
            result = await signals.Outcome.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            renderer.Finish();
            await StopAsync(coordinator, host).ConfigureAwait(false);
            throw;
        }

        if (result.FailureReason is { } reason)
        {
            renderer.Finish();
            await StopAsync(coordinator, host).ConfigureAwait(false);
            throw new CliException($"{request.TorrentPath}: {reason}");
        }
        renderer.Finish();
        var seconds = Math.Max(result.Elapsed.TotalSeconds, 0.001);
        await Line(context, $"Complete: {metainfo.Name}, {metainfo.TotalLength} bytes verified. Downloaded {result.Downloaded} bytes in {seconds:0.0} s ({ProgressRenderer.Size((long)(result.Downloaded / seconds))}/s).");
        if (request.Seed)
        {
            await SeedUntilDoneAsync(context, request, signals, renderer, cancellationToken).ConfigureAwait(false);
        }
        var stopped = await StopAsync(coordinator, host).ConfigureAwait(false);
        if (request.Seed)
        {
            var uploaded = stopped?.Uploaded ?? signals.LastProgress?.Uploaded ?? 0;
            await Line(context, $"Stopped seeding: uploaded {uploaded} bytes (ratio {uploaded / (double)Math.Max(1, metainfo.TotalLength):0.00}).");
        }
        return ExitCodes.Ok;
    }

    /// <summary>Seeding ends at the ratio, or at Ctrl-C, which here is the normal way to stop (exit 0, not 130:
    /// the download itself completed).</summary>
    private static async Task SeedUntilDoneAsync(
        CommandContext context, TorrentRunRequest request, TorrentSignals signals, ProgressRenderer renderer,
        CancellationToken cancellationToken)
    {
        var until = request.SeedRatio is { } r ? string.Create(CultureInfo.InvariantCulture, $"until ratio {r:0.##} or Ctrl-C") : "until Ctrl-C";
        await Line(context, $"Seeding {until}");
        try
        {
            await signals.SeedRatio.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C or a failure while seeding: either way a clean stop follows.
        }
        renderer.Finish();
    }

    private static Task Line(CommandContext context, FormattableString text) =>
        context.Stdout.WriteLineAsync(text.ToString(CultureInfo.InvariantCulture));

    /// <summary>Tells the coordinator to stop (tracker <c>stopped</c>, peers closed, files flushed), waits a
    /// bounded time, then stops the host.</summary>
    private static async Task<TorrentCoordinator.Stopped?> StopAsync(IActorRef? coordinator, IHost host)
    {
        TorrentCoordinator.Stopped? stopped = null;
        if (coordinator is not null)
        {
            try
            {
                stopped = await coordinator.Ask<TorrentCoordinator.Stopped>(TorrentCoordinator.Stop.Instance, _stopBudget)
                    .ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
            {
                // The coordinator is gone or stuck; the host shutdown below still closes every actor.
            }
        }
        using var timeout = new CancellationTokenSource(_stopBudget);
        await host.StopAsync(timeout.Token).ConfigureAwait(false);
        return stopped;
    }
}
