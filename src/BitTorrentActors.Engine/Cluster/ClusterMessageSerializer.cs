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
/// torrent spec kept in Distributed Data and <see cref="SpecSyncActor"/>'s lists of specs, each
/// <see cref="ITorrentCommand"/>, and the session's replies and lists that other nodes' fronts gather. A message is JSON from a source-generated <see cref="ClusterJson"/> context
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

    /// <summary>Every message this serializer carries: its manifest (stable across versions: never reuse one for
    /// another type) and its generated JSON contract (which names the type).</summary>
    public static readonly IReadOnlyList<(string Manifest, JsonTypeInfo Contract)> Messages =
    [
        ("host", ClusterJson.Default.Host),
        ("handoff", ClusterJson.Default.HandOff),
        ("spec", ClusterJson.Default.TorrentSpec),
        ("remove", ClusterJson.Default.RemoveTorrent),
        ("start", ClusterJson.Default.StartTorrent),
        ("stop", ClusterJson.Default.StopTorrent),
        ("verify", ClusterJson.Default.VerifyTorrent),
        ("reannounce", ClusterJson.Default.ReannounceTorrent),
        ("options", ClusterJson.Default.SetTorrentOptions),
        ("location", ClusterJson.Default.SetTorrentLocation),
        ("queue", ClusterJson.Default.MoveInQueue),
        ("peers", ClusterJson.Default.AddPeers),
        ("park", ClusterJson.Default.ParkTorrent),
        ("list", ClusterJson.Default.ListTorrents),
        ("details", ClusterJson.Default.GetTorrentDetails),
        ("added", ClusterJson.Default.TorrentAdded),
        ("done", ClusterJson.Default.CommandDone),
        ("refused", ClusterJson.Default.CommandRefused),
        ("torrents", ClusterJson.Default.TorrentList),
        ("torrent-details", ClusterJson.Default.TorrentDetailsList),
        ("c-peers", ClusterJson.Default.PeersDiscovered),
        ("c-stop", ClusterJson.Default.Stop),
        ("c-files", ClusterJson.Default.SetFiles),
        ("c-limits", ClusterJson.Default.SetLimits),
        ("c-ratio", ClusterJson.Default.SetSeedRatio),
        ("c-peer-limit", ClusterJson.Default.SetPeerLimit),
        ("c-reannounce", ClusterJson.Default.Reannounce),
        ("m-stop", ClusterJson.Default.StopFetching),
        ("specs-held", ClusterJson.Default.Held),
        ("specs-wanted", ClusterJson.Default.Wanted),
    ];

    private static readonly Dictionary<Type, (string Manifest, JsonTypeInfo Contract)> ByType =
        Messages.ToDictionary(m => m.Contract.Type);

    private static readonly Dictionary<string, JsonTypeInfo> ByManifest =
        Messages.ToDictionary(m => m.Manifest, m => m.Contract, StringComparer.Ordinal);

    /// <summary>The types to bind to this serializer.</summary>
    public static IEnumerable<Type> BoundTypes => Messages.Select(m => m.Contract.Type);

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => EntryOf(o).Manifest;

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, EntryOf(obj).Contract);

    private static (string Manifest, JsonTypeInfo Contract) EntryOf(object message) =>
        ByType.TryGetValue(message.GetType(), out var entry)
            ? entry
            : throw new ArgumentException($"{message.GetType()} is not a cluster message of bta", nameof(message));

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
[JsonSerializable(typeof(SpecSyncActor.Held))]
[JsonSerializable(typeof(SpecSyncActor.Wanted))]
internal sealed partial class ClusterJson : JsonSerializerContext;
