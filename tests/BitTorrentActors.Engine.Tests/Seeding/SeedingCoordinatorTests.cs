using System.IO.Pipelines;
using System.Net;
using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Trackers;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.Seeding;

/// <summary>The coordinator as a seeder, with probes for every child and for the listener.</summary>
public sealed class SeedingCoordinatorTests : Akka.TestKit.Xunit2.TestKit
{
    private readonly TestProbe _observer;
    private readonly TestProbe _listener;
    private readonly ChildProbes _children;
    private readonly TorrentContext _context;

    public SeedingCoordinatorTests()
    {
        _children = new ChildProbes(this);
        _observer = CreateTestProbe();
        _listener = CreateTestProbe();
        var metainfo = TestTorrents.Metainfo(16384, "http://127.0.0.1:1/announce", ("a.bin", TestTorrents.Content(40_000, 1)));
        var settings = TestTorrents.Settings("bta.max-peers-per-torrent = 3, bta.progress-interval = 200ms");
        _context = TestTorrents.Context(metainfo, Path.GetTempPath(), settings, listenPort: 6881);
    }


    [Fact]
    public void A_complete_torrent_with_seeding_registers_and_reports_seeding_without_announcing_completed()
    {
        StartSeeding();

        _listener.ExpectMsg<ListenerActor.RegisterTorrent>(m => m.InfoHash == _context.InfoHash);
        _observer.FishForMessage(m => m is TorrentCoordinator.Completed);
        _observer.FishForMessage(m => m is TorrentCoordinator.Progress { State: TorrentCoordinator.TorrentState.Seeding });
        // BEP 3: 'completed' is for a download that finished here; data found complete by the check is no download.
        var told = _children.Tracker.ReceiveWhile<object>(TimeSpan.FromMilliseconds(600), m => m);
        Assert.Contains(told, m => m is TrackerActor.UpdateTransfer);
        Assert.DoesNotContain(told, m => m is TrackerActor.AnnounceNow { Event: AnnounceEvent.Completed });
    }

    [Fact]
    public void An_incoming_peer_gets_a_peer_actor_in_incoming_mode_with_our_pieces()
    {
        var coordinator = StartSeeding();
        var transport = new FakeTransport();

        coordinator.Tell(new ListenerActor.IncomingPeer(transport, IPEndPoint.Parse("127.0.0.1:40001")));

        _listener.FishForMessage(m => m is ListenerActor.ConnectionCount { Count: 1 });
        var spawn = Assert.Single(_children.Spawned);
        Assert.Same(transport, spawn.Setup?.Incoming);
        Assert.True(spawn.Setup?.OurPieces?.IsComplete);
    }

    [Fact]
    public void A_banned_peer_connecting_in_is_refused_and_its_transport_closed()
    {
        var coordinator = StartSeeding();
        var banned = IPEndPoint.Parse("127.0.0.1:40002");
        coordinator.Tell(new PeerActor.Misbehaved(banned, "test"));
        var transport = new FakeTransport();

        coordinator.Tell(new ListenerActor.IncomingPeer(transport, banned));

        AwaitCondition(() => transport.Disposed);
        Assert.Empty(_children.Spawned);
    }

    [Fact]
    public void Reaching_the_seed_ratio_is_reported_once()
    {
        var coordinator = StartSeeding(ratio: 1.0);
        _observer.FishForMessage(m => m is TorrentCoordinator.Completed);

        coordinator.Tell(new PeerActor.TransferReport(TestActor, 0, 40_000));

        var reached = (TorrentCoordinator.SeedRatioReached)_observer.FishForMessage(m => m is TorrentCoordinator.SeedRatioReached);
        Assert.Equal(40_000, reached.Uploaded);
        var later = _observer.ReceiveWhile(TimeSpan.FromMilliseconds(700), m => m);
        Assert.DoesNotContain(later, m => m is TorrentCoordinator.SeedRatioReached);
    }

    private IActorRef StartSeeding(double? ratio = null)
    {
        var options = new CoordinatorOptions(Seed: true, ratio, _listener.Ref);
        var coordinator = Sys.ActorOf(TorrentCoordinator.Props(_context, _observer.Ref, _children.Parts, options));
        _children.Writer.ExpectMsg<FileWriterActor.CheckExistingData>();
        var have = Bitfield.AllSet(_context.PieceCount);
        coordinator.Tell(new FileWriterActor.CheckCompleted(have.AsSpan().ToArray(), _context.PieceCount, _context.Metainfo.TotalLength));
        _children.Scheduler.ExpectMsg<PieceSchedulerActor.Start>();
        return coordinator;
    }



    private sealed class FakeTransport : IDuplexPipe, IAsyncDisposable
    {
        private readonly Pipe _pipe = new();
        private volatile bool _disposed;

        public PipeReader Input => _pipe.Reader;

        public PipeWriter Output => _pipe.Writer;

        public bool Disposed => _disposed;

        public ValueTask DisposeAsync()
        {
            _disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
