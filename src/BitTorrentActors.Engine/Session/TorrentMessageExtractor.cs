using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Session;

/// <summary>
/// Where a torrent message goes: its entity is the torrent's info-hash (40 hex digits, as a cluster shard region
/// names entities), its shard a stable function of the info-hash. The session routes its children by the same
/// key today; a shard region's message extractor can wrap this class unchanged, so a single-node daemon and a
/// cluster node place torrents by one rule.
/// </summary>
public sealed class TorrentMessageExtractor
{
    public TorrentMessageExtractor(int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shardCount);
        ShardCount = shardCount;
    }

    public int ShardCount { get; }

    /// <summary>The entity id of a torrent message; null for a message that names no torrent.</summary>
    public static string? EntityId(object message) => message is ITorrentCommand command ? command.InfoHash.ToHex() : null;

    /// <summary>The shard of <paramref name="infoHash"/>: its first four bytes (already uniform, being SHA-1)
    /// modulo the shard count, the same on every node and in every process.</summary>
    public string ShardId(InfoHash infoHash)
    {
        Span<byte> bytes = stackalloc byte[InfoHash.Length];
        infoHash.CopyTo(bytes);
        var leading = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
        return (leading % (uint)ShardCount).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The shard of a torrent message; null for a message that names no torrent.</summary>
    public string? ShardId(object message) => message is ITorrentCommand command ? ShardId(command.InfoHash) : null;
}
