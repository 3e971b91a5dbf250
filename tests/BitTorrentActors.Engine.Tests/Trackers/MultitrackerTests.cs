using System.Net;
using Akka.Actor;
using Akka.Event;
using Akka.TestKit;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Bencode;
using BitTorrentActors.Protocol.Trackers;
using static BitTorrentActors.Engine.Tests.Trackers.TrackerTestSupport;

namespace BitTorrentActors.Engine.Tests.Trackers;

/// <summary>The tracker actor with UDP, several tiers, per-tracker backoff and the HTTP details of issue 5.</summary>
public sealed class MultitrackerTests : Akka.TestKit.Xunit2.TestKit
{
    private const string ShortUdp = "bta.tracker { udp-base-timeout = 100ms, udp-attempts = 2 }";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Udp_tracker_peers_reach_the_coordinator_through_the_default_transport()
    {
        using var tracker = new ScriptedUdpTracker();
        var coordinator = CreateTestProbe();

        Sys.ActorOf(TrackerActor.Props(Context([[tracker.AnnounceUrl]], settings: Settings(ShortUdp)), coordinator));

        var found = await Next<TrackerActor.PeersFound>(coordinator);
        Assert.Equal(tracker.AnnounceUrl, found.Tracker);
        Assert.Equal(tracker.AnnouncePeers, found.Peers);
        Assert.Equal(2, Assert.Single(tracker.Of(UdpTrackerAction.Announce)).Event);
    }

    [Fact]
    public async Task A_udp_error_packet_is_reported_as_the_trackers_message()
    {
        using var tracker = new ScriptedUdpTracker(seen => seen.Action == UdpTrackerAction.Connect
            ? [ScriptedUdpTracker.Connect(seen.TransactionId, 1)]
            : [ScriptedUdpTracker.Error(seen.TransactionId, "torrent not registered")]);
        var coordinator = CreateTestProbe();

        Sys.ActorOf(TrackerActor.Props(Context([[tracker.AnnounceUrl]], settings: Settings(ShortUdp)), coordinator));

        var status = await Next<TrackerActor.TrackerStatus>(coordinator);
        Assert.Equal((tracker.AnnounceUrl, false, "torrent not registered"), (status.Tracker, status.Ok, status.Message));
    }

    [Fact]
    public async Task A_silent_udp_first_tier_falls_through_to_a_working_second_tier()
    {
        using var dead = new ScriptedUdpTracker(_ => []);
        await using var http = new ScriptedHttpTracker(_ => ScriptedReply.Peers([Peer(7301)]));
        var coordinator = CreateTestProbe();

        Sys.ActorOf(TrackerActor.Props(Context([[dead.AnnounceUrl], [http.AnnounceUrl]], settings: Settings(ShortUdp)),
            coordinator));

        var deadStatus = await Next<TrackerActor.TrackerStatus>(coordinator);
        Assert.Equal((dead.AnnounceUrl, false), (deadStatus.Tracker, deadStatus.Ok));
        Assert.Contains("no connect reply after 2 sends", deadStatus.Message, StringComparison.Ordinal);
        var found = await Next<TrackerActor.PeersFound>(coordinator);
        Assert.Equal((http.AnnounceUrl, Peer(7301)), (found.Tracker, found.Peers.Single()));
    }

    [Fact]
    public async Task A_failing_tracker_backs_off_while_the_next_tier_keeps_answering()
    {
        const string dead = "http://127.0.0.1:1/dead";
        const string alive = "http://127.0.0.1:1/alive";
        var transport = new UrlTransport(url => url == dead
            ? AnnounceResult.Fail(new TrackerFailure("connection failed: ConnectionRefused"))
            : FuncTransport.Answer(TimeSpan.FromMilliseconds(100), null, Peer(7302)));
        Sys.ActorOf(TrackerActor.Props(Context(dead, alive), CreateTestProbe(), transport));

        await Task.Delay(TimeSpan.FromSeconds(2));

        var calls = transport.Calls.ToArray();
        var deadCalls = calls.Count(c => c.Url == dead);
        var aliveCalls = calls.Count(c => c.Url == alive);
        // Backoff 300 ms, 600 ms, 1200 ms (+-20 %) for the dead one; the live one every 100 ms or so.
        Assert.InRange(deadCalls, 2, 5);
        Assert.True(aliveCalls >= 8, $"alive {aliveCalls}, dead {deadCalls}");
        Assert.Equal(dead, calls[0].Url);
    }

