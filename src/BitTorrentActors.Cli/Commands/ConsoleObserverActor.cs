using System.Text.Json;
using Akka.Actor;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// Subscribed to the session: draws the command's progress line (all its torrents at once) and completes each
/// torrent's tasks from that torrent's events. The only place the engine meets the console.
/// </summary>
public sealed class ConsoleObserverActor : ReceiveActor
{
    private readonly Dictionary<InfoHash, TorrentCoordinator.Progress> _latest = [];

    public ConsoleObserverActor(ProgressRenderer renderer, IReadOnlyDictionary<InfoHash, TorrentSignals> torrents)
    {
        Receive<TorrentSessionActor.ITorrentEvent>(e => !torrents.ContainsKey(e.InfoHash), _ => { });
        Receive<TorrentSessionActor.TorrentProgress>(m =>
        {
            var signals = torrents[m.InfoHash];
            signals.LastProgress = m.Progress;
            _latest[m.InfoHash] = m.Progress with { InfoHash = m.InfoHash };
            if (renderer.Mode == ProgressMode.Json)
            {
                renderer.Render([_latest[m.InfoHash]], signals.Name);
            }
            else
            {
                renderer.Render([.. _latest.Values]);
            }
        });
        Receive<TorrentSessionActor.TorrentChecked>(m =>
        {
            torrents[m.InfoHash].Checked.TrySetResult(new TorrentCoordinator.Checked(m.VerifiedPieces, m.PieceCount));
            renderer.Event(Event("checked", m.InfoHash, new { verifiedPieces = m.VerifiedPieces, pieceCount = m.PieceCount }));
        });
        Receive<TorrentSessionActor.TorrentCompleted>(m =>
        {
            torrents[m.InfoHash].Outcome.TrySetResult(new TorrentOutcome(m.Downloaded, m.Elapsed, null));
            renderer.Event(Event("completed", m.InfoHash, new { totalBytes = m.TotalBytes, downloaded = m.Downloaded, seconds = m.Elapsed.TotalSeconds }));
        });
        Receive<TorrentSessionActor.TorrentSeedRatioReached>(m =>
        {
            torrents[m.InfoHash].SeedRatio.TrySetResult(new TorrentCoordinator.SeedRatioReached(m.Uploaded, m.Ratio));
            renderer.Event(Event("seedRatioReached", m.InfoHash, new { uploaded = m.Uploaded, ratio = m.Ratio }));
        });
        Receive<TorrentSessionActor.TorrentFailed>(m =>
        {
            var signals = torrents[m.InfoHash];
            signals.Outcome.TrySetResult(new TorrentOutcome(0, TimeSpan.Zero, m.Reason));
            signals.SeedRatio.TrySetCanceled();
            renderer.Event(Event("failed", m.InfoHash, new { reason = m.Reason }));
        });
        Receive<TorrentSessionActor.TorrentStopped>(m =>
        {
            torrents[m.InfoHash].Stopped.TrySetResult(new TorrentCoordinator.Stopped(m.Uploaded, m.Downloaded));
            renderer.Event(Event("stopped", m.InfoHash, new { uploaded = m.Uploaded, downloaded = m.Downloaded }));
        });
        Receive<TorrentSessionActor.TorrentMetadataProgress>(m =>
        {
            if (renderer.Mode == ProgressMode.Json)
            {
                renderer.Event(Event("metadataProgress", m.InfoHash, new
                {
                    name = torrents[m.InfoHash].Name,
                    peersConnected = m.PeersConnected,
                    peersOffering = m.PeersOffering,
                    piecesReceived = m.PiecesReceived,
                    piecesTotal = m.PiecesTotal,
                }));
            }
            else
            {
                renderer.RenderMetadata(m.PeersConnected, m.PeersOffering, m.PiecesReceived, m.PiecesTotal);
            }
        });
        Receive<TorrentSessionActor.TorrentMetadataReceived>(m =>
        {
            torrents[m.InfoHash].Metadata.TrySetResult(m);
            renderer.Event(Event("metadataReceived", m.InfoHash, new { name = m.Name, totalBytes = m.TotalSize, pieceCount = m.PieceCount, fileCount = m.FileCount }));
        });
        Receive<TorrentSessionActor.ITorrentEvent>(_ => { });
    }

    public static Props Props(ProgressRenderer renderer, IReadOnlyDictionary<InfoHash, TorrentSignals> torrents) =>
        Akka.Actor.Props.Create(() => new ConsoleObserverActor(renderer, torrents));

    /// <summary>A --json event line: <c>{"event": ..., "infoHash": ..., fields...}</c>.</summary>
    private static string Event(string name, InfoHash infoHash, object fields)
    {
        var element = JsonSerializer.SerializeToElement(fields);
        var all = new Dictionary<string, object?> { ["event"] = name, ["infoHash"] = infoHash.ToHex() };
        foreach (var property in element.EnumerateObject())
        {
            all[property.Name] = property.Value;
        }
        return JsonSerializer.Serialize(all);
    }
}

/// <summary>How a download ended, handed from the observer actor to the command.</summary>
public sealed record TorrentOutcome(long Downloaded, TimeSpan Elapsed, string? FailureReason);

/// <summary>What the observer actor hands to the command's task for one torrent (thread-safe: completion
/// sources and one volatile reference).</summary>
public sealed class TorrentSignals(string name)
{
    private TorrentCoordinator.Progress? _lastProgress;

    public string Name { get; } = name;

    public TaskCompletionSource<TorrentOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<TorrentCoordinator.Checked> Checked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A magnet's metadata arrived (never completed for a torrent added from its .torrent).</summary>
    public TaskCompletionSource<TorrentSessionActor.TorrentMetadataReceived> Metadata { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<TorrentCoordinator.SeedRatioReached> SeedRatio { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The torrent's coordinator stopped, with its final totals.</summary>
    public TaskCompletionSource<TorrentCoordinator.Stopped> Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TorrentCoordinator.Progress? LastProgress
    {
        get => Volatile.Read(ref _lastProgress);
        set => Volatile.Write(ref _lastProgress, value);
    }
}
