using Akka.Actor;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// Subscribed to the session: draws one torrent's progress line and completes the command's tasks from that
/// torrent's events. The only place the engine meets the console.
/// </summary>
public sealed class ConsoleObserverActor : ReceiveActor
{
    public ConsoleObserverActor(ProgressRenderer renderer, TorrentSignals signals, InfoHash infoHash)
    {
        Receive<TorrentSessionActor.ITorrentEvent>(e => e.InfoHash != infoHash, _ => { });
        Receive<TorrentSessionActor.TorrentProgress>(m =>
        {
            signals.LastProgress = m.Progress;
            renderer.Render(m.Progress);
        });
        Receive<TorrentSessionActor.TorrentChecked>(m =>
            signals.Checked.TrySetResult(new TorrentCoordinator.Checked(m.VerifiedPieces, m.PieceCount)));
        Receive<TorrentSessionActor.TorrentCompleted>(m =>
            signals.Outcome.TrySetResult(new TorrentOutcome(m.Downloaded, m.Elapsed, null)));
        Receive<TorrentSessionActor.TorrentSeedRatioReached>(m =>
            signals.SeedRatio.TrySetResult(new TorrentCoordinator.SeedRatioReached(m.Uploaded, m.Ratio)));
        Receive<TorrentSessionActor.TorrentFailed>(m =>
        {
            signals.Outcome.TrySetResult(new TorrentOutcome(0, TimeSpan.Zero, m.Reason));
            signals.SeedRatio.TrySetCanceled();
        });
        Receive<TorrentSessionActor.TorrentStopped>(m =>
            signals.Stopped.TrySetResult(new TorrentCoordinator.Stopped(m.Uploaded, m.Downloaded)));
        Receive<TorrentSessionActor.ITorrentEvent>(_ => { });
    }

    public static Props Props(ProgressRenderer renderer, TorrentSignals signals, InfoHash infoHash) =>
        Akka.Actor.Props.Create(() => new ConsoleObserverActor(renderer, signals, infoHash));
}

/// <summary>How a download ended, handed from the observer actor to the command.</summary>
public sealed record TorrentOutcome(long Downloaded, TimeSpan Elapsed, string? FailureReason);

/// <summary>What the observer actor hands to the command's task (thread-safe: completion sources and one
/// volatile reference).</summary>
public sealed class TorrentSignals
{
    private TorrentCoordinator.Progress? _lastProgress;

    public TaskCompletionSource<TorrentOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<TorrentCoordinator.Checked> Checked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<TorrentCoordinator.SeedRatioReached> SeedRatio { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The torrent's coordinator stopped, with its final totals.</summary>
    public TaskCompletionSource<TorrentCoordinator.Stopped> Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TorrentCoordinator.Progress? LastProgress
    {
        get => Volatile.Read(ref _lastProgress);
        set => Volatile.Write(ref _lastProgress, value);
    }
}
