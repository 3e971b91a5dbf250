using System.Buffers;
using System.Net;
using Akka.Actor;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Peers.Extensions;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Extensions;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Peers;

/// <summary>BEP 10 in the PeerActor, played byte for byte by a scripted peer over in-memory pipes: our extension
/// handshake, ut_metadata served from the metainfo, ut_pex both ways, and what closes a peer.</summary>
public sealed class PeerActorExtensionTests(ITestOutputHelper output) : PeerActorTestBase(output)
{
    // The ids the scripted peer asks us to use: deliberately not ours (1, 2), so a reply on the wrong id shows.
    private const byte PeerMetadataId = 3;
    private const byte PeerPexId = 5;

    [Fact]
    public async Task To_a_peer_with_the_extension_bit_our_extension_handshake_follows_the_handshake()
    {
        var probes = NewProbes();
        var (_, peer) = await StartExtendedAsync(probes, PeerTestContext.Create() with { ListenPort = 6881 });

        var (id, payload) = await peer.ReadExtendedAsync();

        Assert.Equal(0, id);
        Assert.True(ExtensionHandshake.TryParse(new ReadOnlySequence<byte>(payload), out var ours, out var error), error);
        Assert.Equal(LocalExtensions.UtMetadataId, ours.IdOf(LocalExtensions.UtMetadata));
        Assert.Equal(LocalExtensions.UtPexId, ours.IdOf(LocalExtensions.UtPex));
        Assert.Equal(Context.Metainfo.RawInfo.Length, ours.MetadataSize);
        Assert.Equal(6881, ours.ListenPort);
        Assert.Equal(Context.Settings.Upload.MaxRequestsPerPeer, ours.RequestQueueLength);
        Assert.Equal(Remote.Address, ours.YourIp);
        Assert.Equal(LocalExtensions.ClientName, ours.Client);
    }

    [Fact]
    public async Task Without_the_extension_bit_an_extended_message_closes_the_peer()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartActiveAsync(probes);

        await peer.SendExtendedAsync(0, PeerHandshake());

