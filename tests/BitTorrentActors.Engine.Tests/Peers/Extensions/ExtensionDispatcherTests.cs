using System.Net;
using BitTorrentActors.Engine.Peers.Extensions;
using BitTorrentActors.Protocol.Extensions;

namespace BitTorrentActors.Engine.Tests.Peers.Extensions;

public sealed class ExtensionDispatcherTests
{
    private static readonly byte[] Info = MakeInfo(40_000);

    private readonly List<(byte Id, byte[] Payload)> _sent = [];
    private long _unsent;

    [Fact]
    public void The_peers_handshake_is_kept_and_nothing_is_sent_before_it()
    {
        var dispatcher = Public();
        Assert.False(dispatcher.PeerTakesPex);
        Assert.Equal(ExtensionResult.Nothing, dispatcher.Handle(LocalExtensions.UtMetadataId, MetadataMessage.EncodeRequest(0), TimeSpan.Zero));
        Assert.Empty(_sent);

        var result = dispatcher.Handle(0, Handshake(metadata: 7, pex: 8, port: 5000, reqq: 250), TimeSpan.Zero);

        Assert.Null(result.Error);
        Assert.Same(dispatcher.Remote, result.Handshake);
        Assert.Equal(5000, dispatcher.Remote!.ListenPort);
        Assert.Equal(250, dispatcher.Remote.RequestQueueLength);
        Assert.Equal("peer 1.0", dispatcher.Remote.Client);
        Assert.Equal(31_000, dispatcher.Remote.MetadataSize);
        Assert.True(dispatcher.PeerTakesPex);
    }

    [Fact]
    public void Metadata_pieces_are_served_in_16_KiB_from_the_info_dictionary_on_the_peers_id()
    {
        var dispatcher = Public();
        dispatcher.Handle(0, Handshake(metadata: 7), TimeSpan.Zero);

        for (var piece = 0; piece < 3; piece++)
        {
            Assert.Equal(ExtensionResult.Nothing, dispatcher.Handle(LocalExtensions.UtMetadataId, MetadataMessage.EncodeRequest(piece), TimeSpan.Zero));
        }

        Assert.Equal(3, _sent.Count);
        Assert.All(_sent, s => Assert.Equal(7, s.Id));
        Assert.Equal(MetadataMessage.EncodeData(0, Info.Length, Info.AsSpan(0, 16384)), _sent[0].Payload);
        Assert.Equal(MetadataMessage.EncodeData(1, Info.Length, Info.AsSpan(16384, 16384)), _sent[1].Payload);
        Assert.Equal(MetadataMessage.EncodeData(2, Info.Length, Info.AsSpan(32768)), _sent[2].Payload);
    }

    [Fact]
    public void A_piece_out_of_range_or_a_peer_that_does_not_read_gets_a_reject()
    {
        var dispatcher = Public();
        dispatcher.Handle(0, Handshake(metadata: 7), TimeSpan.Zero);

        dispatcher.Handle(LocalExtensions.UtMetadataId, MetadataMessage.EncodeRequest(3), TimeSpan.Zero);
        _unsent = MetadataServer.MaxUnsentBytes + 1;
        dispatcher.Handle(LocalExtensions.UtMetadataId, MetadataMessage.EncodeRequest(0), TimeSpan.Zero);

        Assert.Equal([MetadataMessage.EncodeReject(3), MetadataMessage.EncodeReject(0)], _sent.Select(s => s.Payload));
    }

    [Fact]
    public void A_flood_of_metadata_requests_closes_the_peer_and_data_or_unknown_types_are_ignored()
    {
        var dispatcher = Public();
        dispatcher.Handle(0, Handshake(metadata: 7), TimeSpan.Zero);
        var server = new MetadataServer(Info);

        Assert.Equal(ExtensionResult.Nothing, dispatcher.Handle(LocalExtensions.UtMetadataId, MetadataMessage.EncodeData(0, 10, new byte[10]), TimeSpan.Zero));
        Assert.Equal(ExtensionResult.Nothing, dispatcher.Handle(LocalExtensions.UtMetadataId, "d8:msg_typei9e5:piecei0ee"u8.ToArray(), TimeSpan.Zero));
        Assert.Empty(_sent);
        string? error = null;
        for (var i = 0; i <= server.MaxRequests && error is null; i++)
        {
            error = dispatcher.Handle(LocalExtensions.UtMetadataId, MetadataMessage.EncodeRequest(0), TimeSpan.Zero).Error;
        }

        Assert.Equal($"more than {server.MaxRequests} ut_metadata requests for a 3-piece metadata", error);
        Assert.Equal(server.MaxRequests, _sent.Count);
    }

