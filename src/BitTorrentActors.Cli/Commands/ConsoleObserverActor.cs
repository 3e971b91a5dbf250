using Akka.Actor;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// Receives a coordinator's progress and verdicts: draws the progress line and completes the command's tasks.
/// The only place the engine meets the console.
/// </summary>
public sealed class ConsoleObserverActor : ReceiveActor
{
    public ConsoleObserverActor(ProgressRenderer renderer, TorrentSignals signals)
    {
        Receive<TorrentCoordinator.Progress>(m =>
        {
            signals.LastProgress = m;
            renderer.Render(m);
        });
        Receive<TorrentCoordinator.Checked>(m => signals.Checked.TrySetResult(m));
        Receive<TorrentCoordinator.Completed>(m => signals.Outcome.TrySetResult(new TorrentOutcome(m.Downloaded, m.Elapsed, null)));
        Receive<TorrentCoordinator.SeedRatioReached>(m => signals.SeedRatio.TrySetResult(m));
        Receive<TorrentCoordinator.Failed>(m =>
        {
            signals.Outcome.TrySetResult(new TorrentOutcome(0, TimeSpan.Zero, m.Reason));
            signals.SeedRatio.TrySetCanceled();
        });
    }

    public static Props Props(ProgressRenderer renderer, TorrentSignals signals) =>
        Akka.Actor.Props.Create(() => new ConsoleObserverActor(renderer, signals));
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

    public TorrentCoordinator.Progress? LastProgress
    {
        get => Volatile.Read(ref _lastProgress);
        set => Volatile.Write(ref _lastProgress, value);
    }
}
