using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using Akka.Actor;
using BitTorrentActors.Engine.Metadata;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Engine.Peers.Extensions;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Tests.Peers;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Extensions;
using BitTorrentActors.Protocol.Magnet;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Metadata;

/// <summary>The fetcher and its connections against peers played byte by byte over in-memory pipes.</summary>
public sealed class MetadataFetcherActorTests(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit("akka.loglevel = DEBUG", output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>A torrent whose info dictionary takes three metadata pieces (1,700 piece hashes).</summary>
    private static readonly Lazy<(byte[] File, TorrentMetainfo Metainfo)> Source = new(() =>
    {
        var bytes = TestTorrents.Bytes(16 * 1024, "http://127.0.0.1:1/announce",
            [("big.bin", TestTorrents.Content(1700 * 16 * 1024, seed: 21))]);
        return (bytes, TorrentMetainfo.Parse(bytes).Metainfo!);
    });

    private static byte[] Info => Source.Value.Metainfo.RawInfo.ToArray();

    private static InfoHash Hash => Source.Value.Metainfo.InfoHash;

    [Fact]
    public async Task Our_own_listen_address_from_a_peers_pex_is_never_dialled()
    {
        // Transmission's PEX lists us to ourselves; a fetcher that dialled it would talk to its own listener.
        var dialer = new PipeDialer();
        var a = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7001));
        var dialled = new ConcurrentQueue<IPEndPoint>();
        var owner = CreateTestProbe();
        var context = Magnet(peers: []);

        var fetcher = Sys.ActorOf(MetadataFetcherActor.Props(context, owner, null, (endPoint, token) =>
        {
            dialled.Enqueue(endPoint);
            return dialer.ConnectAsync(endPoint, token);
        }));
        fetcher.Tell(new TorrentCoordinator.PeersDiscovered(Hash,
            [new IPEndPoint(IPAddress.Loopback, context.ListenPort), new IPEndPoint(IPAddress.Loopback, 7001)], PeerSource.Pex));
        await MetadataPeerScript.ServeAsync(a.Peer, Info, Hash);

        var fetched = await FishAsync<MetadataFetcherActor.MetadataFetched>(owner);
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 7001)], dialled);
        Assert.DoesNotContain(new IPEndPoint(IPAddress.Loopback, context.ListenPort), fetched.Peers);
    }

    [Fact]
    public async Task Fetches_the_metadata_from_two_peers_and_hands_the_torrent_to_its_owner()
    {
        Assert.Equal(3, MetadataMessage.PieceCount(Info.Length));
        var dialer = new PipeDialer();
        var a = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7001));
        var b = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7002));
        var owner = CreateTestProbe();
        var context = Magnet(peers: ["127.0.0.1:7001", "127.0.0.1:7002"]);

        var fetcher = Sys.ActorOf(MetadataFetcherActor.Props(context, owner, null, dialer.ConnectAsync));
        Watch(fetcher);
        var served = await Task.WhenAll(MetadataPeerScript.ServeAsync(a.Peer, Info, Hash), MetadataPeerScript.ServeAsync(b.Peer, Info, Hash));

        var fetched = await FishAsync<MetadataFetcherActor.MetadataFetched>(owner);
        Assert.Equal(Hash, fetched.InfoHash);
        Assert.Equal(Info, fetched.Metainfo.RawInfo.ToArray());
        Assert.Equal(Source.Value.Metainfo.Files.Count, fetched.Metainfo.Files.Count);
        Assert.Equal(TorrentMetainfo.Parse(fetched.TorrentFile).Metainfo!.InfoHash, Hash);
        // Both peers were asked (several at once), together for every piece, and never more than two at a time.
        Assert.All(served, s => Assert.True(s.Requests > 0, $"a peer was never asked: {string.Join(", ", served)}"));
        Assert.All(served, s => Assert.True(s.MaxOutstanding <= MetadataAssembler.MaxOutstandingPerPeer, s.ToString()));
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 7001), fetched.Peers);
        await ExpectTerminatedAsync(fetcher, Wait);
    }

    [Fact]
    public async Task Handshakes_with_the_extension_and_fast_bits_sends_no_metadata_size_and_rejects_requests()
    {
        var dialer = new PipeDialer();
        var a = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7001));
        var owner = CreateTestProbe();
        Sys.ActorOf(MetadataFetcherActor.Props(Magnet(peers: ["127.0.0.1:7001"]), owner, null, dialer.ConnectAsync));

        var handshake = await a.Peer.ReadHandshakeAsync();
        Assert.True(handshake.SupportsExtensionProtocol);
        Assert.True(handshake.SupportsFastExtension);
        Assert.Equal(Hash.ToArray(), handshake.InfoHash.ToArray());
        await MetadataPeerScript.HandshakeAsync(a.Peer, Hash, fast: true);
        await a.Peer.SendRawAsync(MetadataPeerScript.ExtendedHandshake(utMetadataId: 3, size: Info.Length, pex: false));

        var (id, payload) = Extended(await a.Peer.ReadFrameAsync());
        Assert.Equal(0, id);
        Assert.True(ExtensionHandshake.TryParse(new ReadOnlySequence<byte>(payload), out var ours, out var error), error);
        Assert.Null(ours.MetadataSize);
        Assert.Equal(LocalExtensions.UtMetadataId, ours.IdOf(LocalExtensions.UtMetadata));
        Assert.Equal((byte)PeerMessageKind.HaveNone, (await a.Peer.ReadFrameAsync())[4]);

        // The peer asks us for metadata: we have none, so we reject (on the id its handshake gave).
        await a.Peer.SendRawAsync(MetadataPeerScript.ExtendedFrame(LocalExtensions.UtMetadataId, MetadataMessage.EncodeRequest(0)));
        var requests = new List<int>();
        var rejected = false;
        while (!rejected || requests.Count < 2)
        {
            var (msgId, body) = Extended(await a.Peer.ReadFrameAsync());
            Assert.Equal(3, msgId);
            Assert.True(MetadataMessage.TryParse(new ReadOnlySequence<byte>(body), out var message, out _, out var parseError), parseError);
            if (message.Type == MetadataMessageType.Reject)
            {
                Assert.Equal(0, message.Piece);
                rejected = true;
                continue;
            }
            requests.Add(message.Piece);
        }
        Assert.Equal([0, 1], requests);
    }

    [Fact]
    public async Task A_peer_without_the_extension_protocol_is_closed()
    {
        var dialer = new PipeDialer();
        var a = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7001));
        Sys.ActorOf(MetadataFetcherActor.Props(Magnet(peers: ["127.0.0.1:7001"]), CreateTestProbe(), null, dialer.ConnectAsync));

        await a.Peer.ReadHandshakeAsync();
        await a.Peer.SendAsync(Handshake.Length, span =>
            new Handshake(Hash.ToArray(), new PeerId("-XX0001-noextensions"u8), HandshakeReserved.FastExtension).WriteTo(span));

        Assert.True(await a.Peer.IsClosedAsync(Wait));
    }

    [Fact]
    public async Task A_peer_announcing_a_huge_metadata_size_is_cut_off_and_the_fetch_goes_on_from_another()
    {
        var dialer = new PipeDialer();
        var liar = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7001));
        var honest = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7002));
        var owner = CreateTestProbe();
        var fetcher = Sys.ActorOf(MetadataFetcherActor.Props(Magnet(peers: ["127.0.0.1:7001"]), owner, null, dialer.ConnectAsync));

        await liar.Peer.ReadHandshakeAsync();
        await MetadataPeerScript.HandshakeAsync(liar.Peer, Hash, fast: false);
        await liar.Peer.SendRawAsync(MetadataPeerScript.ExtendedHandshake(utMetadataId: 3, size: 1L << 31, pex: false));
        Assert.True(await liar.Peer.IsClosedAsync(Wait));

        // A peer found later (as the DHT or PEX would give it) still delivers.
        fetcher.Tell(new TorrentCoordinator.PeersDiscovered(Hash, [new IPEndPoint(IPAddress.Loopback, 7002)], BitTorrentActors.Engine.Session.PeerSource.Manual));
        await MetadataPeerScript.ServeAsync(honest.Peer, Info, Hash);
        var fetched = await FishAsync<MetadataFetcherActor.MetadataFetched>(owner);
        Assert.Equal(Info, fetched.Metainfo.RawInfo.ToArray());
    }

    [Fact]
    public async Task Progress_reaches_the_owner_with_the_peers_and_pieces()
    {
        var dialer = new PipeDialer();
        var a = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7001));
        var owner = CreateTestProbe();
        Sys.ActorOf(MetadataFetcherActor.Props(Magnet(peers: ["127.0.0.1:7001"], overlay: "bta.progress-interval = 100ms"),
            owner, null, dialer.ConnectAsync));

        await a.Peer.ReadHandshakeAsync();
        await MetadataPeerScript.HandshakeAsync(a.Peer, Hash, fast: false);
        await a.Peer.SendRawAsync(MetadataPeerScript.ExtendedHandshake(utMetadataId: 3, size: Info.Length, pex: false));

        var progress = await FishAsync<MetadataFetcherActor.FetchProgress>(owner, p => p.PeersOffering == 1);
        Assert.Equal((1, 1, 0, 3), (progress.PeersConnected, progress.PeersOffering, progress.PiecesReceived, progress.PiecesTotal));
    }

    [Fact]
    public async Task Announces_the_links_trackers_with_a_non_zero_left_and_fetches_from_the_peers_they_return()
    {
        var dialer = new PipeDialer();
        var a = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7005));
        var transport = new Trackers.FuncTransport((_, _) =>
            Trackers.FuncTransport.Answer(TimeSpan.FromMinutes(30), null, a.EndPoint));
        var owner = CreateTestProbe();
        var context = new MagnetContext(
            new MagnetLink(Hash, trackers: ["http://127.0.0.1:1/announce", "http://127.0.0.1:2/announce"]),
            PeerId.Generate(), TestTorrents.Settings(), 6881);

        Sys.ActorOf(MetadataFetcherActor.Props(context, owner, transport, dialer.ConnectAsync));
        await MetadataPeerScript.ServeAsync(a.Peer, Info, Hash);

        var fetched = await FishAsync<MetadataFetcherActor.MetadataFetched>(owner);
        Assert.Equal(Info, fetched.Metainfo.RawInfo.ToArray());
        var (url, request, _) = transport.Calls.First();
        // 0 would say "seed"; the size is unknown, so one metadata piece, as libtorrent reports.
        Assert.Equal(MetadataMessage.PieceSize, request.Left);
        Assert.Equal(Protocol.Trackers.AnnounceEvent.Started, request.Event);
        Assert.Equal(Hash, request.InfoHash);
        Assert.StartsWith("http://127.0.0.1:", url);
        // The torrent built around the info names the link's trackers, one tier each.
        Assert.Equal([["http://127.0.0.1:1/announce"], ["http://127.0.0.1:2/announce"]],
            fetched.Metainfo.AnnounceTiers.Select(t => t.ToArray()).ToArray());
    }

    [Fact]
    public async Task A_peer_that_rejects_is_not_asked_again_and_its_pieces_go_to_another_at_once()
    {
        var dialer = new PipeDialer();
        var rejecting = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7001));
        var honest = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7002));
        var owner = CreateTestProbe();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Sys.ActorOf(MetadataFetcherActor.Props(Magnet(peers: ["127.0.0.1:7001", "127.0.0.1:7002"]), owner, null, dialer.ConnectAsync));
        var served = new[]
        {
            MetadataPeerScript.ServeAsync(rejecting.Peer, Info, Hash, MetadataBehaviour.Rejects),
            MetadataPeerScript.ServeAsync(honest.Peer, Info, Hash),
        };

        var fetched = await FishAsync<MetadataFetcherActor.MetadataFetched>(owner);
        var elapsed = clock.Elapsed;
        var (rejected, answered) = ((await served[0]), (await served[1]));

        Assert.Equal(Info, fetched.Metainfo.RawInfo.ToArray());
        // Held off for a minute after its rejects: never asked again within this fetch.
        Assert.InRange(rejected.Requests, 1, MetadataAssembler.MaxOutstandingPerPeer);
        Assert.Equal(3, answered.PiecesSent);
        // The rejected pieces did not wait out the 3 s re-request interval.
        Assert.True(elapsed < MetadataAssembler.RerequestInterval, $"took {elapsed}; {rejected}; {answered}");
    }

    [Fact]
    public async Task A_peer_answering_with_another_info_hash_is_closed()
    {
        var dialer = new PipeDialer();
        var a = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7001));
        Sys.ActorOf(MetadataFetcherActor.Props(Magnet(peers: ["127.0.0.1:7001"]), CreateTestProbe(), null, dialer.ConnectAsync));

        await a.Peer.ReadHandshakeAsync();
        await MetadataPeerScript.HandshakeAsync(a.Peer, InfoHash.Compute("another"u8), fast: true);

        Assert.True(await a.Peer.IsClosedAsync(Wait));
    }

    [Fact]
    public async Task A_peer_without_ut_metadata_is_closed()
    {
        var dialer = new PipeDialer();
        var a = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7001));
        Sys.ActorOf(MetadataFetcherActor.Props(Magnet(peers: ["127.0.0.1:7001"]), CreateTestProbe(), null, dialer.ConnectAsync));

        var served = await MetadataPeerScript.ServeAsync(a.Peer, Info, Hash, MetadataBehaviour.NoMetadataExtension).WaitAsync(Wait);

        Assert.True(served.ClosedByFetcher, served.ToString());
        Assert.Equal(0, served.Requests);
    }

    [Fact]
    public async Task Metadata_that_passes_the_hash_but_is_no_torrent_fails_once_and_the_fetcher_stops()
    {
        byte[] notATorrent = [.. "d4:name3:abce"u8];
        var hash = InfoHash.Compute(notATorrent);
        var dialer = new PipeDialer();
        var a = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7001));
        var owner = CreateTestProbe();
        var context = new MagnetContext(new MagnetLink(hash, peers: ["127.0.0.1:7001"]), PeerId.Generate(), TestTorrents.Settings(), 6881);
        var fetcher = Sys.ActorOf(MetadataFetcherActor.Props(context, owner, null, dialer.ConnectAsync));
        Watch(fetcher);
        _ = MetadataPeerScript.ServeAsync(a.Peer, notATorrent, hash);

        var failed = await FishAsync<MetadataFetcherActor.MetadataFailed>(owner);

        Assert.Equal(hash, failed.InfoHash);
        Assert.Contains("not a valid torrent", failed.Reason);
        await ExpectTerminatedAsync(fetcher, Wait);
    }

    [Fact]
    public async Task A_peer_that_connects_to_our_listener_for_a_bare_magnet_gives_the_metadata()
    {
        // libtorrent takes incoming peers for a magnet still fetching; so do we: the fetcher registers with the
        // real listener, which hands it the accepted TCP connection with the handshake unread.
        var listener = Sys.ActorOf(ListenerActor.Props(IPAddress.Loopback, 0, 10, TimeSpan.FromSeconds(5)), "listener");
        var bound = await listener.Ask<ListenerActor.Bound>(ListenerActor.GetBound.Instance, Wait);
        var owner = CreateTestProbe();
        var context = Magnet(peers: []) with { Listener = listener };
        var dialled = new ConcurrentQueue<IPEndPoint>();
        var fetcher = Sys.ActorOf(MetadataFetcherActor.Props(context, owner, null, (endPoint, _) =>
        {
            dialled.Enqueue(endPoint);
            return Task.FromException<IDuplexPipe>(new IOException("no dialling in this test"));
        }));
        Watch(fetcher);
        // Its PreStart (and so its registration, ahead of our connection in the listener's mailbox) has run.
        await fetcher.Ask<ActorIdentity>(new Identify(1), Wait);

        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(bound.EndPoint!);
        var local = (IPEndPoint)socket.LocalEndPoint!;
        var peer = new ScriptedPeer(new BitTorrentActors.Engine.Peers.SocketTransport(socket));
        var serving = MetadataPeerScript.ServeAsync(peer, Info, Hash, dialledUs: true, listenPort: 7005);

        var fetched = await FishAsync<MetadataFetcherActor.MetadataFetched>(owner);
        Assert.Equal(Info, fetched.Metainfo.RawInfo.ToArray());
        // The coordinator gets the port the peer listens on, never the one it dialled from.
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 7005), fetched.Peers);
        Assert.DoesNotContain(fetched.Peers, p => p.Port == local.Port);
        Assert.Empty(dialled);
        await ExpectTerminatedAsync(fetcher, Wait);
        Assert.True((await serving).ClosedByFetcher);
    }

    [Fact]
    public async Task Incoming_peers_answer_after_the_peers_handshake_count_against_the_limit_and_are_reported_to_the_listener()
    {
        var listener = CreateTestProbe();
        var owner = CreateTestProbe();
        var context = Magnet(peers: [], "bta.max-peers-per-torrent = 1") with { Listener = listener.Ref };
        var fetcher = Sys.ActorOf(MetadataFetcherActor.Props(context, owner, null,
            (_, _) => Task.FromException<IDuplexPipe>(new IOException("no dialling in this test"))));
        var registered = await listener.ExpectMsgAsync<ListenerActor.RegisterTorrent>(Wait);
        Assert.Equal((Hash, fetcher), (registered.InfoHash, registered.Coordinator));

        var (firstSide, firstPeer) = DuplexPipe.CreatePair();
        var first = new ScriptedPeer(firstPeer);
        fetcher.Tell(new ListenerActor.IncomingPeer(firstSide, new IPEndPoint(IPAddress.Loopback, 50001)), listener.Ref);
        Assert.Equal(1, (await FishAsync<ListenerActor.ConnectionCount>(listener)).Count);
        // Nothing is sent before the peer's handshake says the torrent is the one we fetch.
        var early = first.ReadFrameAsync(timeout: TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<Exception>(() => early);
        await MetadataPeerScript.HandshakeAsync(first, Hash, fast: true);
        Assert.Equal(Hash, new InfoHash((await first.ReadHandshakeAsync()).InfoHash));

        // At the limit of one connection: the next one is closed at once, and the count stays one.
        var (secondSide, secondPeer) = DuplexPipe.CreatePair();
        fetcher.Tell(new ListenerActor.IncomingPeer(secondSide, new IPEndPoint(IPAddress.Loopback, 50002)), listener.Ref);
        Assert.True(await new ScriptedPeer(secondPeer).IsClosedAsync(Wait));
        Assert.Equal(1, (await FishAsync<ListenerActor.ConnectionCount>(listener)).Count);

        await first.CloseAsync();
        Assert.Equal(0, (await FishAsync<ListenerActor.ConnectionCount>(listener)).Count);
    }

    [Fact]
    public async Task Stop_fetching_stops_the_fetcher_and_closes_its_connections()
    {
        var dialer = new PipeDialer();
        var a = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7001));
        var owner = CreateTestProbe();
        var fetcher = Sys.ActorOf(MetadataFetcherActor.Props(Magnet(peers: ["127.0.0.1:7001"]), owner, null, dialer.ConnectAsync));
        Watch(fetcher);
        await a.Peer.ReadHandshakeAsync();
        await MetadataPeerScript.HandshakeAsync(a.Peer, Hash, fast: false);

        fetcher.Tell(new MetadataFetcherActor.StopFetching(Hash));

        await ExpectTerminatedAsync(fetcher, Wait);
        Assert.True(await a.Peer.IsClosedAsync(Wait));
        // Nothing is sent on a stop (a progress report already on its way aside).
        owner.IgnoreMessages(m => m is MetadataFetcherActor.FetchProgress);
        await owner.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    private MagnetContext Magnet(string[] peers, string overlay = "") =>
        new(new MagnetLink(Hash, "big.bin", trackers: [], peers: peers), PeerId.Generate(), TestTorrents.Settings(overlay), 6881);

    private static async Task<T> FishAsync<T>(Akka.TestKit.TestProbe probe, Predicate<T>? match = null)
    {
        var found = await probe.FishForMessageAsync(o => o is T t && (match is null || match(t)), Wait);
        return (T)found;
    }

    private static (byte Id, byte[] Payload) Extended(byte[] frame)
    {
        Assert.Equal((byte)PeerMessageKind.Extended, frame[4]);
        Assert.Equal(BinaryPrimitives.ReadInt32BigEndian(frame), frame.Length - 4);
        return (frame[5], frame[6..]);
    }
}
