using System.Net;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Trackers;
using static BitTorrentActors.Engine.Tests.Trackers.TrackerTestSupport;

namespace BitTorrentActors.Engine.Tests.Trackers;

/// <summary>BEP 15 against a scripted tracker on 127.0.0.1, each test with its own socket and a 100 ms base timeout.</summary>
public sealed class UdpTrackerTransportTests : IDisposable
{
    private static readonly TimeSpan Base = TimeSpan.FromMilliseconds(100);
    private readonly UdpTrackerSocket _socket = new();
    private readonly ScriptedUdpTracker _tracker = new();

    [Fact]
    public async Task Connects_then_announces_with_the_connection_id_and_returns_the_peers()
    {
        var request = Request(left: 12345);

        var result = await Transport().AnnounceAsync(_tracker.AnnounceUrl, request, CancellationToken.None);

        Assert.True(result.Success, result.Failure?.Reason);
        Assert.Equal(_tracker.AnnouncePeers, result.Response!.Peers);
        Assert.Equal((3, 4), (result.Response.Complete, result.Response.Incomplete));
        var announce = Assert.Single(_tracker.Of(UdpTrackerAction.Announce));
        Assert.Equal(ScriptedUdpTracker.DefaultConnectionId, announce.ConnectionId);
        Assert.Equal((2, 12345L, 6881), (announce.Event, announce.Left, announce.Port));
        Assert.Equal(request.InfoHash.ToArray(), announce.Datagram[16..36]);
    }

