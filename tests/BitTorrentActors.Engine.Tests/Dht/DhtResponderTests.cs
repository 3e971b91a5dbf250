using System.Net;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Protocol.Dht;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Engine.Tests.Dht.DhtIds;

namespace BitTorrentActors.Engine.Tests.Dht;

public class DhtResponderTests
{
    private static readonly TimeSpan T0 = TimeSpan.FromHours(7);
    private static readonly byte[] Tid = [1, 2];
    private static readonly IPEndPoint Querier = IPEndPoint.Parse("127.0.0.50:7000");
    private static readonly InfoHash Hash = new(At(2, 77).ToArray());

    private sealed class Node
    {
        public Node()
        {
            Table = new RoutingTable(Own, T0);
            Tokens = new TokenSecrets(T0);
            Peers = new PeerStore();
            Responder = new DhtResponder(Own, Table, Tokens, Peers, new Random(1));
        }

        public RoutingTable Table { get; }
        public TokenSecrets Tokens { get; }
        public PeerStore Peers { get; }
        public DhtResponder Responder { get; }

        /// <summary>Answers and puts the answer through the codec, as it would go on the wire.</summary>
        public T Ask<T>(KrpcQuery query, IPEndPoint? from = null, TimeSpan? now = null) where T : KrpcMessage
        {
            var answer = Responder.Answer(query, from ?? Querier, now ?? T0);
            var bytes = KrpcCodec.Encode(answer);
            Assert.True(bytes.Length <= KrpcCodec.MaxDatagramLength, $"{bytes.Length} bytes");
            Assert.True(KrpcCodec.TryDecode(bytes, out var decoded, out var error), error?.Reason);
            Assert.Equal(Tid, decoded.TransactionId.ToArray());
            Assert.Equal(from ?? Querier, decoded.ExternalAddress);
            return Assert.IsType<T>(decoded);
        }
    }

    [Fact]
    public void Ping_answers_our_id_and_notes_the_querier()
    {
        var node = new Node();

        Assert.Equal(Own, node.Ask<KrpcResponse>(new PingQuery(Tid, At(0, 1)), Querier).Sender);
        Assert.Equal(NodeStatus.Questionable, node.Table.StatusOf(Querier, T0));

        // A read-only node (BEP 43) is answered but kept out of the table.
        node.Ask<KrpcResponse>(new PingQuery(Tid, At(0, 2)) { ReadOnlyNode = true }, EndPoint(2));
        Assert.Null(node.Table.StatusOf(EndPoint(2), T0));
    }

    [Fact]
    public void Find_node_gives_the_8_closest_nodes_that_answered_us_in_the_querier_family()
    {
        var node = new Node();
        for (var n = 1; n <= 20; n++)
        {
            node.Table.Responded(At(n % 6, n), EndPoint(n), T0);
        }
        node.Table.AddUnconfirmed(At(5, 99), EndPoint(99), T0);
        node.Table.Responded(At(4, 98), IPEndPoint.Parse("[2001:db8::98]:6881"), T0);
        var target = At(5, 0);

        var answer = node.Ask<KrpcResponse>(new FindNodeQuery(Tid, At(0, 50), target));

        var expected = node.Table.Closest(target, 50, T0, confirmedOnly: true).Where(n => n.EndPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork).Take(8);
        Assert.Equal(expected, answer.Nodes);
        Assert.DoesNotContain(answer.Nodes, n => n.EndPoint.Equals(EndPoint(99)));
        Assert.Empty(answer.Nodes6);

        var both = node.Ask<KrpcResponse>(new FindNodeQuery(Tid, At(0, 50), target) { Want = KrpcWant.IPv4 | KrpcWant.IPv6 });
        Assert.Equal(8, both.Nodes.Count);
        Assert.Equal([IPEndPoint.Parse("[2001:db8::98]:6881")], both.Nodes6.Select(n => n.EndPoint));
    }