    [Fact]
    public void Unknown_ids_are_ignored_and_a_private_torrent_knows_neither_of_ours()
    {
        var dispatcher = new ExtensionDispatcher(isPrivate: true, Info, () => 0, (id, p) => _sent.Add((id, p)));
        dispatcher.Handle(0, Handshake(metadata: 7, pex: 8), TimeSpan.Zero);

        Assert.Equal(ExtensionResult.Nothing, dispatcher.Handle(LocalExtensions.UtMetadataId, MetadataMessage.EncodeRequest(0), TimeSpan.Zero));
        Assert.Equal(ExtensionResult.Nothing, dispatcher.Handle(LocalExtensions.UtPexId, Pex(1), TimeSpan.Zero));
        Assert.Equal(ExtensionResult.Nothing, dispatcher.Handle(200, [1, 2, 3], TimeSpan.Zero));
        Assert.False(dispatcher.PeerTakesPex);
        Assert.False(dispatcher.SendPex(new PexMessage([], [])));
        Assert.Empty(_sent);
        Assert.Equal(ExtensionResult.Nothing, Public().Handle(200, [1, 2, 3], TimeSpan.Zero));
    }

    [Fact]
    public void A_malformed_message_is_one_error_line()
    {
        Assert.StartsWith("extension handshake is not bencode", Public().Handle(0, "xyz"u8.ToArray(), TimeSpan.Zero).Error);
        Assert.Equal("ut_metadata message without msg_type or piece",
            Public().Handle(LocalExtensions.UtMetadataId, "de"u8.ToArray(), TimeSpan.Zero).Error);
        Assert.Equal("ut_pex message is not a dictionary", Public().Handle(LocalExtensions.UtPexId, "i1e"u8.ToArray(), TimeSpan.Zero).Error);
    }

    [Fact]
    public void Pex_is_sent_on_the_peers_id_only_when_it_listed_ut_pex()
    {
        var without = Public();
        without.Handle(0, Handshake(metadata: 7), TimeSpan.Zero);
        Assert.False(without.SendPex(new PexMessage([], [])));

        var with = Public();
        with.Handle(0, Handshake(metadata: 7, pex: 8), TimeSpan.Zero);
        var message = new PexMessage([new PexPeer(new IPEndPoint(IPAddress.Loopback, 1), PexFlags.Seed)], []);
        Assert.True(with.SendPex(message));

        Assert.Equal((byte)8, Assert.Single(_sent).Id);
        Assert.Equal(message.Encode(), _sent[0].Payload);
    }

    [Fact]
    public void Pex_takes_at_most_fifty_peers_and_six_messages_a_minute()
    {
        var pex = new PexExchange();
        var start = TimeSpan.FromSeconds(100);
        for (var i = 0; i < 6; i++)
        {
            Assert.True(pex.TryReceive(Pex(10_000), start + TimeSpan.FromSeconds(i), out var message, out _));
            Assert.Equal(PexMessage.MaxPeersPerMessage, message!.Added.Count);
            Assert.Equal(10_000, message.Offered);
        }

        Assert.False(pex.TryReceive(Pex(1), start + TimeSpan.FromSeconds(59), out _, out var error));
        Assert.Equal("more than 6 ut_pex messages within 60 s", error);
        // The refused message is not counted: a minute after the first of the six, the next one is within the rule.
        Assert.True(pex.TryReceive(Pex(1), start + TimeSpan.FromSeconds(60), out _, out _));
    }

    [Fact]
    public void Pex_messages_a_minute_apart_never_close_the_peer()
    {
        var pex = new PexExchange();
        for (var i = 0; i < 20; i++)
        {
            Assert.True(pex.TryReceive(Pex(1), TimeSpan.FromSeconds(60 * i), out _, out var error), error);
        }
    }

    private ExtensionDispatcher Public() => new(isPrivate: false, Info, () => _unsent, (id, p) => _sent.Add((id, p)));

    private static byte[] Handshake(byte metadata, byte pex = 0, int? port = null, int? reqq = null)
    {
        var m = new Dictionary<string, byte> { [LocalExtensions.UtMetadata] = metadata };
        if (pex != 0)
        {
            m[LocalExtensions.UtPex] = pex;
        }
        return new ExtensionHandshake { Extensions = m, ListenPort = port, RequestQueueLength = reqq, Client = "peer 1.0", MetadataSize = 31_000 }.Encode();
    }

    private static byte[] Pex(int count) => new PexMessage(
        [.. Enumerable.Range(1, count).Select(i => new PexPeer(new IPEndPoint(new IPAddress([127, 0, (byte)(i >> 8), (byte)i]), 6881), PexFlags.None))],
        []).Encode();

    private static byte[] MakeInfo(int length)
    {
        var info = new byte[length];
        new Random(3).NextBytes(info);
        return info;
    }
}
