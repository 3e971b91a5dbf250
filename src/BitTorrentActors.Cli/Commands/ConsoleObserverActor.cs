using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
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
            renderer.Event(() => Event("checked", m.InfoHash, new CheckedFields(m.VerifiedPieces, m.PieceCount), EventJson.Default.CheckedFields));
        });
        Receive<TorrentSessionActor.TorrentCompleted>(m =>
        {
            torrents[m.InfoHash].Outcome.TrySetResult(new TorrentOutcome(m.Downloaded, m.Elapsed, null));
            renderer.Event(() => Event("completed", m.InfoHash, new CompletedFields(m.TotalBytes, m.Downloaded, m.Elapsed.TotalSeconds), EventJson.Default.CompletedFields));
        });
        Receive<TorrentSessionActor.TorrentSeedRatioReached>(m =>
        {
            torrents[m.InfoHash].SeedRatio.TrySetResult(new TorrentCoordinator.SeedRatioReached(m.Uploaded, m.Ratio));
            renderer.Event(() => Event("seedRatioReached", m.InfoHash, new SeedRatioFields(m.Uploaded, m.Ratio), EventJson.Default.SeedRatioFields));
        });
        Receive<TorrentSessionActor.TorrentFailed>(m =>
        {
            var signals = torrents[m.InfoHash];
            signals.Outcome.TrySetResult(new TorrentOutcome(0, TimeSpan.Zero, m.Reason));
            signals.SeedRatio.TrySetCanceled();
            renderer.Event(() => Event("failed", m.InfoHash, new FailedFields(m.Reason), EventJson.Default.FailedFields));
        });
        Receive<TorrentSessionActor.TorrentStopped>(m =>
        {
            torrents[m.InfoHash].Stopped.TrySetResult(new TorrentCoordinator.Stopped(m.Uploaded, m.Downloaded));
            renderer.Event(() => Event("stopped", m.InfoHash, new StoppedFields(m.Uploaded, m.Downloaded), EventJson.Default.StoppedFields));
        });
        Receive<TorrentSessionActor.TorrentMetadataProgress>(m =>
        {
            if (renderer.Mode == ProgressMode.Json)
            {
                renderer.Event(() => Event("metadataProgress", m.InfoHash, new MetadataProgressFields(
                    torrents[m.InfoHash].Name, m.PeersConnected, m.PeersOffering, m.PiecesReceived, m.PiecesTotal),
                    EventJson.Default.MetadataProgressFields));
            }
            else
            {
                renderer.RenderMetadata(m.PeersConnected, m.PeersOffering, m.PiecesReceived, m.PiecesTotal);
            }
        });
        Receive<TorrentSessionActor.TorrentMetadataReceived>(m =>
        {
            torrents[m.InfoHash].Metadata.TrySetResult(m);
            renderer.Event(() => Event("metadataReceived", m.InfoHash, new MetadataReceivedFields(m.Name, m.TotalSize, m.PieceCount, m.FileCount), EventJson.Default.MetadataReceivedFields));
        });
        Receive<TorrentSessionActor.ITorrentEvent>(_ => { });
    }

    public static Props Props(ProgressRenderer renderer, IReadOnlyDictionary<InfoHash, TorrentSignals> torrents) =>
        Akka.Actor.Props.Create(() => new ConsoleObserverActor(renderer, torrents));

    /// <summary>A --json event line: <c>{"event": ..., "infoHash": ..., fields...}</c>.</summary>
    /// <remarks>The fields' JSON is source-generated (<see cref="EventJson"/>): no reflection, so a Native AOT
    /// build writes these lines too (issue 14).</remarks>
    private static string Event<T>(string name, InfoHash infoHash, T fields, JsonTypeInfo<T> json)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("event", name);
            writer.WriteString("infoHash", infoHash.ToHex());
            foreach (var property in JsonSerializer.SerializeToElement(fields, json).EnumerateObject())
            {
                property.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    internal sealed record CheckedFields(int VerifiedPieces, int PieceCount);

    internal sealed record CompletedFields(long TotalBytes, long Downloaded, double Seconds);

    internal sealed record SeedRatioFields(long Uploaded, double Ratio);

    internal sealed record FailedFields(string Reason);

    internal sealed record StoppedFields(long Uploaded, long Downloaded);

    internal sealed record MetadataProgressFields(string Name, int PeersConnected, int PeersOffering, int PiecesReceived, int PiecesTotal);

    internal sealed record MetadataReceivedFields(string Name, long TotalBytes, int PieceCount, int FileCount);
}

/// <summary>The --json lines' fields, camelCase, generated at build time.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ConsoleObserverActor.CheckedFields))]
[JsonSerializable(typeof(ConsoleObserverActor.CompletedFields))]
[JsonSerializable(typeof(ConsoleObserverActor.SeedRatioFields))]
[JsonSerializable(typeof(ConsoleObserverActor.FailedFields))]
[JsonSerializable(typeof(ConsoleObserverActor.StoppedFields))]
[JsonSerializable(typeof(ConsoleObserverActor.MetadataProgressFields))]
[JsonSerializable(typeof(ConsoleObserverActor.MetadataReceivedFields))]
[JsonSerializable(typeof(ProgressRenderer.ProgressLine))]
internal sealed partial class EventJson : JsonSerializerContext;

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
