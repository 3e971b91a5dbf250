using Akka.DistributedData;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Cluster;

/// <summary>
/// What any node needs to run a torrent it did not add: the .torrent bytes (or the magnet link while the metadata
/// is missing) and whether it is paused. Kept in Distributed Data under one key per torrent
/// (<see cref="KeyOf"/>), replicated in memory to every node, so the torrent's entity can restart on a survivor
/// after its node dies; a removed torrent keeps a tombstone (<see cref="Removed"/>) so that a node that was away
/// does not bring it back from its own state folder. Plain data: it crosses nodes (<see cref="ClusterMessageSerializer"/>).
/// </summary>
public sealed record TorrentSpec(InfoHash InfoHash, byte[]? Metainfo, string? Magnet, bool Paused, bool Removed = false)
{
    private const string KeyPrefix = "bta-torrent-";

    public static LWWRegisterKey<TorrentSpec> KeyOf(InfoHash infoHash) => new(KeyPrefix + infoHash.ToHex());

    /// <summary>The info-hash of a torrent's key id (<see cref="KeyOf"/>); false for any other Distributed Data key.</summary>
    public static bool TryParseKey(string keyId, out InfoHash infoHash)
    {
        infoHash = default;
        return keyId.StartsWith(KeyPrefix, StringComparison.Ordinal) && InfoHash.TryParseHex(keyId[KeyPrefix.Length..], out infoHash);
    }
}
