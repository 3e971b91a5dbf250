using System.Net;
using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Akka.Actor;
using Akka.Serialization;
using BitTorrentActors.Engine.Metadata;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Cluster;

/// <summary>
/// The serializer for every bta message that crosses cluster nodes: the shard entity's add and handoff, the
/// torrent spec kept in Distributed Data, each <see cref="ITorrentCommand"/>, and the session's replies and lists
/// that other nodes' fronts gather. A message is JSON from a source-generated <see cref="ClusterJson"/> context
/// (no reflection, so a Native AOT build forms a working cluster too: Akka's default Newtonsoft serializer could
/// not construct <c>List&lt;TorrentStatus&gt;</c> there, issue 14), under a short manifest from
/// <see cref="Messages"/>. A type not in that table is not bound to this serializer, and the cluster tests check
/// that every torrent command is.
/// </summary>
/// <remarks>Wire form per message: the manifest (a few ASCII letters, carried by Akka.Remote beside the payload)
/// and the payload, the UTF-8 JSON of the record's properties (an info-hash as 40 hex digits, an endpoint as
/// "address:port", byte arrays as base64, NaN as "NaN"). Nodes of one cluster run the same bta version.</remarks>
public sealed class ClusterMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka's own serializers use identifiers below 100.</summary>
    public const int SerializerId = 7301;

    /// <summary>The name the serializer is registered under.</summary>
    public const string Name = "bta-cluster";

    /// <summary>Every message this serializer carries: its type, its manifest (stable across versions: never reuse
    /// one for another type) and its generated JSON contract.</summary>
    public static readonly IReadOnlyList<(Type Type, string Manifest, JsonTypeInfo Contract)> Messages =
    [
        (typeof(TorrentShardEntity.Host), "host", ClusterJson.Default.Host),
        (typeof(TorrentShardEntity.HandOff), "handoff", ClusterJson.Default.HandOff),
        (typeof(TorrentSpec), "spec", ClusterJson.Default.TorrentSpec),
        (typeof(TorrentSessionActor.RemoveTorrent), "remove", ClusterJson.Default.RemoveTorrent),
        (typeof(TorrentSessionActor.StartTorrent), "start", ClusterJson.Default.StartTorrent),
        (typeof(TorrentSessionActor.StopTorrent), "stop", ClusterJson.Default.StopTorrent),
        (typeof(TorrentSessionActor.VerifyTorrent), "verify", ClusterJson.Default.VerifyTorrent),
        (typeof(TorrentSessionActor.ReannounceTorrent), "reannounce", ClusterJson.Default.ReannounceTorrent),
        (typeof(TorrentSessionActor.SetTorrentOptions), "options", ClusterJson.Default.SetTorrentOptions),
        (typeof(TorrentSessionActor.SetTorrentLocation), "location", ClusterJson.Default.SetTorrentLocation),
        (typeof(TorrentSessionActor.MoveInQueue), "queue", ClusterJson.Default.MoveInQueue),
        (typeof(TorrentSessionActor.AddPeers), "peers", ClusterJson.Default.AddPeers),
        (typeof(TorrentSessionActor.ParkTorrent), "park", ClusterJson.Default.ParkTorrent),
        (typeof(TorrentSessionActor.ListTorrents), "list", ClusterJson.Default.ListTorrents),
        (typeof(TorrentSessionActor.GetTorrentDetails), "details", ClusterJson.Default.GetTorrentDetails),
        (typeof(TorrentSessionActor.TorrentAdded), "added", ClusterJson.Default.TorrentAdded),
        (typeof(TorrentSessionActor.CommandDone), "done", ClusterJson.Default.CommandDone),
        (typeof(TorrentSessionActor.CommandRefused), "refused", ClusterJson.Default.CommandRefused),
        (typeof(TorrentSessionActor.TorrentList), "torrents", ClusterJson.Default.TorrentList),
        (typeof(TorrentSessionActor.TorrentDetailsList), "torrent-details", ClusterJson.Default.TorrentDetailsList),
        (typeof(TorrentCoordinator.PeersDiscovered), "c-peers", ClusterJson.Default.PeersDiscovered),
        (typeof(TorrentCoordinator.Stop), "c-stop", ClusterJson.Default.Stop),
        (typeof(TorrentCoordinator.SetFiles), "c-files", ClusterJson.Default.SetFiles),
        (typeof(TorrentCoordinator.SetLimits), "c-limits", ClusterJson.Default.SetLimits),
        (typeof(TorrentCoordinator.SetSeedRatio), "c-ratio", ClusterJson.Default.SetSeedRatio),
        (typeof(TorrentCoordinator.SetPeerLimit), "c-peer-limit", ClusterJson.Default.SetPeerLimit),
        (typeof(TorrentCoordinator.Reannounce), "c-reannounce", ClusterJson.Default.Reannounce),
        (typeof(MetadataFetcherActor.StopFetching), "m-stop", ClusterJson.Default.StopFetching),
    ];

    private static readonly Dictionary<Type, (string Manifest, JsonTypeInfo Contract)> ByType =
        Messages.ToDictionary(m => m.Type, m => (m.Manifest, m.Contract));

    private static readonly Dictionary<string, JsonTypeInfo> ByManifest =
        Messages.ToDictionary(m => m.Manifest, m => m.Contract, StringComparer.Ordinal);

    /// <summary>The types to bind to this serializer.</summary>
    public static IEnumerable<Type> BoundTypes => Messages.Select(m => m.Type);

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => ByType.TryGetValue(o.GetType(), out var entry)
        ? entry.Manifest
        : throw new ArgumentException($"{o.GetType()} is not a cluster message of bta", nameof(o));

    public override byte[] ToBinary(object obj) => ByType.TryGetValue(obj.GetType(), out var entry)
        ? JsonSerializer.SerializeToUtf8Bytes(obj, entry.Contract)
        : throw new ArgumentException($"{obj.GetType()} is not a cluster message of bta", nameof(obj));

    /// <summary>A manifest this version does not know, or a payload that is not its JSON, is a
    /// <see cref="SerializationException"/>: Akka.Remote drops that one message and logs it.</summary>
    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!ByManifest.TryGetValue(manifest, out var contract))
        {
            throw new SerializationException($"unknown bta cluster message '{manifest}'");
        }
        try
        {
            return JsonSerializer.Deserialize(bytes, contract)
                ?? throw new SerializationException($"bta cluster message '{manifest}' is null");
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException or InvalidOperationException
            or NotSupportedException)
        {
            throw new SerializationException($"bta cluster message '{manifest}' is malformed: {ex.Message}", ex);
        }
    }
}

