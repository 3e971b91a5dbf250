using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using Akka.Actor;
using BitTorrentActors.Engine.Metadata;
using BitTorrentActors.Engine.Peers.Extensions;
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
        var served = await Task.WhenAll(ServeAsync(a.Peer, Info), ServeAsync(b.Peer, Info));

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
        await HandshakeAsync(a.Peer, fast: true);
        await a.Peer.SendRawAsync(ExtendedHandshake(utMetadataId: 3, size: Info.Length, pex: false));

        var (id, payload) = Extended(await a.Peer.ReadFrameAsync());
        Assert.Equal(0, id);
        Assert.True(ExtensionHandshake.TryParse(new ReadOnlySequence<byte>(payload), out var ours, out var error), error);
        Assert.Null(ours.MetadataSize);
        Assert.Equal(LocalExtensions.UtMetadataId, ours.IdOf(LocalExtensions.UtMetadata));
        Assert.Equal((byte)PeerMessageKind.HaveNone, (await a.Peer.ReadFrameAsync())[4]);

        // The peer asks us for metadata: we have none, so we reject (on the id its handshake gave).
        await a.Peer.SendRawAsync(ExtendedFrame(LocalExtensions.UtMetadataId, MetadataMessage.EncodeRequest(0)));
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
        await HandshakeAsync(liar.Peer, fast: false);
        await liar.Peer.SendRawAsync(ExtendedHandshake(utMetadataId: 3, size: 1L << 31, pex: false));
        Assert.True(await liar.Peer.IsClosedAsync(Wait));

        // A peer found later (as the DHT or PEX would give it) still delivers.
        fetcher.Tell(new TorrentCoordinator.PeersDiscovered(Hash, [new IPEndPoint(IPAddress.Loopback, 7002)], BitTorrentActors.Engine.Session.PeerSource.Manual));
        await ServeAsync(honest.Peer, Info);
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
        await HandshakeAsync(a.Peer, fast: false);
        await a.Peer.SendRawAsync(ExtendedHandshake(utMetadataId: 3, size: Info.Length, pex: false));

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
        await ServeAsync(a.Peer, Info);

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

    private MagnetContext Magnet(string[] peers, string overlay = "") =>
        new(new MagnetLink(Hash, "big.bin", trackers: [], peers: peers), PeerId.Generate(), TestTorrents.Settings(overlay), 6881);

    private static async Task<T> FishAsync<T>(Akka.TestKit.TestProbe probe, Predicate<T>? match = null)
    {
        var found = await probe.FishForMessageAsync(o => o is T t && (match is null || match(t)), Wait);
        return (T)found;
    }

    /// <summary>Plays an honest seeder with the metadata: handshake, extension handshake with ut_metadata as id 3,
    /// then answers every request until the fetcher closes the connection.</summary>
    private static async Task<Served> ServeAsync(ScriptedPeer peer, byte[] info)
    {
        await peer.ReadHandshakeAsync();
        await HandshakeAsync(peer, fast: true);
        await peer.SendRawAsync(ExtendedHandshake(utMetadataId: 3, size: info.Length, pex: false));
        var served = new Served();
        var outstanding = 0;
        try
        {
            while (true)
            {
                var frame = await peer.ReadFrameAsync(timeout: TimeSpan.FromSeconds(5));
                if (frame[4] != (byte)PeerMessageKind.Extended || frame[5] != 3)
                {
                    continue;
                }
                Assert.True(MetadataMessage.TryParse(new ReadOnlySequence<byte>(frame.AsMemory(6)), out var request, out _, out var error), error);
                served.Requests++;
                served.MaxOutstanding = Math.Max(served.MaxOutstanding, ++outstanding);
                // Answer after a moment, so the fetcher can have its second request out meanwhile.
                await Task.Delay(20);
                var piece = info.AsSpan(request.Piece * MetadataMessage.PieceSize, MetadataMessage.PieceLength(info.Length, request.Piece));
                await peer.SendRawAsync(ExtendedFrame(LocalExtensions.UtMetadataId, MetadataMessage.EncodeData(request.Piece, info.Length, piece)));
                outstanding--;
            }
        }
        catch (Exception ex) when (ex is EndOfStreamException or OperationCanceledException or IOException)
        {
            return served;
        }
    }

    /// <summary>A handshake with the extension protocol bit (and the fast one when asked).</summary>
    private static Task HandshakeAsync(ScriptedPeer peer, bool fast) =>
        peer.SendAsync(Handshake.Length, span => new Handshake(Hash.ToArray(), peer.Id,
            HandshakeReserved.ExtensionProtocol | (fast ? HandshakeReserved.FastExtension : HandshakeReserved.None)).WriteTo(span));

    internal static byte[] ExtendedHandshake(byte utMetadataId, long? size, bool pex)
    {
        var extensions = new Dictionary<string, byte> { [LocalExtensions.UtMetadata] = utMetadataId };
        if (pex)
        {
            extensions[LocalExtensions.UtPex] = 4;
        }
        var payload = new ExtensionHandshake { Extensions = extensions, MetadataSize = size, Client = "scripted" }.Encode();
        return ExtendedFrame(0, payload);
    }

    internal static byte[] ExtendedFrame(byte id, byte[] payload)
    {
        var frame = new byte[PeerWireWriter.ExtendedSize(payload.Length)];
        PeerWireWriter.WriteExtended(frame, id, payload);
        return frame;
    }

    private static (byte Id, byte[] Payload) Extended(byte[] frame)
    {
        Assert.Equal((byte)PeerMessageKind.Extended, frame[4]);
        Assert.Equal(BinaryPrimitives.ReadInt32BigEndian(frame), frame.Length - 4);
        return (frame[5], frame[6..]);
    }

    private sealed class Served
    {
        public int Requests { get; set; }

        public int MaxOutstanding { get; set; }

        public override string ToString() => $"{Requests} requests, at most {MaxOutstanding} outstanding";
    }

    /// <summary>Every address it knows is one in-memory pipe pair; the fetcher's side is handed out once.</summary>
    private sealed class PipeDialer
    {
        private readonly ConcurrentDictionary<IPEndPoint, IDuplexPipe> _actorSides = new();

        public (IPEndPoint EndPoint, ScriptedPeer Peer) Add(IPEndPoint endPoint)
        {
            var (actorSide, peerSide) = DuplexPipe.CreatePair();
            _actorSides[endPoint] = actorSide;
            return (endPoint, new ScriptedPeer(peerSide));
        }

        public Task<IDuplexPipe> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken) =>
            _actorSides.TryRemove(endPoint, out var pipe)
                ? Task.FromResult(pipe)
                : Task.FromException<IDuplexPipe>(new SocketExceptionLike($"nothing at {endPoint}"));
    }

    private sealed class SocketExceptionLike(string message) : Exception(message);
}
