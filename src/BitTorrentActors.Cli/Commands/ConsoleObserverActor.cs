using Akka.Actor;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// Receives a coordinator's progress and verdict: draws the progress line and completes the command's task.
/// The only place the engine meets the console.
/// </summary>
public sealed class ConsoleObserverActor : ReceiveActor
{
    public ConsoleObserverActor(ProgressRenderer renderer, TaskCompletionSource<TorrentOutcome> outcome)
    {
        Receive<TorrentCoordinator.Progress>(renderer.Render);
        Receive<TorrentCoordinator.Completed>(m => outcome.TrySetResult(new TorrentOutcome(m.Downloaded, m.Elapsed, null)));
        Receive<TorrentCoordinator.Failed>(m => outcome.TrySetResult(new TorrentOutcome(0, TimeSpan.Zero, m.Reason)));
    }

    public static Props Props(ProgressRenderer renderer, TaskCompletionSource<TorrentOutcome> outcome) =>
        Akka.Actor.Props.Create(() => new ConsoleObserverActor(renderer, outcome));
}

/// <summary>How a download ended, handed from the observer actor to the command.</summary>
public sealed record TorrentOutcome(long Downloaded, TimeSpan Elapsed, string? FailureReason);