        var misbehaved = await FishAsync<PeerActor.Misbehaved>(probes.Coordinator);
        Assert.Contains("without the extension bit", misbehaved.Reason);
        await ExpectTerminatedAsync(actor);
    }

    [Fact]
    public async Task The_peers_extension_handshake_reaches_the_coordinator_with_its_listen_port()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartExtendedAsync(probes);

        await peer.SendExtendedAsync(0, PeerHandshake(listenPort: 7000));

        var agreed = await FishAsync<PeerActor.ExtensionsAgreed>(probes.Coordinator);
        Assert.Equal(actor, agreed.Peer);
        Assert.Equal(7000, agreed.ListenPort);
        Assert.True(agreed.TakesPex);
    }

    [Fact]
    public async Task The_peers_reqq_caps_how_many_blocks_we_ask_for()
    {
        var probes = NewProbes();
        var (_, peer) = await StartExtendedAsync(probes);
        Assert.True(Context.Settings.RequestPipeline.Initial > 2, "the test needs a default pipeline deeper than 2");

        await peer.SendExtendedAsync(0, PeerHandshake(reqq: 2));
        await FishAsync<PeerActor.ExtensionsAgreed>(probes.Coordinator);
        await peer.SendRawAsync(Frames.Unchoke);

        var ask = await FishAsync<PieceSchedulerActor.RequestBlocks>(probes.Scheduler);
        Assert.Equal(2, ask.Count);
    }

    [Fact]
    public async Task A_metadata_request_gets_the_info_dictionary_and_an_out_of_range_piece_a_reject()
    {
        var probes = NewProbes();
        var (_, peer) = await StartExtendedAsync(probes);
        await peer.ReadExtendedAsync();
        await peer.SendExtendedAsync(0, PeerHandshake());

        await peer.SendExtendedAsync(LocalExtensions.UtMetadataId, MetadataMessage.EncodeRequest(0));
        var (dataId, data) = await peer.ReadExtendedAsync();
        await peer.SendExtendedAsync(LocalExtensions.UtMetadataId, MetadataMessage.EncodeRequest(1));
        var (rejectId, reject) = await peer.ReadExtendedAsync();

        var info = Context.Metainfo.RawInfo.ToArray();
        Assert.True(info.Length < MetadataMessage.PieceSize, "the test torrent's metadata is one piece");
        Assert.Equal(PeerMetadataId, dataId);
        Assert.Equal(MetadataMessage.EncodeData(0, info.Length, info), data);
        Assert.Equal(PeerMetadataId, rejectId);
        Assert.Equal(MetadataMessage.EncodeReject(1), reject);
    }

    [Theory]
    [InlineData(0, "not bencode", "extension handshake is not bencode")]
    [InlineData(LocalExtensions.UtMetadataId, "i42e", "ut_metadata message is not a dictionary")]
    [InlineData(LocalExtensions.UtPexId, "le", "ut_pex message is not a dictionary")]
    public async Task A_malformed_extended_message_closes_that_peer_with_one_line(byte id, string payload, string reason)
    {
        var probes = NewProbes();
        var (actor, peer) = await StartExtendedAsync(probes);
        if (id != 0)
        {
            await peer.SendExtendedAsync(0, PeerHandshake());
        }

        await peer.SendExtendedAsync(id, System.Text.Encoding.ASCII.GetBytes(payload));

        var misbehaved = await FishAsync<PeerActor.Misbehaved>(probes.Coordinator);
        Assert.Equal(Remote, misbehaved.EndPoint);
        Assert.Contains(reason, misbehaved.Reason);
        Assert.DoesNotContain('\n', misbehaved.Reason);
        await ExpectTerminatedAsync(actor);
    }

    [Fact]
    public async Task An_unknown_extended_id_is_ignored()
    {
        var probes = NewProbes();
        var (_, peer) = await StartExtendedAsync(probes);
        await peer.ReadExtendedAsync();
        await peer.SendExtendedAsync(0, PeerHandshake());

        await peer.SendExtendedAsync(77, [0xFF, 0x00, 0x13]);
        await peer.SendExtendedAsync(LocalExtensions.UtMetadataId, MetadataMessage.EncodeRequest(0));

        // Still connected and answering after the unknown message.
        Assert.Equal(PeerMetadataId, (await peer.ReadExtendedAsync()).Id);
    }

    [Fact]
    public async Task Pex_peers_go_to_the_coordinator_and_a_seventh_message_within_a_minute_closes_the_peer()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartExtendedAsync(probes);
        await peer.SendExtendedAsync(0, PeerHandshake());

        for (var i = 1; i <= 6; i++)
        {
            await peer.SendExtendedAsync(LocalExtensions.UtPexId, Pex(Address(i)));
            var discovered = await FishAsync<TorrentCoordinator.PeersDiscovered>(probes.Coordinator);
            Assert.Equal(PeerSource.Pex, discovered.Source);
            Assert.Equal(Context.InfoHash, discovered.InfoHash);
            Assert.Equal([Address(i)], discovered.Peers);
        }

        await peer.SendExtendedAsync(LocalExtensions.UtPexId, Pex(Address(7)));

        var misbehaved = await FishAsync<PeerActor.Misbehaved>(probes.Coordinator);
        Assert.Contains("more than 6 ut_pex messages within 60 s", misbehaved.Reason);
        await ExpectTerminatedAsync(actor);
    }

    [Fact]
    public async Task A_pex_message_of_ten_thousand_addresses_gives_the_coordinator_fifty()
    {
        var probes = NewProbes();
        var (_, peer) = await StartExtendedAsync(probes);
        await peer.SendExtendedAsync(0, PeerHandshake());

        await peer.SendExtendedAsync(LocalExtensions.UtPexId, Pex([.. Enumerable.Range(1, 10_000).Select(Address)]));

        var discovered = await FishAsync<TorrentCoordinator.PeersDiscovered>(probes.Coordinator);
        Assert.Equal(PexMessage.MaxPeersPerMessage, discovered.Peers.Count);
        Assert.Equal(Enumerable.Range(1, 50).Select(Address), discovered.Peers);
    }

    [Fact]
    public async Task A_pex_message_over_500_KiB_closes_the_peer()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartExtendedAsync(probes);
        await peer.SendExtendedAsync(0, PeerHandshake());

        // 600 KiB of IPv4 entries: 102,400 addresses.
        await peer.SendExtendedAsync(LocalExtensions.UtPexId, Pex([.. Enumerable.Range(1, 102_400).Select(Address)]));

        var misbehaved = await FishAsync<PeerActor.Misbehaved>(probes.Coordinator);
        Assert.Contains("ut_pex message of", misbehaved.Reason);
        await ExpectTerminatedAsync(actor);
    }

    [Fact]
    public async Task A_private_torrent_offers_neither_extension_and_ignores_pex_and_metadata_requests()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartExtendedAsync(probes, PeerTestContext.CreatePrivate());

        var (id, payload) = await peer.ReadExtendedAsync();
        Assert.Equal(0, id);
        Assert.True(ExtensionHandshake.TryParse(new ReadOnlySequence<byte>(payload), out var ours, out _));
        Assert.Empty(ours.Extensions);
        Assert.Null(ours.MetadataSize);

        await peer.SendExtendedAsync(0, PeerHandshake());
        var agreed = await FishAsync<PeerActor.ExtensionsAgreed>(probes.Coordinator);
        Assert.False(agreed.TakesPex);
        await peer.SendExtendedAsync(LocalExtensions.UtPexId, Pex(Address(1)));
        await peer.SendExtendedAsync(LocalExtensions.UtMetadataId, MetadataMessage.EncodeRequest(0));
        actor.Tell(new PeerActor.SendPex(new PexMessage([new PexPeer(Address(2), PexFlags.None)], [])));
        await peer.SendRawAsync(Frames.Have(0));

        // The have arrives after both extended messages: by then any PEX would have reached the coordinator.
        await FishAsync<PieceSchedulerActor.PeerHave>(probes.Scheduler);
        await probes.Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAsync<OperationCanceledException>(() => peer.ReadExtendedAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task The_coordinators_pex_goes_out_on_the_peers_id()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartExtendedAsync(probes);
        await peer.ReadExtendedAsync();
        await peer.SendExtendedAsync(0, PeerHandshake());
        await FishAsync<PeerActor.ExtensionsAgreed>(probes.Coordinator);
        var message = new PexMessage([new PexPeer(Address(9), PexFlags.Seed | PexFlags.Reachable)], [Address(10)]);

        actor.Tell(new PeerActor.SendPex(message));

        var (id, payload) = await peer.ReadExtendedAsync();
        Assert.Equal(PeerPexId, id);
        Assert.Equal(message.Encode(), payload);
    }

    [Fact]
    public async Task A_peer_with_every_piece_is_reported_a_seed_once()
    {
        var probes = NewProbes();
        var (actor, peer) = await StartExtendedAsync(probes);

        await peer.SendRawAsync(Frames.HaveAll);

        Assert.Equal(actor, (await FishAsync<PeerActor.PeerIsSeed>(probes.Coordinator)).Peer);
    }

    /// <summary>Handshakes with the extension bit set (and fast); the actor is Active when this returns.</summary>
    private async Task<(IActorRef Actor, ScriptedPeer Peer)> StartExtendedAsync(Probes probes, TorrentContext? context = null)
    {
        var (actor, peer) = StartOverPipes(probes, context: context);
        await peer.ReadHandshakeAsync();
        await peer.SendHandshakeAsync(Context.InfoHash, extensions: true);
        await probes.Coordinator.ExpectMsgAsync<PeerActor.Connected>();
        return (actor, peer);
    }

    private static byte[] PeerHandshake(int? listenPort = null, int? reqq = null) => new ExtensionHandshake
    {
        Extensions = new Dictionary<string, byte>
        {
            [LocalExtensions.UtMetadata] = PeerMetadataId,
            [LocalExtensions.UtPex] = PeerPexId,
        },
        ListenPort = listenPort,
        RequestQueueLength = reqq,
        Client = "scripted 1.0",
    }.Encode();

    private static byte[] Pex(params IPEndPoint[] added) =>
        new PexMessage([.. added.Select(a => new PexPeer(a, PexFlags.None))], []).Encode();

    /// <summary>Distinct loopback addresses (only written into messages, never dialled).</summary>
    private static IPEndPoint Address(int i) => new(new IPAddress([127, (byte)(i >> 16), (byte)(i >> 8), (byte)i]), 6881);
}
