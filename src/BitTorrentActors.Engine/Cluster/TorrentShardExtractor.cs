using Akka.Cluster.Sharding;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Cluster;

/// <summary>
/// The shard region's message extractor: <see cref="TorrentMessageExtractor"/> (the session's own routing rule:
/// entity = info-hash hex, shard = its first four bytes mod N). <see cref="ShardRegion.StartEntity"/>, which
/// remember-entities sends with only the entity id when a shard restarts on another node, is unwrapped by
/// Akka.NET 1.5 itself before the extractor sees it (analyzer rule AK2001 forbids handling it here) and placed
/// through <see cref="ShardId(string, object?)"/>: the entity id alone gives the same shard as any command for
/// that torrent.
/// </summary>
public sealed class TorrentShardExtractor(int shardCount) : IMessageExtractor
{
    private readonly TorrentMessageExtractor _torrents = new(shardCount);

    public int ShardCount => _torrents.ShardCount;

    public string? EntityId(object message) => TorrentMessageExtractor.EntityId(message);

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => _torrents.ShardId(message);

    /// <summary>An entity id is always an info-hash this class produced; anything else lands in shard 0 rather
    /// than throwing inside the region.</summary>
    public string ShardId(string entityId, object? messageHint = null) =>
        InfoHash.TryParseHex(entityId, out var hash) ? _torrents.ShardId(hash) : "0";
}
