using System.Net;
using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Extensions;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Peers;

/// <summary>The PEX we send, decided by the coordinator (it knows every connection), with its peers played by
/// probes: who is advertised to whom, with which flags, and never for a private torrent.</summary>
public sealed class CoordinatorPexTests(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit("akka.loglevel = DEBUG", output)
{
    private static readonly IPEndPoint A = IPEndPoint.Parse("127.0.0.1:7001");
    private static readonly IPEndPoint B = IPEndPoint.Parse("127.0.0.1:7002");
    private static readonly IPEndPoint C = IPEndPoint.Parse("127.0.0.1:7003");

    [Fact]
    public async Task Each_peer_that_takes_pex_hears_of_the_others_listen_addresses_with_their_flags_but_not_of_itself()
    {
        var children = new ChildProbes(this);
        var coordinator = StartDownloading(children, isPrivate: false);
        coordinator.Tell(new TorrentCoordinator.PeersDiscovered(Context(false).InfoHash, [A, B, C], PeerSource.Manual));
        var a = Connect(coordinator, A, 1);
        var b = Connect(coordinator, B, 2);
        Connect(coordinator, C, 3);
        // An incoming peer is advertised at the listen port its extension handshake gave.
        coordinator.Tell(new ListenerActor.IncomingPeer(DuplexPipe.CreatePair().ActorSide, IPEndPoint.Parse("127.0.0.1:50000")));
        var incoming = AwaitChild(coordinator, "peer-in-1");
        coordinator.Tell(new PeerActor.Connected(incoming, IPEndPoint.Parse("127.0.0.1:50000"), Id(4)));
        coordinator.Tell(new PeerActor.ExtensionsAgreed(incoming, 7009, TakesPex: false, UploadOnly: false));
        coordinator.Tell(new PeerActor.ExtensionsAgreed(a, null, TakesPex: true, UploadOnly: false));
        coordinator.Tell(new PeerActor.ExtensionsAgreed(b, null, TakesPex: true, UploadOnly: false));
        coordinator.Tell(new PeerActor.PeerIsSeed(b));

        var first = await NextPexAsync(children);
        var second = await NextPexAsync(children);

        var incomingListen = new PexPeer(IPEndPoint.Parse("127.0.0.1:7009"), PexFlags.None);
        PexPeer[] toA = [new(B, PexFlags.Reachable | PexFlags.Seed), new(C, PexFlags.Reachable), incomingListen];
        PexPeer[] toB = [new(A, PexFlags.Reachable), new(C, PexFlags.Reachable), incomingListen];
        var sent = new[] { first, second }.Select(m => m.Added.OrderBy(p => p.EndPoint.Port).ToArray()).OrderBy(m => m[0].EndPoint.Port).ToArray();
        Assert.Equal(toB, sent[0]);
        Assert.Equal(toA, sent[1]);
        Assert.All([first, second], m => Assert.Empty(m.Dropped));

        // Only changes go out afterwards: C leaves, and both hear it dropped.
        var c = AwaitChild(coordinator, "peer-127.0.0.1-7003");
        Watch(c);
        Sys.Stop(c);
        ExpectTerminated(c);
        var third = await NextPexAsync(children);
        var fourth = await NextPexAsync(children);
        Assert.All([third, fourth], m =>
        {
            Assert.Empty(m.Added);
            Assert.Equal([C], m.Dropped);
        });
    }

    [Fact]
    public async Task A_private_torrent_sends_no_pex()
    {
        var children = new ChildProbes(this);
        var coordinator = StartDownloading(children, isPrivate: true);
        coordinator.Tell(new TorrentCoordinator.PeersDiscovered(Context(true).InfoHash, [A, B], PeerSource.Manual));
        var a = Connect(coordinator, A, 1);
        Connect(coordinator, B, 2);
        coordinator.Tell(new PeerActor.ExtensionsAgreed(a, null, TakesPex: true, UploadOnly: false));

        await Task.Delay(TimeSpan.FromMilliseconds(800));

        Assert.DoesNotContain(children.Peers.ReceiveWhile(TimeSpan.FromMilliseconds(100), m => m), m => m is PeerActor.SendPex);
    }

    private IActorRef StartDownloading(ChildProbes children, bool isPrivate)
    {
        var coordinator = Sys.ActorOf(TorrentCoordinator.Props(Context(isPrivate), CreateTestProbe().Ref, children.Parts));
        children.Writer.ExpectMsg<FileWriterActor.CheckExistingData>();
        coordinator.Tell(new FileWriterActor.CheckCompleted(new byte[1], 0, 0));
        children.Scheduler.ExpectMsg<PieceSchedulerActor.Start>();
        return coordinator;
    }

    private IActorRef Connect(IActorRef coordinator, IPEndPoint endPoint, int id)
    {
        var peer = AwaitChild(coordinator, $"peer-{endPoint.Address}-{endPoint.Port}");
        coordinator.Tell(new PeerActor.Connected(peer, endPoint, Id(id)));
        return peer;
    }

    private static async Task<PexMessage> NextPexAsync(ChildProbes children) =>
        ((PeerActor.SendPex)await children.Peers.FishForMessageAsync(m => m is PeerActor.SendPex, TimeSpan.FromSeconds(5))).Message;

    private IActorRef AwaitChild(IActorRef parent, string name)
    {
        IActorRef? child = null;
        AwaitAssert(() => child = Sys.ActorSelection(parent.Path / name).ResolveOne(TimeSpan.FromSeconds(1)).Result);
        return child!;
    }

    private static PeerId Id(int i) => new([.. "-XX0001-"u8, .. System.Text.Encoding.ASCII.GetBytes(i.ToString("D12", System.Globalization.CultureInfo.InvariantCulture))]);

    private static TorrentContext Context(bool isPrivate)
    {
        var bytes = TorrentBuilder.Build("pex", 16384, [("pex.bin", TestTorrents.Content(16384, 1))], isPrivate: isPrivate, singleFile: true);
        var settings = TestTorrents.Settings("bta.max-peers-per-torrent = 10, bta.pex.interval = 200ms");
        return TestTorrents.Context(TorrentMetainfo.Parse(bytes).Metainfo!, Path.GetTempPath(), settings, listenPort: 6881);
    }
}
