using System.Net;
using BitTorrentActors.Protocol.Dht;

namespace BitTorrentActors.Protocol.Tests.Dht;

public class CompactNodeInfoTests
{
    private static readonly NodeId One = new(Enumerable.Repeat((byte)1, 20).ToArray());

    [Fact]
    public void An_IPv4_node_is_26_bytes_id_address_port()
    {
        var bytes = CompactNodeInfo.EncodeIPv4([new DhtNode(One, IPEndPoint.Parse("[::ffff:127.0.0.1]:6881"))]);

        Assert.Equal([.. Enumerable.Repeat((byte)1, 20), 127, 0, 0, 1, 0x1a, 0xe1], bytes);
        Assert.Equal([new DhtNode(One, IPEndPoint.Parse("127.0.0.1:6881"))], CompactNodeInfo.ParseIPv4(bytes));
    }

    [Fact]
    public void An_IPv6_node_is_38_bytes_and_each_family_keeps_to_its_own_list()
    {
        var nodes = new[] { new DhtNode(One, IPEndPoint.Parse("[2001:db8::2]:1")), new DhtNode(One, IPEndPoint.Parse("1.2.3.4:2")) };

        var v6 = CompactNodeInfo.EncodeIPv6(nodes);
        var v4 = CompactNodeInfo.EncodeIPv4(nodes);

        Assert.Equal(38, v6.Length);
        Assert.Equal(26, v4.Length);
        Assert.Equal([nodes[0]], CompactNodeInfo.ParseIPv6(v6));
        Assert.Equal([nodes[1]], CompactNodeInfo.ParseIPv4(v4));
    }

    [Fact]
    public void A_partial_entry_and_port_0_are_ignored_and_the_count_is_bounded()
    {
        var good = new DhtNode(One, IPEndPoint.Parse("1.2.3.4:2"));
        var zero = new DhtNode(One, new IPEndPoint(IPAddress.Parse("1.2.3.5"), 0));
        var bytes = CompactNodeInfo.EncodeIPv4([zero, good, good, good]).Concat(new byte[25]).ToArray();

        Assert.Equal([good, good, good], CompactNodeInfo.ParseIPv4(bytes));
        Assert.Equal([good, good], CompactNodeInfo.ParseIPv4(bytes, maxNodes: 2));
        Assert.Empty(CompactNodeInfo.ParseIPv4(new byte[25]));
    }
}