    [Fact]
    public async Task The_connection_id_is_reused_for_later_announces()
    {
        var transport = Transport();

        await transport.AnnounceAsync(_tracker.AnnounceUrl, Request(), CancellationToken.None);
        var second = await transport.AnnounceAsync(_tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.True(second.Success, second.Failure?.Reason);
        Assert.Single(_tracker.Of(UdpTrackerAction.Connect));
        Assert.Equal(2, _tracker.Of(UdpTrackerAction.Announce).Count);
        // Each request has its own random transaction id.
        Assert.Equal(3, _tracker.Seen.Select(s => s.TransactionId).Distinct().Count());
    }

    [Fact]
    public async Task Dropped_requests_are_retransmitted_with_doubling_waits()
    {
        _tracker.Respond = seen => seen.Action == UdpTrackerAction.Connect && seen.Index < 2 ? [] : _tracker.Default(seen);

        var result = await Transport(attempts: 4).AnnounceAsync(_tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.True(result.Success, result.Failure?.Reason);
        var connects = _tracker.Of(UdpTrackerAction.Connect);
        Assert.Equal(3, connects.Count);
        // The same request again: same transaction id, waits of about 100 ms then 200 ms.
        Assert.Single(connects.Select(c => c.TransactionId).Distinct());
        var first = connects[1].At - connects[0].At;
        var both = connects[2].At - connects[0].At;
        // Lower bounds are the schedule (100 ms, then 200 ms more: 300 ms in all, where equal waits would give 200);
        // upper bounds leave room for a busy machine. The second wait alone is not bounded below: when the tracker
        // sees the first resend late on a loaded CI machine, the gap it measures to the second shrinks (182 ms seen).
        Assert.InRange(first, TimeSpan.FromMilliseconds(90), TimeSpan.FromMilliseconds(300));
        Assert.InRange(both, TimeSpan.FromMilliseconds(290), TimeSpan.FromMilliseconds(900));
    }

    [Fact]
    public async Task A_reply_with_a_wrong_transaction_id_is_ignored_and_the_right_one_accepted()
    {
        _tracker.Respond = seen => seen.Action == UdpTrackerAction.Connect
            ? [ScriptedUdpTracker.Connect(seen.TransactionId ^ 0x5A5A, 666), ScriptedUdpTracker.Connect(seen.TransactionId, 777)]
            : _tracker.Default(seen);

        var result = await Transport().AnnounceAsync(_tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.True(result.Success, result.Failure?.Reason);
        Assert.Equal(777, Assert.Single(_tracker.Of(UdpTrackerAction.Announce)).ConnectionId);
        Assert.True(_socket.IgnoredDatagrams >= 1);
    }

    [Fact]
    public async Task Only_wrong_transaction_ids_end_in_a_timeout()
    {
        _tracker.Respond = seen => [ScriptedUdpTracker.Connect(seen.TransactionId + 1, 666)];

        var result = await Transport(attempts: 2).AnnounceAsync(_tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.Equal("no connect reply after 2 sends (0.3 s)", result.Failure?.Reason);
        Assert.Equal(2, _socket.IgnoredDatagrams);
        Assert.Empty(_tracker.Of(UdpTrackerAction.Announce));
    }

    [Fact]
    public async Task An_error_packet_is_the_trackers_message_and_the_next_announce_connects_again()
    {
        _tracker.Respond = seen => seen.Action == UdpTrackerAction.Announce && seen.Index == 0
            ? [ScriptedUdpTracker.Error(seen.TransactionId, "Requested download is not authorized for use with this tracker.")]
            : _tracker.Default(seen);
        var transport = Transport();

        var refused = await transport.AnnounceAsync(_tracker.AnnounceUrl, Request(), CancellationToken.None);
        var accepted = await transport.AnnounceAsync(_tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.Equal(("Requested download is not authorized for use with this tracker.", true),
            (refused.Failure?.Reason, refused.Failure!.FromTracker));
        Assert.True(accepted.Success, accepted.Failure?.Reason);
        Assert.Equal(2, _tracker.Of(UdpTrackerAction.Connect).Count);
    }

    [Fact]
    public async Task A_silent_tracker_fails_after_the_configured_sends()
    {
        _tracker.Respond = _ => [];
        var started = DateTime.UtcNow;

        var result = await Transport(attempts: 3).AnnounceAsync(_tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.Equal("no connect reply after 3 sends (0.7 s)", result.Failure?.Reason);
        Assert.Equal(3, _tracker.Of(UdpTrackerAction.Connect).Count);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(650), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Garbage_and_wrong_actions_are_failures_not_exceptions()
    {
        _tracker.Respond = seen => seen.Action == UdpTrackerAction.Connect
            ? _tracker.Default(seen)
            : [ScriptedUdpTracker.Scrape(seen.TransactionId, (1, 1, 1))];

        var result = await Transport().AnnounceAsync(_tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.Equal("reply with action Scrape to a Announce request", result.Failure?.Reason);
    }

    [Fact]
    public async Task Scrape_returns_the_counts_in_request_order()
    {
        var hashes = new[] { Context("http://x/announce").InfoHash, Context("http://x/announce").InfoHash };
        _tracker.Respond = seen => seen.Action == UdpTrackerAction.Scrape
            ? [ScriptedUdpTracker.Scrape(seen.TransactionId, (1, 2, 3), (4, 5, 6))]
            : _tracker.Default(seen);

        var result = await Transport().ScrapeAsync(_tracker.AnnounceUrl, hashes, CancellationToken.None);

        Assert.True(result.Success, result.Failure?.Reason);
        Assert.Equal(new ScrapeEntry(hashes[0], 1, 3, 2), result.Files![hashes[0]]);
        Assert.Equal(new ScrapeEntry(hashes[1], 4, 6, 5), result.Files[hashes[1]]);
        var scrape = Assert.Single(_tracker.Of(UdpTrackerAction.Scrape));
        Assert.Equal(hashes[1].ToArray(), scrape.Datagram[36..56]);
    }

    [Theory]
    [InlineData("udp://127.0.0.1/announce")]
    [InlineData("udp:///announce")]
    public async Task A_url_without_host_or_port_is_refused(string url)
    {
        var result = await Transport().AnnounceAsync(url, Request(), CancellationToken.None);

        Assert.Equal("not a udp://host:port URL", result.Failure?.Reason);
    }

    [Fact]
    public async Task Hostnames_are_resolved()
    {
        var result = await Transport().AnnounceAsync($"udp://localhost:{_tracker.Port}/announce", Request(),
            CancellationToken.None);

        Assert.True(result.Success, result.Failure?.Reason);
    }

    [Fact]
    public void The_composite_chooses_by_scheme_and_refuses_others()
    {
        var composite = new CompositeTrackerTransport(new HttpTrackerTransport(TimeSpan.FromSeconds(1)), Transport());

        Assert.True(composite.Supports("udp://127.0.0.1:1/announce"));
        Assert.True(composite.Supports("https://tracker.example/announce"));
        Assert.False(composite.Supports("wss://tracker.example/announce"));
        Assert.Equal("unsupported tracker URL (wss://): only http, https and udp trackers are used",
            CompositeTrackerTransport.Unsupported("wss://tracker.example/announce"));
    }

    public void Dispose()
    {
        _tracker.Dispose();
        _socket.Dispose();
    }

    [Fact]
    public async Task An_error_message_is_escaped_and_capped()
    {
        _tracker.Respond = seen => seen.Action == UdpTrackerAction.Announce
            ? [ScriptedUdpTracker.Error(seen.TransactionId, ForgedText + new string('z', 1000))]
            : _tracker.Default(seen);

        var result = await Transport().AnnounceAsync(_tracker.AnnounceUrl, Request(), CancellationToken.None);

        AssertSanitized(result.Failure?.Reason);
    }

    private UdpTrackerTransport Transport(int attempts = 3) => new(Base, attempts, _socket);

    internal static AnnounceRequest Request(long left = 1)
    {
        var context = Context("udp://127.0.0.1:1/announce");
        return new AnnounceRequest(context.InfoHash, context.LocalPeerId.Span.ToArray(), 6881, 0, 0, left,
            AnnounceEvent.Started, 50, 7, null);
    }
}
