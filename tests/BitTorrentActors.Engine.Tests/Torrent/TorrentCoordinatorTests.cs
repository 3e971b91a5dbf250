using BitTorrentActors.Engine.Session;
using System.Net;
using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Trackers;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.Torrent;

public class TorrentCoordinatorTests : Akka.TestKit.Xunit2.TestKit
{
    private readonly TestProbe _observer;
    private readonly ChildProbes _children;
    private readonly TorrentContext _context;

    public TorrentCoordinatorTests()
    {
        _children = new ChildProbes(this);
        _observer = CreateTestProbe();
        var metainfo = TestTorrents.Metainfo(16384, "http://127.0.0.1:1/announce", ("a.bin", TestTorrents.Content(40_000, 1)));
        var settings = TestTorrents.Settings(
            "bta.max-peers-per-torrent = 3, bta.peer-retry.min-backoff = 100ms, bta.progress-interval = 200ms");
        _context = TestTorrents.Context(metainfo, Path.GetTempPath(), settings, listenPort: 6881);
    }


    private IActorRef StartDownloading(int verifiedPieces = 0)
    {
        var coordinator = Sys.ActorOf(TorrentCoordinator.Props(_context, _observer.Ref, _children.Parts));
        _children.Writer.ExpectMsg<FileWriterActor.CheckExistingData>();
        var have = new Bitfield(_context.PieceCount);
        for (var i = 0; i < verifiedPieces; i++)
        {
            have.Set(i);
        }
        coordinator.Tell(new FileWriterActor.CheckCompleted(have.AsSpan().ToArray(), verifiedPieces, 0));
        _children.Scheduler.ExpectMsg<PieceSchedulerActor.Start>();
        return coordinator;
    }

    [Fact]
    public void Checks_existing_data_then_starts_the_scheduler_and_reports_downloading()
    {
        StartDownloading();
        _observer.FishForMessage(m => m is TorrentCoordinator.Progress { State: TorrentCoordinator.TorrentState.Downloading });
    }

    [Fact]
    public void Dials_each_new_peer_once_skips_itself_and_respects_the_peer_limit()
    {
        var coordinator = StartDownloading();
        var a = IPEndPoint.Parse("127.0.0.1:7001");
        coordinator.Tell(new TorrentCoordinator.PeersDiscovered(_context.InfoHash, [a, a, IPEndPoint.Parse("127.0.0.1:6881"), IPEndPoint.Parse("127.0.0.1:7002")], PeerSource.Manual));
        coordinator.Tell(new TorrentCoordinator.PeersDiscovered(_context.InfoHash, [a, IPEndPoint.Parse("127.0.0.1:7003"), IPEndPoint.Parse("127.0.0.1:7004")], PeerSource.Manual));
        AwaitCondition(() => _children.Spawned.Count == 3);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal(3, _children.Spawned.Count);
        var remotes = _children.Spawned.Select(s => s.Remote).ToList();
        Assert.Single(remotes, e => e.Equals(a));
        Assert.DoesNotContain(IPEndPoint.Parse("127.0.0.1:6881"), remotes);
    }

    [Fact]
    public void A_tracker_reply_of_100000_peers_dials_only_up_to_the_peer_limit_and_one_replacement_per_departure()
    {
        var coordinator = StartDownloading();
        coordinator.Tell(new TrackerActor.PeersFound(Trackers.HostileTrackerTests.ManyPeers(100_000), "http://127.0.0.1:1/announce"));
        AwaitCondition(() => _children.Spawned.Count == 3, TimeSpan.FromSeconds(5));
        var first = AwaitChild(coordinator, $"peer-{_children.Spawned[0].Remote.Address}-{_children.Spawned[0].Remote.Port}");
        Watch(first);
        Sys.Stop(first);
        ExpectTerminated(first);
        AwaitCondition(() => _children.Spawned.Count == 4, TimeSpan.FromSeconds(3));
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        Assert.Equal(4, _children.Spawned.Count);
    }