/// <summary>An info-hash as its 40 hex digits.</summary>
public sealed class InfoHashJsonConverter : JsonConverter<InfoHash>
{
    public override InfoHash Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && InfoHash.TryParseHex(reader.GetString()!, out var hash)
            ? hash
            : throw new JsonException("an info-hash is 40 hex digits");

    public override void Write(Utf8JsonWriter writer, InfoHash value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToHex());
}

/// <summary>An endpoint as "address:port" ("[v6]:port" for IPv6), as <see cref="IPEndPoint.ToString"/> writes it.</summary>
public sealed class IPEndPointJsonConverter : JsonConverter<IPEndPoint>
{
    public override IPEndPoint Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && IPEndPoint.TryParse(reader.GetString()!, out var endPoint)
            ? endPoint
            : throw new JsonException("an endpoint is address:port");

    public override void Write(Utf8JsonWriter writer, IPEndPoint value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

/// <summary>The cluster messages' JSON, generated at build time.</summary>
[JsonSourceGenerationOptions(
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    Converters = [typeof(InfoHashJsonConverter), typeof(IPEndPointJsonConverter)])]
[JsonSerializable(typeof(TorrentShardEntity.Host))]
[JsonSerializable(typeof(TorrentShardEntity.HandOff))]
[JsonSerializable(typeof(TorrentSpec))]
[JsonSerializable(typeof(TorrentSessionActor.RemoveTorrent))]
[JsonSerializable(typeof(TorrentSessionActor.StartTorrent))]
[JsonSerializable(typeof(TorrentSessionActor.StopTorrent))]
[JsonSerializable(typeof(TorrentSessionActor.VerifyTorrent))]
[JsonSerializable(typeof(TorrentSessionActor.ReannounceTorrent))]
[JsonSerializable(typeof(TorrentSessionActor.SetTorrentOptions))]
[JsonSerializable(typeof(TorrentSessionActor.SetTorrentLocation))]
[JsonSerializable(typeof(TorrentSessionActor.MoveInQueue))]
[JsonSerializable(typeof(TorrentSessionActor.AddPeers))]
[JsonSerializable(typeof(TorrentSessionActor.ParkTorrent))]
[JsonSerializable(typeof(TorrentSessionActor.ListTorrents))]
[JsonSerializable(typeof(TorrentSessionActor.GetTorrentDetails))]
[JsonSerializable(typeof(TorrentSessionActor.TorrentAdded))]
[JsonSerializable(typeof(TorrentSessionActor.CommandDone))]
[JsonSerializable(typeof(TorrentSessionActor.CommandRefused))]
[JsonSerializable(typeof(TorrentSessionActor.TorrentList))]
[JsonSerializable(typeof(TorrentSessionActor.TorrentDetailsList))]
[JsonSerializable(typeof(TorrentCoordinator.PeersDiscovered))]
[JsonSerializable(typeof(TorrentCoordinator.Stop))]
[JsonSerializable(typeof(TorrentCoordinator.SetFiles))]
[JsonSerializable(typeof(TorrentCoordinator.SetLimits))]
[JsonSerializable(typeof(TorrentCoordinator.SetSeedRatio))]
[JsonSerializable(typeof(TorrentCoordinator.SetPeerLimit))]
[JsonSerializable(typeof(TorrentCoordinator.Reannounce))]
[JsonSerializable(typeof(MetadataFetcherActor.StopFetching))]
internal sealed partial class ClusterJson : JsonSerializerContext;
