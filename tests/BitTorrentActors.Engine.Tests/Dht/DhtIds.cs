using System.Net;
using BitTorrentActors.Protocol.Dht;

namespace BitTorrentActors.Engine.Tests.Dht;

/// <summary>Ids and endpoints placed where a test needs them relative to an own id.</summary>
internal static class DhtIds
{
    public static readonly NodeId Own = Hex("5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a");

    public static NodeId Hex(string hex) => NodeId.TryParseHex(hex, out var id) ? id : throw new FormatException(hex);

    /// <summary>The <paramref name="n"/>th id sharing exactly <paramref name="prefix"/> leading bits with <paramref name="of"/> (prefix below 140).</summary>
    public static NodeId At(int prefix, int n, NodeId? of = null)
    {
        var bytes = new byte[NodeId.Length];
        bytes[17] = (byte)(n >> 16);
        bytes[18] = (byte)(n >> 8);
        bytes[19] = (byte)n;
        return (of ?? Own).FlipBit(prefix) ^ new NodeId(bytes);
    }

    /// <summary>A distinct loopback endpoint per <paramref name="n"/>.</summary>
    public static IPEndPoint EndPoint(int n) => new(new IPAddress([127, (byte)(n >> 16), (byte)(n >> 8), (byte)n]), 6881);

    public static TimeSpan Minutes(double m) => TimeSpan.FromMinutes(m);
}
