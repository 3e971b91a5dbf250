using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Trackers;
using static BitTorrentActors.Engine.Tests.Trackers.TrackerTestSupport;

namespace BitTorrentActors.Engine.Tests.Trackers;

public sealed class HttpTrackerTransportTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_body_over_the_cap_is_refused()
    {
        await using var tracker = new ScriptedHttpTracker(_ => new ScriptedReply(200, new byte[5000]));
        var transport = new HttpTrackerTransport(Timeout, maxBodyBytes: 1000);

        var result = await transport.AnnounceAsync(tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.Equal("response over 1000 bytes", result.Failure?.Reason);
    }

    [Fact]
    public async Task A_gzip_body_is_accepted_and_decoded()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Peers([Peer(7101)]) with { Gzip = true });
        var transport = new HttpTrackerTransport(Timeout);

        var result = await transport.AnnounceAsync(tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.True(result.Success, result.Failure?.Reason);
        Assert.Equal([Peer(7101)], result.Response!.Peers);
        Assert.Contains("gzip", (await tracker.NextRequestAsync()).Headers, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_silent_tracker_times_out()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Hanging());
        var transport = new HttpTrackerTransport(TimeSpan.FromMilliseconds(500));

        var started = DateTime.UtcNow;
        var result = await transport.AnnounceAsync(tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.Equal("timed out after 0.5 s", result.Failure?.Reason);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Http_redirects_are_followed_but_not_to_other_schemes()
    {
        await using var tracker = new ScriptedHttpTracker(r => r.Target.StartsWith("/moved", StringComparison.Ordinal)
            ? new ScriptedReply(302, [], Location: "/announce")
            : r.Target.StartsWith("/udp", StringComparison.Ordinal)
                ? new ScriptedReply(302, [], Location: "udp://127.0.0.1:6969/announce")
                : ScriptedReply.Peers([Peer(7102)]));
        var transport = new HttpTrackerTransport(Timeout);
        var root = $"http://127.0.0.1:{tracker.Port}";

        var followed = await transport.AnnounceAsync(root + "/moved", Request(), CancellationToken.None);
        var refused = await transport.AnnounceAsync(root + "/udp", Request(), CancellationToken.None);

        Assert.True(followed.Success, followed.Failure?.Reason);
        Assert.Equal("HTTP 302 redirect to udp:// not followed (http/https only, no downgrade)", refused.Failure?.Reason);
    }

    [Fact]
    public async Task A_refusal_with_an_error_status_keeps_the_trackers_reason()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Failure("unregistered torrent", 400));
        var transport = new HttpTrackerTransport(Timeout);

        var result = await transport.AnnounceAsync(tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.Equal(("unregistered torrent", true), (result.Failure?.Reason, result.Failure!.FromTracker));
    }

    [Theory]
    [InlineData("udp://127.0.0.1:6969/announce")]
    [InlineData("wss://127.0.0.1:6969/announce")]
    [InlineData("not a url")]
    public async Task Other_schemes_are_unsupported(string url)
    {
        var transport = new HttpTrackerTransport(Timeout);

        var result = await transport.AnnounceAsync(url, Request(), CancellationToken.None);

        Assert.False(transport.Supports(url));
        Assert.Equal("unsupported tracker scheme", result.Failure?.Reason);
    }

    [Fact]
    public async Task AnnounceOnce_walks_the_tiers_until_one_answers()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Peers([Peer(7103)]));
        var dead = $"http://127.0.0.1:{ClosedPort()}/announce";
        var context = Context(dead, "udp://127.0.0.1:6969/announce", tracker.AnnounceUrl);

        var result = await TrackerActor.AnnounceOnceAsync(context, new HttpTrackerTransport(Timeout), CancellationToken.None);

        Assert.True(result.Success, result.Failure?.Reason);
        Assert.Equal([Peer(7103)], result.Response!.Peers);
        Assert.Equal("started", (await tracker.NextRequestAsync()).Text("event"));
    }

    [Fact]
    public async Task AnnounceOnce_names_every_tracker_when_none_answers()
    {
        var deadA = $"http://127.0.0.1:{ClosedPort()}/a";
        var deadB = $"http://127.0.0.1:{ClosedPort()}/b";

        var result = await TrackerActor.AnnounceOnceAsync(Context(deadA, deadB), new HttpTrackerTransport(Timeout),
            CancellationToken.None);

        Assert.False(result.Success);
        Assert.Contains(deadA + ": connection failed", result.Failure!.Reason, StringComparison.Ordinal);
        Assert.Contains(deadB + ": connection failed", result.Failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failure_reason_is_escaped_and_capped()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Failure(ForgedText + new string('z', 100_000)));
        var transport = new HttpTrackerTransport(Timeout);

        var announce = await transport.AnnounceAsync(tracker.AnnounceUrl, Request(), CancellationToken.None);
        var scrape = await transport.ScrapeAsync(tracker.AnnounceUrl, [Request().InfoHash], CancellationToken.None);

        AssertSanitized(announce.Failure?.Reason);
        Assert.True(announce.Failure!.FromTracker);
        AssertSanitized(scrape.Failure?.Reason);
    }

    [Fact]
    public async Task A_warning_message_is_escaped_and_capped()
    {
        await using var tracker = new ScriptedHttpTracker(
            _ => ScriptedReply.Peers([Peer(7301)], warning: ForgedText + new string('z', 100_000)));
        var transport = new HttpTrackerTransport(Timeout);

        var result = await transport.AnnounceAsync(tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.True(result.Success, result.Failure?.Reason);
        AssertSanitized(result.Response!.WarningMessage);
    }

    private static AnnounceRequest Request()
    {
        var context = Context("http://127.0.0.1:1/announce");
        return new AnnounceRequest(context.InfoHash, context.LocalPeerId.Span.ToArray(), 6881, 0, 0, 1, AnnounceEvent.Started,
            50, 7, null);
    }
}