    [Fact]
    public async Task A_warning_is_logged_once_per_change()
    {
        var warning = "slow down";
        var transport = new UrlTransport(_ => AnnounceResult.Ok(new AnnounceResponse(TimeSpan.FromMilliseconds(50), null,
            null, 1, 1, [Peer(7303)], Volatile.Read(ref warning))));
        var logs = CreateTestProbe();
        Sys.EventStream.Subscribe(logs.Ref, typeof(Warning));
        Sys.ActorOf(TrackerActor.Props(Context("http://127.0.0.1:1/announce"), CreateTestProbe(), transport));

        await AwaitConditionAsync(() => Task.FromResult(transport.Calls.Count >= 5), Wait);
        Volatile.Write(ref warning, "slower, please");
        var changedAt = transport.Calls.Count;
        await AwaitConditionAsync(() => Task.FromResult(transport.Calls.Count >= changedAt + 5), Wait);

        var warnings = new List<string>();
        while (logs.HasMessages)
        {
            warnings.Add(logs.ReceiveOne(TimeSpan.Zero)!.ToString()!);
        }
        Assert.Single(warnings, w => w.Contains("slow down", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains("slower, please", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tracker_id_is_echoed_on_later_announces()
    {
        var reply = new ScriptedReply(200, BencodeEncoder.Encode(BDictionary.From(
            ("interval", new BInteger(1800)),
            ("tracker id", new BString("abc-42")),
            ("peers", new BString(CompactPeers.EncodeIPv4([Peer(7304)]))))));
        await using var tracker = new ScriptedHttpTracker(_ => reply);
        var context = Context(tracker.AnnounceUrl);
        var transport = new ShortIntervalTransport(HttpTrackerTransport.FromSettings(context.Settings.Tracker),
            TimeSpan.FromMilliseconds(300));
        Sys.ActorOf(TrackerActor.Props(context, CreateTestProbe(), transport));

        var first = await tracker.NextRequestAsync();
        var second = await tracker.NextRequestAsync();

        Assert.Null(first.Text("trackerid"));
        Assert.Equal("abc-42", second.Text("trackerid"));
    }

    [Fact]
    public async Task Completed_announces_left_zero_even_before_the_next_transfer_update()
    {
        var transport = new UrlTransport(_ => FuncTransport.Answer(TimeSpan.FromMinutes(30), null, Peer(7305)));
        var actor = Sys.ActorOf(TrackerActor.Props(Context("http://127.0.0.1:1/announce"), CreateTestProbe(), transport));
        await AwaitConditionAsync(() => Task.FromResult(transport.Calls.Count == 1), Wait);

        actor.Tell(new TrackerActor.UpdateTransfer(5, 30_000, 10_000));
        actor.Tell(new TrackerActor.AnnounceNow(AnnounceEvent.Completed));

        await AwaitConditionAsync(() => Task.FromResult(transport.Calls.Count == 2), Wait);
        var completed = transport.Calls.Last().Request;
        Assert.Equal((AnnounceEvent.Completed, 0L, 30_000L, 5L),
            (completed.Event, completed.Left, completed.Downloaded, completed.Uploaded));
    }

    [Fact]
    public async Task A_private_torrent_announces_only_to_its_own_trackers()
    {
        var transport = new UrlTransport(_ => FuncTransport.Answer(TimeSpan.FromMinutes(30), null, Peer(7306)));
        var context = PrivateContext(["http://127.0.0.1:1/a"], ["http://127.0.0.1:1/b"]);
        Assert.True(context.Metainfo.IsPrivate);
        var coordinator = CreateTestProbe();
        Sys.ActorOf(TrackerActor.Props(context, coordinator, transport));

        var found = await Next<TrackerActor.PeersFound>(coordinator);

        Assert.Equal("http://127.0.0.1:1/a", found.Tracker);
        Assert.All(transport.Calls, c => Assert.StartsWith("http://127.0.0.1:1/", c.Url, StringComparison.Ordinal));
    }

    private static BitTorrentActors.Engine.Torrent.TorrentContext PrivateContext(params string[][] tiers)
    {
        var torrent = BitTorrentActors.Protocol.Metainfo.TorrentBuilder.Build("p.bin", 16 * 1024,
            [("p.bin", new byte[20_000])], tiers, isPrivate: true, singleFile: true);
        var parsed = BitTorrentActors.Protocol.Metainfo.TorrentMetainfo.Parse(torrent);
        return new BitTorrentActors.Engine.Torrent.TorrentContext(parsed.Metainfo!,
            BitTorrentActors.Protocol.Wire.PeerId.Generate(), Path.GetTempPath(), Settings(), 6881);
    }

    private static async Task<T> Next<T>(TestProbe probe) =>
        (T)await probe.FishForMessageAsync(m => m is T, Wait);

    /// <summary>Answers by URL and records every call.</summary>
    private sealed class UrlTransport(Func<string, AnnounceResult> answer) : ITrackerTransport
    {
        public System.Collections.Concurrent.ConcurrentQueue<(string Url, AnnounceRequest Request)> Calls { get; } = new();

        public bool Supports(string url) => url.StartsWith("http://", StringComparison.Ordinal);

        public Task<AnnounceResult> AnnounceAsync(string url, AnnounceRequest request, CancellationToken cancellationToken)
        {
            Calls.Enqueue((url, request));
            return Task.FromResult(answer(url));
        }
    }
}
