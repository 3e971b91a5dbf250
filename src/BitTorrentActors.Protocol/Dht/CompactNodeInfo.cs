using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace BitTorrentActors.Protocol.Dht;

/// <summary>A DHT node as KRPC carries it: its id and the UDP endpoint it answers on.</summary>
public readonly record struct DhtNode(NodeId Id, IPEndPoint EndPoint);

/// <summary>
/// BEP 5 "compact node info": the 20-byte id, then the address in network order and a big-endian port, 26 bytes
/// per IPv4 node (<c>nodes</c>); BEP 32 uses 38 bytes per IPv6 node (<c>nodes6</c>). Parsing never throws:
/// a trailing partial entry is ignored (as libtorrent reads it), and so is an entry with port 0, which cannot be
/// sent anything.
/// </summary>
public static class CompactNodeInfo
{
    public const int IPv4EntryLength = NodeId.Length + 6;
    public const int IPv6EntryLength = NodeId.Length + 18;

    public static IReadOnlyList<DhtNode> ParseIPv4(ReadOnlySpan<byte> data, int maxNodes = int.MaxValue) =>
        Parse(data, 4, maxNodes);

    public static IReadOnlyList<DhtNode> ParseIPv6(ReadOnlySpan<byte> data, int maxNodes = int.MaxValue) =>
        Parse(data, 16, maxNodes);

    /// <summary>The IPv4 nodes, 26 bytes each; an IPv4-mapped IPv6 address is written as IPv4, other IPv6 ones are skipped.</summary>
    public static byte[] EncodeIPv4(IEnumerable<DhtNode> nodes) => Encode(nodes, v4: true);

    /// <summary>The IPv6 nodes, 38 bytes each; IPv4 (and IPv4-mapped) ones are skipped.</summary>
    public static byte[] EncodeIPv6(IEnumerable<DhtNode> nodes) => Encode(nodes, v4: false);

    public static bool IsIPv4(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetwork || endPoint.Address.IsIPv4MappedToIPv6;

    /// <summary>The endpoint with an IPv4-mapped IPv6 address turned into plain IPv4, so one node has one key.</summary>
    public static IPEndPoint Normalise(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

    private static byte[] Encode(IEnumerable<DhtNode> nodes, bool v4)
    {
        var chosen = nodes.Where(n => IsIPv4(n.EndPoint) == v4).ToList();
        var entryLength = v4 ? IPv4EntryLength : IPv6EntryLength;
        var bytes = new byte[chosen.Count * entryLength];
        for (var i = 0; i < chosen.Count; i++)
        {
            var entry = bytes.AsSpan(i * entryLength, entryLength);
            var node = chosen[i];
            node.Id.CopyTo(entry);
            var address = v4 ? Normalise(node.EndPoint).Address : node.EndPoint.Address;
            address.TryWriteBytes(entry[NodeId.Length..], out var written);
            BinaryPrimitives.WriteUInt16BigEndian(entry[(NodeId.Length + written)..], (ushort)node.EndPoint.Port);
        }
        return bytes;
    }

    private static List<DhtNode> Parse(ReadOnlySpan<byte> data, int addressLength, int maxNodes)
    {
        var entryLength = NodeId.Length + addressLength + 2;
        var nodes = new List<DhtNode>(Math.Min(data.Length / entryLength, Math.Max(0, maxNodes)));
        for (var offset = 0; offset + entryLength <= data.Length && nodes.Count < maxNodes; offset += entryLength)
        {
            var entry = data.Slice(offset, entryLength);
            var port = BinaryPrimitives.ReadUInt16BigEndian(entry[(NodeId.Length + addressLength)..]);
            if (port == 0)
            {
                continue;
            }
            var address = new IPAddress(entry.Slice(NodeId.Length, addressLength));
            nodes.Add(new DhtNode(new NodeId(entry[..NodeId.Length]), new IPEndPoint(address, port)));
        }
        return nodes;
    }
}
