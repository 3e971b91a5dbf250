using System.Net;
using System.Text;
using BitTorrentActors.Protocol.Dht;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Tests.Dht;

/// <summary>The encodings are BEP 5's own examples, byte for byte.</summary>
public class KrpcCodecTests
{
    private static readonly byte[] Aa = "aa"u8.ToArray();
    private static readonly NodeId Abc = Id("abcdefghij0123456789");
    private static readonly NodeId Mno = Id("mnopqrstuvwxyz123456");

    private static NodeId Id(string twentyChars) => new(Encoding.Latin1.GetBytes(twentyChars));

    private static byte[] Bytes(string latin1) => Encoding.Latin1.GetBytes(latin1);

    private static string Text(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    private static T Decode<T>(string latin1) where T : KrpcMessage
    {
        Assert.True(KrpcCodec.TryDecode(Bytes(latin1), out var message, out var error), error?.Reason);
        return Assert.IsType<T>(message);
    }

    private static KrpcDecodeError Refused(byte[] datagram)
    {
        Assert.False(KrpcCodec.TryDecode(datagram, out var message, out var error));
        Assert.Null(message);
        return error;
    }

    private const string PingQueryText = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
    private const string PingResponseText = "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
    private const string ErrorText = "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee";
    private const string FindNodeText = "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe";
    private const string GetPeersText = "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe";
    private const string GetPeersValuesText = "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re";
    private const string AnnounceText = "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe";

    [Fact]
    public void Ping_query_and_response_are_the_BEPs_bytes()
    {
        Assert.Equal(PingQueryText, Text(KrpcCodec.Encode(new PingQuery(Aa, Abc))));
        Assert.Equal(PingResponseText, Text(KrpcCodec.Encode(new KrpcResponse(Aa, Mno))));

        var query = Decode<PingQuery>(PingQueryText);
        Assert.Equal(Aa, query.TransactionId.ToArray());
        Assert.Equal(Abc, query.Sender);
        var response = Decode<KrpcResponse>(PingResponseText);
        Assert.Equal(Mno, response.Sender);
        Assert.Empty(response.Nodes);
        Assert.Null(response.Token);
    }

    [Fact]
    public void Error_is_the_BEPs_bytes()
    {
        Assert.Equal(ErrorText, Text(KrpcCodec.Encode(new KrpcError(Aa, KrpcErrorCode.Generic, "A Generic Error Ocurred"))));

        var error = Decode<KrpcError>(ErrorText);
        Assert.Equal(201, error.Code);
        Assert.Equal("A Generic Error Ocurred", error.Message);
    }

    [Fact]
    public void Find_node_query_and_a_response_with_nodes()
    {
        Assert.Equal(FindNodeText, Text(KrpcCodec.Encode(new FindNodeQuery(Aa, Abc, Mno))));
        Assert.Equal(Mno, Decode<FindNodeQuery>(FindNodeText).Target);

        var nodes = new[]
        {
            new DhtNode(Mno, IPEndPoint.Parse("127.0.0.1:6881")),
            new DhtNode(Abc, IPEndPoint.Parse("127.0.0.2:80")),
        };
        var encoded = KrpcCodec.Encode(new KrpcResponse(Aa, Id("0123456789abcdefghij")) { Nodes = nodes });

        Assert.Equal(
            "d1:rd2:id20:0123456789abcdefghij5:nodes52:mnopqrstuvwxyz123456\u007f\0\0\u0001\u001a\u00e1abcdefghij0123456789\u007f\0\0\u0002\0\u0050e1:t2:aa1:y1:re",
            Text(encoded));
        Assert.Equal(nodes, Decode<KrpcResponse>(Text(encoded)).Nodes);
    }

    [Fact]
    public void Get_peers_query_and_the_response_with_values()
    {
        var hash = new InfoHash(Mno.ToArray());
        Assert.Equal(GetPeersText, Text(KrpcCodec.Encode(new GetPeersQuery(Aa, Abc, hash))));
        Assert.Equal(hash, Decode<GetPeersQuery>(GetPeersText).InfoHash);

        var values = new[] { new IPEndPoint(new IPAddress(Bytes("axje")), 0x2e75), new IPEndPoint(new IPAddress(Bytes("idht")), 0x6e6d) };
        var response = new KrpcResponse(Aa, Abc) { Token = "aoeusnth"u8.ToArray(), Values = values };
        Assert.Equal(GetPeersValuesText, Text(KrpcCodec.Encode(response)));

        var decoded = Decode<KrpcResponse>(GetPeersValuesText);
        Assert.Equal(values, decoded.Values);
        Assert.Equal("aoeusnth"u8.ToArray(), decoded.Token!.Value.ToArray());
    }

    [Fact]
    public void Announce_peer_with_implied_port()
    {
        var query = new AnnouncePeerQuery(Aa, Abc, new InfoHash(Mno.ToArray()), 6881, ImpliedPort: true, "aoeusnth"u8.ToArray());
        Assert.Equal(AnnounceText, Text(KrpcCodec.Encode(query)));

        var decoded = Decode<AnnouncePeerQuery>(AnnounceText);
        Assert.True(decoded.ImpliedPort);
        Assert.Equal(6881, decoded.Port);
        Assert.Equal("aoeusnth"u8.ToArray(), decoded.Token.ToArray());
        Assert.Equal(51413, decoded.EffectivePort(IPEndPoint.Parse("127.0.0.5:51413")));
        Assert.Equal(6881, (decoded with { ImpliedPort = false }).EffectivePort(IPEndPoint.Parse("127.0.0.5:51413")));
    }

    [Theory]
    [InlineData("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234565:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", "no 'port'")]
    [InlineData("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", "port 0")]
    [InlineData("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti65536e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", "port 65536")]
    [InlineData("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti1ee1:q13:announce_peer1:t2:aa1:y1:qe", "no 'token'")]
    [InlineData("d1:ad2:id20:abcdefghij01234567894:porti1e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", "no 20-byte 'info_hash'")]
    [InlineData("d1:ad2:id20:abcdefghij01234567896:target19:mnopqrstuvwxyz12345e1:q9:find_node1:t2:aa1:y1:qe", "no 20-byte 'target'")]
    [InlineData("d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe", "no 20-byte 'id'")]
    [InlineData("d1:q4:ping1:t2:aa1:y1:qe", "no arguments")]
    [InlineData("d1:ad2:id20:abcdefghij0123456789e1:t2:aa1:y1:qe", "no method")]
    public void A_malformed_query_is_refused_with_its_transaction_id_for_a_203(string text, string reason)
    {
        var error = Refused(Bytes(text));

        Assert.Contains(reason, error.Reason);
        Assert.Equal(Aa, error.QueryTransactionId!.Value.ToArray());
    }

    [Fact]
    public void Announce_with_implied_port_needs_no_valid_port()
    {
        var decoded = Decode<AnnouncePeerQuery>(
            "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234565:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe");

        Assert.True(decoded.ImpliedPort);
        Assert.Equal(0, decoded.Port);
    }

    [Fact]
    public void An_unknown_method_decodes_for_a_204_and_keeps_a_target_for_find_node_answers()
    {
        var unknown = Decode<UnknownQuery>("d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q6:vote\u001b[1:t2:aa1:y1:qe");

        Assert.Equal(Mno, unknown.Target);
        Assert.Equal("vote\\x1B[", unknown.MethodName);
        Assert.Null(Decode<UnknownQuery>("d1:ad2:id20:abcdefghij0123456789e1:q3:put1:t2:aa1:y1:qe").Target);
    }

    [Theory]
    [InlineData("le", "not a dictionary")]
    [InlineData("d1:y1:qe", "no transaction id")]
    [InlineData("d1:t2:aae", "no type")]
    [InlineData("d1:t2:aa1:y1:xe", "unknown message type 'x'")]
    [InlineData("d1:t2:aa1:y1:re", "no body 'r'")]
    [InlineData("d1:rd2:id3:abce1:t2:aa1:y1:re", "no 20-byte 'id'")]
    [InlineData("d1:e3:abc1:t2:aa1:y1:ee", "no [code, message]")]
    [InlineData("d1:eli2e1:t2:aa1:y1:ee", "not bencode")]
    [InlineData("d1:t2:aa1:y1:re trailing", "not bencode")]
    public void A_broken_answer_or_garbage_is_dropped_with_one_reason(string text, string reason)
    {
        var error = Refused(Bytes(text));

        Assert.Contains(reason, error.Reason);
        Assert.Null(error.QueryTransactionId);
    }

    [Fact]
    public void Datagrams_over_1500_bytes_and_deep_nesting_are_refused()
    {
        var big = Bytes("d1:t2:aa1:y1:r1:rd2:id20:abcdefghij01234567891:x" + new string('x', 1500).Length + ":" + new string('x', 1500) + "ee");
        Assert.Contains("at most 1500", Refused(big).Reason);

        var deep = Bytes("d1:t2:aa1:y1:r1:rd2:id20:abcdefghij01234567891:x" + new string('l', 12) + new string('e', 12) + "ee");
        Assert.Contains("deeper than 10", Refused(deep).Reason);

        var many = Bytes("d1:t2:aa1:y1:r1:rd2:id20:abcdefghij01234567891:xl" + string.Concat(Enumerable.Repeat("0:", 520)) + "eee");
        Assert.True(many.Length <= KrpcCodec.MaxDatagramLength);
        Assert.Contains("more than 500 tokens", Refused(many).Reason);
    }

    [Fact]
    public void Version_external_ip_and_read_only_round_trip()
    {
        var query = new PingQuery(new byte[] { 0, 1 }, Abc) { ClientVersion = "LT\u0002\0"u8.ToArray(), ReadOnlyNode = true };
        var encoded = KrpcCodec.Encode(query);
        Assert.Equal("d1:ad2:id20:abcdefghij0123456789e1:q4:ping2:roi1e1:t2:\0\u00011:v4:LT\u0002\01:y1:qe", Text(encoded));
        var decoded = Decode<PingQuery>(Text(encoded));
        Assert.True(decoded.ReadOnlyNode);
        Assert.Equal("LT\u0002\0"u8.ToArray(), decoded.ClientVersion!.Value.ToArray());

        var answer = new KrpcResponse(Aa, Mno) { ExternalAddress = IPEndPoint.Parse("[::ffff:1.2.3.4]:258") };
        var answered = KrpcCodec.Encode(answer);
        Assert.Equal("d2:ip6:\u0001\u0002\u0003\u0004\u0001\u00021:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re", Text(answered));
        Assert.Equal(IPEndPoint.Parse("1.2.3.4:258"), Decode<KrpcResponse>(Text(answered)).ExternalAddress);
        // An 'ip' of another length is ignored, not a reason to drop the answer.
        Assert.Null(Decode<KrpcResponse>("d2:ip3:abc1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re").ExternalAddress);
    }

    [Fact]
    public void Want_and_nodes6_for_BEP_32()
    {
        var query = new FindNodeQuery(Aa, Abc, Mno) { Want = KrpcWant.IPv4 | KrpcWant.IPv6 };
        var encoded = Text(KrpcCodec.Encode(query));
        Assert.Contains("4:wantl2:n42:n6e", encoded);
        Assert.Equal(KrpcWant.IPv4 | KrpcWant.IPv6, Decode<FindNodeQuery>(encoded).Want);

        var v6 = new DhtNode(Abc, IPEndPoint.Parse("[2001:db8::1]:6881"));
        var response = new KrpcResponse(Aa, Mno) { Nodes = [new DhtNode(Mno, IPEndPoint.Parse("1.2.3.4:5"))], Nodes6 = [v6] };
        var decoded = Decode<KrpcResponse>(Text(KrpcCodec.Encode(response)));
        Assert.Equal([v6], decoded.Nodes6);
        Assert.Single(decoded.Nodes);
        Assert.Contains("6:nodes638:", Text(KrpcCodec.Encode(response)));
    }

    [Fact]
    public void Values_of_the_wrong_length_or_port_0_are_skipped_and_a_flood_is_cut()
    {
        var decoded = Decode<KrpcResponse>("d1:rd2:id20:abcdefghij01234567896:valuesl6:axje.u5:short6:zero\0\0i7e6:idhtnmee1:t2:aa1:y1:re");

        Assert.Equal([new IPEndPoint(new IPAddress(Bytes("axje")), 0x2e75), new IPEndPoint(new IPAddress(Bytes("idht")), 0x6e6d)], decoded.Values);
        Assert.True(KrpcCodec.MaxValues >= 100);
    }

    [Fact]
    public void Transaction_ids_are_opaque_bytes_of_any_length()
    {
        var tid = new byte[] { 0xff, 0x00, 0x80 };

        var decoded = Decode<KrpcResponse>(Text(KrpcCodec.Encode(new KrpcResponse(tid, Mno))));

        Assert.Equal(tid, decoded.TransactionId.ToArray());
    }

    [Fact]
    public void The_demultiplexer_test_matches_libtorrents()
    {
        Assert.True(KrpcCodec.LooksLikeKrpc(Bytes(PingResponseText)));
        Assert.False(KrpcCodec.LooksLikeKrpc(Bytes("d1:t2:aa1:y1:qe")));
        // A UDP tracker answer starts with a big-endian action (0..3), never 'd'.
        Assert.False(KrpcCodec.LooksLikeKrpc([0, 0, 0, 1, .. new byte[20], (byte)'e']));
        Assert.False(KrpcCodec.LooksLikeKrpc(Bytes(PingResponseText + "x")));
    }

    [Fact]
    public void Random_and_mutated_datagrams_never_throw()
    {
        var random = new Random(12);
        var seeds = new[] { PingQueryText, FindNodeText, GetPeersValuesText, AnnounceText, ErrorText }.Select(Bytes).ToArray();
        for (var i = 0; i < 20_000; i++)
        {
            var datagram = (byte[])seeds[i % seeds.Length].Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                datagram[random.Next(datagram.Length)] = (byte)random.Next(256);
            }
            var cut = datagram.AsMemory(0, random.Next(datagram.Length + 1));
            KrpcCodec.TryDecode(i % 2 == 0 ? datagram : cut, out var message, out var error);
            Assert.True(message is null != (error is null));
        }
    }
}