    [Fact]
    public void Get_peers_then_announce_with_the_token_stores_the_peer_and_a_wrong_or_stale_token_gets_203()
    {
        var node = new Node();

        var first = node.Ask<KrpcResponse>(new GetPeersQuery(Tid, At(0, 1), Hash));
        Assert.Empty(first.Values);
        var token = first.Token!.Value.ToArray();

        var wrong = node.Ask<KrpcError>(new AnnouncePeerQuery(Tid, At(0, 1), Hash, 6881, false, "bad"u8.ToArray()));
        Assert.Equal((int)KrpcErrorCode.Protocol, wrong.Code);
        var elsewhere = node.Ask<KrpcError>(new AnnouncePeerQuery(Tid, At(0, 1), Hash, 6881, false, token), EndPoint(9));
        Assert.Equal(203, elsewhere.Code);
        Assert.Equal(0, node.Peers.PeerCount);

        node.Ask<KrpcResponse>(new AnnouncePeerQuery(Tid, At(0, 1), Hash, 6881, false, token), now: T0 + Minutes(9));
        node.Ask<KrpcResponse>(new AnnouncePeerQuery(Tid, At(0, 1), Hash, 1, ImpliedPort: true, token), now: T0 + Minutes(9));
        var stale = node.Ask<KrpcError>(new AnnouncePeerQuery(Tid, At(0, 1), Hash, 6882, false, token), now: T0 + Minutes(10));
        Assert.Equal(203, stale.Code);

        var second = node.Ask<KrpcResponse>(new GetPeersQuery(Tid, At(0, 2), Hash), EndPoint(3), T0 + Minutes(10));
        Assert.Equal(
            new[] { new IPEndPoint(Querier.Address, 6881), Querier }.OrderBy(e => e.Port),
            second.Values.OrderBy(e => e.Port));
    }

    [Fact]
    public void A_full_get_peers_answer_fits_in_one_datagram_for_both_families()
    {
        var node = new Node();
        for (var n = 1; n <= 300; n++)
        {
            node.Table.Responded(At(n % 8, n), EndPoint(n), T0);
            node.Table.Responded(At(n % 8, 1000 + n), new IPEndPoint(IPAddress.Parse($"2001:db8::{n:x}"), 6881), T0);
            node.Peers.Announce(Hash, EndPoint(n), T0);
            node.Peers.Announce(Hash, new IPEndPoint(IPAddress.Parse($"2001:db8:1::{n:x}"), 6881), T0);
        }

        // Ask checks the encoded size against the 1,500-byte limit.
        var v4 = node.Ask<KrpcResponse>(new GetPeersQuery(Tid, At(0, 1), Hash) { Want = KrpcWant.IPv4 | KrpcWant.IPv6 });
        var v6Querier = IPEndPoint.Parse("[2001:db8:2::1]:7000");
        var v6 = node.Ask<KrpcResponse>(new GetPeersQuery(Tid, At(0, 1), Hash) { Want = KrpcWant.IPv4 | KrpcWant.IPv6 }, v6Querier);

        Assert.Equal(DhtResponder.MaxPeersReply, v4.Values.Count);
        Assert.Equal(DhtResponder.MaxPeersReplyIPv6, v6.Values.Count);
        Assert.All(v6.Values, p => Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, p.AddressFamily));
    }

    [Fact]
    public void Unknown_methods_get_204_or_a_find_node_answer_and_unreadable_queries_203()
    {
        var node = new Node();
        node.Table.Responded(At(1, 1), EndPoint(1), T0);

        var unknown = node.Ask<KrpcError>(new UnknownQuery(Tid, At(0, 1), "vote", null));
        Assert.Equal(204, unknown.Code);
        var withTarget = node.Ask<KrpcResponse>(new UnknownQuery(Tid, At(0, 1), "sample_infohashes", At(1, 0)));
        Assert.Equal([EndPoint(1)], withTarget.Nodes.Select(n => n.EndPoint));

        Assert.False(KrpcCodec.TryDecode("d1:ad2:id3:abce1:q4:ping1:t2:\u0001\u00021:y1:qe"u8.ToArray(), out _, out var error));
        var reply = DhtResponder.ErrorFor(error, Querier);
        Assert.Equal(203, reply!.Code);
        Assert.Equal(Tid, reply.TransactionId.ToArray());
        Assert.False(KrpcCodec.TryDecode("garbage"u8.ToArray(), out _, out var garbage));
        Assert.Null(DhtResponder.ErrorFor(garbage, Querier));
    }
}