    [Fact]
    public void A_verified_piece_is_announced_and_the_last_one_completes_the_torrent()
    {
        var coordinator = StartDownloading(verifiedPieces: 1);
        coordinator.Tell(new TorrentCoordinator.PeersDiscovered(_context.InfoHash, [IPEndPoint.Parse("127.0.0.1:7001")], PeerSource.Manual));
        AwaitCondition(() => _children.Spawned.Count == 1);
        coordinator.Tell(new FileWriterActor.PieceVerified(1, []));
        _children.Scheduler.ExpectMsg<PieceSchedulerActor.PieceVerified>(m => m.Piece == 1);
        _children.Peers.FishForMessage(m => m is PeerActor.AnnounceHave { Piece: 1 });
        coordinator.Tell(new FileWriterActor.PieceVerified(2, []));
        _children.Tracker.FishForMessage(m => m is TrackerActor.AnnounceNow { Event: AnnounceEvent.Completed });
        _observer.FishForMessage(m => m is TorrentCoordinator.Completed);
    }

    [Fact]
    public void A_peer_that_alone_sent_a_bad_piece_is_stopped_and_never_dialled_again()
    {
        var coordinator = StartDownloading();
        var bad = IPEndPoint.Parse("127.0.0.1:7001");
        coordinator.Tell(new TorrentCoordinator.PeersDiscovered(_context.InfoHash, [bad], PeerSource.Manual));
        AwaitCondition(() => _children.Spawned.Count == 1);
        var peer = AwaitChild(coordinator, "peer-127.0.0.1-7001");
        Watch(peer);
        coordinator.Tell(new FileWriterActor.PieceFailed(0, [peer]));
        _children.Scheduler.FishForMessage(m => m is PieceSchedulerActor.PieceFailed { Piece: 0 });
        ExpectTerminated(peer);
        coordinator.Tell(new TorrentCoordinator.PeersDiscovered(_context.InfoHash, [bad], PeerSource.Manual));
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        Assert.Single(_children.Spawned);
    }

    [Fact]
    public void A_dropped_peer_is_dialled_again_after_its_backoff()
    {
        var coordinator = StartDownloading();
        coordinator.Tell(new TorrentCoordinator.PeersDiscovered(_context.InfoHash, [IPEndPoint.Parse("127.0.0.1:7001")], PeerSource.Manual));
        AwaitCondition(() => _children.Spawned.Count == 1);
        var peer = AwaitChild(coordinator, "peer-127.0.0.1-7001");
        Watch(peer);
        Sys.Stop(peer);
        ExpectTerminated(peer);
        AwaitCondition(() => _children.Spawned.Count == 2, TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void A_disk_failure_ends_the_torrent_with_the_reason()
    {
        var coordinator = StartDownloading();
        coordinator.Tell(new FileWriterActor.DiskFailed("a.bin: No space left on device"));
        _observer.FishForMessage(m => m is TorrentCoordinator.Failed { Reason: "a.bin: No space left on device" });
    }

    [Fact]
    public void Stop_announces_stopped_and_replies_once_the_tracker_confirms()
    {
        var coordinator = StartDownloading();
        Watch(coordinator);
        coordinator.Tell(new TorrentCoordinator.Stop(_context.InfoHash), TestActor);
        _children.Tracker.FishForMessage(m => m is TrackerActor.AnnounceStopped);
        _children.Tracker.Reply(TrackerActor.StoppedAnnounced.Instance);
        ExpectMsg<TorrentCoordinator.Stopped>();
        ExpectTerminated(coordinator);
    }

    [Fact]
    public void A_crashing_child_peer_does_not_stop_the_torrent()
    {
        var coordinator = StartDownloading();
        coordinator.Tell(new TorrentCoordinator.PeersDiscovered(_context.InfoHash, [IPEndPoint.Parse("127.0.0.1:7001")], PeerSource.Manual));
        AwaitCondition(() => _children.Spawned.Count == 1);
        var peer = AwaitChild(coordinator, "peer-127.0.0.1-7001");
        Watch(peer);
        peer.Tell(new ForwardingActor.Crash());
        ExpectTerminated(peer);
        coordinator.Tell(new FileWriterActor.PieceVerified(0, []));
        _children.Scheduler.FishForMessage(m => m is PieceSchedulerActor.PieceVerified { Piece: 0 });
    }


    private IActorRef AwaitChild(IActorRef parent, string name)
    {
        IActorRef? child = null;
        AwaitAssert(() =>
        {
            child = Sys.ActorSelection(parent.Path / name).ResolveOne(TimeSpan.FromSeconds(1)).Result;
        });
        return child!;
    }

}
