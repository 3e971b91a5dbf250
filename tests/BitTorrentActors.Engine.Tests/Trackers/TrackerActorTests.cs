using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Trackers;
using static BitTorrentActors.Engine.Tests.Trackers.TrackerTestSupport;

namespace BitTorrentActors.Engine.Tests.Trackers;

public sealed class TrackerActorTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Started_announce_carries_the_torrent_and_peers_reach_the_coordinator()
    {
        var peers = new[] { Peer(7001), Peer(7002) };
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Peers(peers));
        var context = Context(tracker.AnnounceUrl);
        var coordinator = CreateTestProbe();

        Sys.ActorOf(TrackerActor.Props(context, coordinator));

        var request = await tracker.NextRequestAsync();
        Assert.Equal(context.InfoHash.ToArray(), request.Query["info_hash"]);
        Assert.Equal(context.LocalPeerId.Span.ToArray(), request.Query["peer_id"]);
        Assert.Equal("started", request.Text("event"));
        Assert.Equal(6881, request.Number("port"));
        Assert.Equal(context.Metainfo.TotalLength, request.Number("left"));
        Assert.Equal(0, request.Number("uploaded"));
        Assert.Equal("1", request.Text("compact"));
        Assert.Equal(50, request.Number("numwant"));
        Assert.NotNull(request.Text("key"));

        var status = await Next<TrackerActor.TrackerStatus>(coordinator);
        Assert.True(status.Ok, status.Message);
        Assert.Equal((tracker.AnnounceUrl, 3, 4), (status.Tracker, status.Seeders, status.Leechers));
        var found = await Next<TrackerActor.PeersFound>(coordinator);
        Assert.Equal(peers, found.Peers);
        Assert.Equal(tracker.AnnounceUrl, found.Tracker);
    }

    [Fact]
    public async Task Reannounces_after_the_interval_without_event_and_with_the_latest_totals()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Peers([Peer(7001)]));
        var context = Context(tracker.AnnounceUrl);
        var transport = new ShortIntervalTransport(HttpTrackerTransport.FromSettings(context.Settings.Tracker),
            TimeSpan.FromSeconds(1));
        var coordinator = CreateTestProbe();
        var actor = Sys.ActorOf(TrackerActor.Props(context, coordinator, transport));

        var first = await tracker.NextRequestAsync();
        await Next<TrackerActor.PeersFound>(coordinator);
        actor.Tell(new TrackerActor.UpdateTransfer(111, 222, 333));

        var second = await tracker.NextRequestAsync();
        Assert.Equal("started", first.Text("event"));
        Assert.Null(second.Text("event"));
        Assert.Equal((111L, 222L, 333L), (second.Number("uploaded")!.Value, second.Number("downloaded")!.Value,
            second.Number("left")!.Value));
        Assert.InRange(second.At - first.At, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Never_reannounces_sooner_than_the_min_interval()
    {
        var transport = new FuncTransport((_, _) =>
            FuncTransport.Answer(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(1500), Peer(7001)));
        var coordinator = CreateTestProbe();
        Sys.ActorOf(TrackerActor.Props(Context("http://127.0.0.1:1/announce"), coordinator, transport));

        await AwaitConditionAsync(() => Task.FromResult(transport.Calls.Count >= 2), Wait);
        var calls = transport.Calls.ToArray();
        Assert.InRange(calls[1].At - calls[0].At, TimeSpan.FromMilliseconds(1400), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Failure_reason_is_reported_and_retried_with_backoff_until_the_tracker_answers()
    {
        var replies = 0;
        await using var tracker = new ScriptedHttpTracker(_ => Interlocked.Increment(ref replies) == 1
            ? ScriptedReply.Failure("torrent not registered")
            : ScriptedReply.Peers([Peer(7003)]));
        var coordinator = CreateTestProbe();
        Sys.ActorOf(TrackerActor.Props(Context(tracker.AnnounceUrl), coordinator));

        var failed = await Next<TrackerActor.TrackerStatus>(coordinator);
        Assert.False(failed.Ok);
        Assert.Equal("torrent not registered", failed.Message);
        var first = await tracker.NextRequestAsync();
        var retry = await tracker.NextRequestAsync();
        // The retry still says "started": no tracker has accepted us yet.
        Assert.Equal("started", retry.Text("event"));
        Assert.InRange(retry.At - first.At, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(3));
        Assert.Equal([Peer(7003)], (await Next<TrackerActor.PeersFound>(coordinator)).Peers);
    }

    [Theory]
    [InlineData(500, false, "HTTP 500")]
    [InlineData(200, true, "HTML")]
    public async Task Server_errors_and_web_pages_fail_the_announce_and_retry(int status, bool html, string reason)
    {
        await using var tracker = new ScriptedHttpTracker(_ =>
            html ? ScriptedReply.Html(status) : new ScriptedReply(status, "oops"u8.ToArray()));
        var coordinator = CreateTestProbe();
        Sys.ActorOf(TrackerActor.Props(Context(tracker.AnnounceUrl), coordinator));

        var failed = await Next<TrackerActor.TrackerStatus>(coordinator);
        Assert.False(failed.Ok);
        Assert.Contains(reason, failed.Message, StringComparison.Ordinal);
        var first = await tracker.NextRequestAsync();
        var second = await tracker.NextRequestAsync();
        var third = await tracker.NextRequestAsync();
        // Backoff: at least min-backoff less jitter, and the second wait not shorter than the first's minimum.
        Assert.True(second.At - first.At >= TimeSpan.FromMilliseconds(200), $"{second.At - first.At}");
        Assert.True(third.At - second.At >= TimeSpan.FromMilliseconds(400), $"{third.At - second.At}");
    }

    [Fact]
    public async Task A_dead_first_tier_falls_through_to_the_second()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Peers([Peer(7004)]));
        var dead = $"http://127.0.0.1:{ClosedPort()}/announce";
        var coordinator = CreateTestProbe();
        Sys.ActorOf(TrackerActor.Props(Context(dead, tracker.AnnounceUrl), coordinator));

        var deadStatus = await Next<TrackerActor.TrackerStatus>(coordinator);
        Assert.Equal(dead, deadStatus.Tracker);
        Assert.False(deadStatus.Ok);
        Assert.Contains("connection failed", deadStatus.Message, StringComparison.Ordinal);
        var found = await Next<TrackerActor.PeersFound>(coordinator);
        Assert.Equal((tracker.AnnounceUrl, Peer(7004)), (found.Tracker, found.Peers.Single()));
    }

    [Fact]
    public async Task Unsupported_schemes_are_reported_once_and_skipped()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Peers([Peer(7005)]));
        var coordinator = CreateTestProbe();
        Sys.ActorOf(TrackerActor.Props(Context("wss://127.0.0.1:6969/announce", tracker.AnnounceUrl), coordinator));

        var skipped = await Next<TrackerActor.TrackerStatus>(coordinator);
        Assert.Equal(("wss://127.0.0.1:6969/announce", false,
                "unsupported tracker URL (wss://): only http, https and udp trackers are used"),
            (skipped.Tracker, skipped.Ok, skipped.Message));
        Assert.Equal(tracker.AnnounceUrl, (await Next<TrackerActor.PeersFound>(coordinator)).Tracker);
        await coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Tracker_warnings_reach_the_coordinator()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Peers([Peer(7006)], warning: "slow down"));
        var coordinator = CreateTestProbe();
        Sys.ActorOf(TrackerActor.Props(Context(tracker.AnnounceUrl), coordinator));

        var status = await Next<TrackerActor.TrackerStatus>(coordinator);
        Assert.True(status.Ok);
        Assert.Equal("warning: slow down", status.Message);
    }

    [Fact]
    public async Task AnnounceNow_completed_is_sent_at_once()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Peers([Peer(7007)]));
        var coordinator = CreateTestProbe();
        var actor = Sys.ActorOf(TrackerActor.Props(Context(tracker.AnnounceUrl), coordinator));
        await tracker.NextRequestAsync();
        await Next<TrackerActor.PeersFound>(coordinator);

        actor.Tell(new TrackerActor.UpdateTransfer(0, 40_000, 0));
        actor.Tell(new TrackerActor.AnnounceNow(AnnounceEvent.Completed));

        var completed = await tracker.NextRequestAsync(TimeSpan.FromSeconds(3));
        Assert.Equal("completed", completed.Text("event"));
        Assert.Equal(0, completed.Number("left"));
    }

    [Fact]
    public async Task AnnounceStopped_sends_stopped_and_replies()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Peers([Peer(7008)]));
        var coordinator = CreateTestProbe();
        var actor = Sys.ActorOf(TrackerActor.Props(Context(tracker.AnnounceUrl), coordinator));
        await tracker.NextRequestAsync();
        await Next<TrackerActor.PeersFound>(coordinator);

        actor.Tell(TrackerActor.AnnounceStopped.Instance, TestActor);

        var stopped = await tracker.NextRequestAsync(TimeSpan.FromSeconds(3));
        Assert.Equal(("stopped", 0L), (stopped.Text("event"), stopped.Number("numwant")!.Value));
        await ExpectMsgAsync<TrackerActor.StoppedAnnounced>(TimeSpan.FromSeconds(3));
        // Stopped for good: no more announces, and a second request is answered at once.
        Assert.True(await tracker.NoRequestWithinAsync(TimeSpan.FromMilliseconds(500)));
        actor.Tell(TrackerActor.AnnounceStopped.Instance, TestActor);
        await ExpectMsgAsync<TrackerActor.StoppedAnnounced>(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task AnnounceStopped_is_bounded_by_the_timeout_when_the_tracker_hangs()
    {
        var hang = false;
        await using var tracker = new ScriptedHttpTracker(_ =>
            Volatile.Read(ref hang) ? ScriptedReply.Hanging() : ScriptedReply.Peers([Peer(7009)]));
        var coordinator = CreateTestProbe();
        var actor = Sys.ActorOf(TrackerActor.Props(Context(tracker.AnnounceUrl), coordinator));
        await tracker.NextRequestAsync();
        await Next<TrackerActor.PeersFound>(coordinator);
        Volatile.Write(ref hang, true);

        var started = DateTime.UtcNow;
        actor.Tell(TrackerActor.AnnounceStopped.Instance, TestActor);

        Assert.Equal("stopped", (await tracker.NextRequestAsync(TimeSpan.FromSeconds(3))).Text("event"));
        // Tracker timeout is 1.5 s in these settings: the reply comes soon after it, never much later.
        await ExpectMsgAsync<TrackerActor.StoppedAnnounced>(TimeSpan.FromSeconds(4));
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1.2), TimeSpan.FromSeconds(4));
        var status = await Next<TrackerActor.TrackerStatus>(coordinator);
        Assert.False(status.Ok);
        Assert.Contains("timed out", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnnounceStopped_before_any_tracker_answered_replies_at_once()
    {
        var context = Context($"http://127.0.0.1:{ClosedPort()}/announce");
        var actor = Sys.ActorOf(TrackerActor.Props(context, CreateTestProbe()));

        actor.Tell(TrackerActor.AnnounceStopped.Instance, TestActor);

        await ExpectMsgAsync<TrackerActor.StoppedAnnounced>(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Supervised_tracker_restarts_after_a_crash_and_still_reports_to_the_coordinator()
    {
        var calls = 0;
        var transport = new CrashOnceTransport(() => Interlocked.Increment(ref calls) == 1);
        var coordinator = CreateTestProbe();
        var supervisor = Sys.ActorOf(TrackerActor.SupervisedProps(Context("http://127.0.0.1:1/announce"), coordinator,
            transport));

        var found = await Next<TrackerActor.PeersFound>(coordinator);
        Assert.Equal([Peer(7010)], found.Peers);
        Assert.Equal(2, Volatile.Read(ref calls));

        supervisor.Tell(TrackerActor.AnnounceStopped.Instance, TestActor);
        await ExpectMsgAsync<TrackerActor.StoppedAnnounced>(TimeSpan.FromSeconds(3));
    }

    private static async Task<T> Next<T>(TestProbe probe) =>
        (T)await probe.FishForMessageAsync(m => m is T, Wait);

    /// <summary>Throws synchronously on its first call: a bug in the actor's path, which supervision must absorb.</summary>
    private sealed class CrashOnceTransport(Func<bool> crash) : ITrackerTransport
    {
        public bool Supports(string url) => true;

        public Task<AnnounceResult> AnnounceAsync(string url, AnnounceRequest request, CancellationToken cancellationToken) =>
            crash()
                ? throw new InvalidOperationException("transport bug")
                : Task.FromResult(FuncTransport.Answer(TimeSpan.FromMinutes(30), null, Peer(7010)));
    }
}
