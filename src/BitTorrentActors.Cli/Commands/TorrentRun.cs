using System.Globalization;
using System.Net;
using Akka.Actor;
using BitTorrentActors.Cli.CommandLine;
using Akka.Hosting;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Torrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BitTorrentActors.Cli.Commands;

/// <summary>What <c>download</c> and <c>seed</c> share: a host running the session with this one torrent, the
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
        var (metainfo, bytes) = await TorrentFileReader.LoadWithBytesAsync(request.TorrentPath, cancellationToken).ConfigureAwait(false);
        var signals = new TorrentSignals();
        var renderer = ProgressRenderer.For(context.Stdout);
        IActorRef observer = ActorRefs.Nobody;

        // The same session the daemon runs, in-process and keeping no list: this command is its only client.
        using var host = context.BuildHost(
            (system, _, _) => observer = system.ActorOf(ConsoleObserverActor.Props(renderer, signals, metainfo.InfoHash), "console"),
            new SessionOptions(StateDirectory: null, DownloadDirectory: request.Directory));
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        var session = await host.Services.GetRequiredService<IRequiredActor<TorrentSessionActor>>()
            .GetAsync(cancellationToken).ConfigureAwait(false);
        await session.Ask<TorrentSessionActor.Subscribed>(new TorrentSessionActor.Subscribe(observer), _stopBudget, cancellationToken)
            .ConfigureAwait(false);
        var options = new AddTorrentOptions(request.Directory, Seed: request.Seed, SeedRatio: request.SeedRatio,
            Peers: request.ExtraPeers, SkipQueue: true);
        var added = await session.Ask(new TorrentSessionActor.AddTorrent(bytes, options), _stopBudget, cancellationToken)
            .ConfigureAwait(false);
        if (added is TorrentSessionActor.CommandRefused refused)
        {
            await StopAsync(session, signals, host).ConfigureAwait(false);
            throw new CliException($"{request.TorrentPath}: {refused.Reason}");
        }
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
            await StopAsync(session, signals, host).ConfigureAwait(false);
            throw;
        }

        if (result.FailureReason is { } reason)
        {
            renderer.Finish();
            await StopAsync(session, signals, host).ConfigureAwait(false);
            throw new CliException($"{request.TorrentPath}: {reason}");
        }
        renderer.Finish();
        var seconds = Math.Max(result.Elapsed.TotalSeconds, 0.001);
        await Line(context, $"Complete: {metainfo.Name}, {metainfo.TotalLength} bytes verified. Downloaded {result.Downloaded} bytes in {seconds:0.0} s ({ProgressRenderer.Size((long)(result.Downloaded / seconds))}/s).");
        if (request.Seed)
        {
            await SeedUntilDoneAsync(context, request, signals, renderer, cancellationToken).ConfigureAwait(false);
        }
        var stopped = await StopAsync(session, signals, host).ConfigureAwait(false);
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

    /// <summary>Tells the session to stop (tracker <c>stopped</c>, peers closed, files flushed, resume saved), waits
    /// a bounded time for it and for the torrent's final totals, then stops the host.</summary>
    private static async Task<TorrentCoordinator.Stopped?> StopAsync(IActorRef session, TorrentSignals signals, IHost host)
    {
        try
        {
            await session.Ask<TorrentSessionActor.ShutdownComplete>(TorrentSessionActor.Shutdown.Instance, _stopBudget)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
        {
            // The session is gone or stuck; the host shutdown below still closes every actor.
        }
        TorrentCoordinator.Stopped? stopped = null;
        try
        {
            // Published by the session before it answered; the observer may still be handing it over.
            stopped = await signals.Stopped.Task.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // No run ended (the torrent was refused or never started): no totals to report.
        }
        using var timeout = new CancellationTokenSource(_stopBudget);
        await host.StopAsync(timeout.Token).ConfigureAwait(false);
        return stopped;
    }
}
