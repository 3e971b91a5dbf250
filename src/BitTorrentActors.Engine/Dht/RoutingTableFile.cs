using System.Diagnostics.CodeAnalysis;
using BitTorrentActors.Protocol.Bencode;
using BitTorrentActors.Protocol.Dht;

namespace BitTorrentActors.Engine.Dht;

/// <summary>What a saved routing table gives back: our id (to reuse if it still suits our address) and nodes to ping.</summary>
public sealed record SavedRoutingTable(NodeId? OwnId, IReadOnlyList<DhtNode> Nodes);

/// <summary>
/// The routing table's file in the state folder (BEP 5: "the routing table should be saved between
/// invocations"), a small bencoded dictionary in the shape of libtorrent's DHT state:
/// <code>
///   d 2:id 20:&lt;our id&gt;  5:nodes 26n:&lt;compact IPv4 nodes&gt;  6:nodes6 38n:&lt;compact IPv6 nodes&gt;  e
/// </code>
/// The file is input like any other: a damaged, truncated or hostile file gives one error and no nodes, never an
/// exception, and it is bounded in size and node count before anything is parsed.
/// </summary>
public static class RoutingTableFile
{
    /// <summary>Nodes read at most (a full table is 160 buckets of 8 live and 8 replacement nodes).</summary>
    public const int MaxNodes = 2 * 160 * 8;

    /// <summary>Largest file read: every node as IPv6 and a margin.</summary>
    public const int MaxFileLength = MaxNodes * CompactNodeInfo.IPv6EntryLength + 1024;

    private static readonly BencodeLimits Limits = new(MaxDepth: 2, MaxTokens: 32);

    public static byte[] Save(RoutingTable table, TimeSpan now) => Encode(table.OwnId, table.NodesToSave(now));

    public static byte[] Encode(NodeId ownId, IReadOnlyList<DhtNode> nodes) =>
        BencodeEncoder.Encode(BDictionary.From(
            ("id", new BString(ownId.ToArray())),
            ("nodes", new BString(CompactNodeInfo.EncodeIPv4(nodes.Take(MaxNodes)))),
            ("nodes6", new BString(CompactNodeInfo.EncodeIPv6(nodes.Take(MaxNodes))))));

    public static bool TryLoad(
        ReadOnlyMemory<byte> file,
        [NotNullWhen(true)] out SavedRoutingTable? saved,
        [NotNullWhen(false)] out string? error)
    {
        saved = null;
        if (file.Length > MaxFileLength)
        {
            error = $"DHT state of {file.Length} bytes (at most {MaxFileLength})";
            return false;
        }
        var decoded = BencodeDecoder.Decode(file, Limits);
        if (!decoded.Success || decoded.Value is not BDictionary state)
        {
            error = decoded.Success ? "DHT state is not a dictionary" : $"DHT state is not bencode: {decoded.Error}";
            return false;
        }
        NodeId? ownId = state.GetString("id") is { } id && NodeId.TryRead(id.Span, out var parsed) ? parsed : null;
        var nodes = new List<DhtNode>();
        if (state.GetString("nodes") is { } v4)
        {
            nodes.AddRange(CompactNodeInfo.ParseIPv4(v4.Span, MaxNodes));
        }
        if (state.GetString("nodes6") is { } v6)
        {
            nodes.AddRange(CompactNodeInfo.ParseIPv6(v6.Span, MaxNodes - nodes.Count));
        }
        saved = new SavedRoutingTable(ownId, nodes);
        error = null;
        return true;
    }

    /// <summary>
    /// Puts saved nodes back as unconfirmed (to be pinged before they count as good); the caller makes the table,
    /// with the saved id or a fresh one. Returns how many were taken.
    /// </summary>
    public static int Restore(RoutingTable table, SavedRoutingTable saved, TimeSpan now) =>
        saved.Nodes.Count(node => table.AddUnconfirmed(node.Id, node.EndPoint, now).Update == RoutingUpdate.Added);
}
