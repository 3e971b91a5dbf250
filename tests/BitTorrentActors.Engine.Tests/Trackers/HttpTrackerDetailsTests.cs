using System.Text;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Trackers;
using static BitTorrentActors.Engine.Tests.Trackers.TrackerTestSupport;

namespace BitTorrentActors.Engine.Tests.Trackers;

/// <summary>HTTP scrape (BEP 48) and the misbehaving HTTP trackers of issue 5, against a scripted tracker.</summary>
public sealed class HttpTrackerDetailsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly InfoHash _hash = Context("http://x/announce").InfoHash;

    [Fact]
    public async Task Scrape_uses_the_scrape_url_convention_and_returns_the_counts()
    {
        await using var tracker = new ScriptedHttpTracker(r => r.Target.StartsWith("/scrape?", StringComparison.Ordinal)
            ? new ScriptedReply(200, ScrapeBody(_hash, complete: 5, downloaded: 9, incomplete: 7))
            : ScriptedReply.Failure("not a scrape"));

        var result = await new HttpTrackerTransport(Timeout).ScrapeAsync(tracker.AnnounceUrl, [_hash], CancellationToken.None);

        Assert.True(result.Success, result.Failure?.Reason);
        Assert.Equal(new ScrapeEntry(_hash, 5, 7, 9), result.Files![_hash]);
        Assert.Equal(_hash.ToArray(), (await tracker.NextRequestAsync()).Query["info_hash"]);
    }

    [Theory]
    [InlineData(500, "plain", "HTTP 500")]
    [InlineData(200, "html", "")]
    [InlineData(200, "failure", "scrape refused")]
    public async Task Scrape_failures_are_reasons_not_exceptions(int status, string kind, string reason)
    {
        await using var tracker = new ScriptedHttpTracker(_ => kind switch
        {
            "html" => ScriptedReply.Html(status),
            "failure" => ScriptedReply.Failure("scrape refused"),
            _ => new ScriptedReply(status, "oops"u8.ToArray()),
        });

        var result = await new HttpTrackerTransport(Timeout).ScrapeAsync(tracker.AnnounceUrl, [_hash], CancellationToken.None);

        Assert.False(result.Success);
        Assert.Contains(reason, result.Failure!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tracker_without_a_scrape_url_says_so()
    {
        var result = await new HttpTrackerTransport(Timeout).ScrapeAsync("http://127.0.0.1:1/tracker.php", [_hash],
            CancellationToken.None);

        Assert.Equal("no scrape URL (the path does not end in /announce...)", result.Failure?.Reason);
    }

    [Fact]
    public async Task A_redirect_loop_ends_after_the_redirect_limit()
    {
        await using var tracker = new ScriptedHttpTracker(_ => new ScriptedReply(302, [], Location: "/announce"));

        var result = await new HttpTrackerTransport(Timeout).AnnounceAsync(tracker.AnnounceUrl, Request(),
            CancellationToken.None);

        Assert.Equal($"HTTP 302: more than {HttpTrackerTransport.MaxRedirects} redirects", result.Failure?.Reason);
    }

    [Fact]
    public async Task A_failure_reason_is_the_trackers_words()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Failure("Unregistered torrent"));

        var result = await new HttpTrackerTransport(Timeout).AnnounceAsync(tracker.AnnounceUrl, Request(),
            CancellationToken.None);

        Assert.Equal(("Unregistered torrent", true), (result.Failure?.Reason, result.Failure!.FromTracker));
    }

    private static byte[] ScrapeBody(InfoHash hash, int complete, int downloaded, int incomplete)
    {
        var body = new MemoryStream();
        body.Write("d5:filesd20:"u8);
        body.Write(hash.ToArray());
        body.Write(Encoding.ASCII.GetBytes(
            $"d8:completei{complete}e10:downloadedi{downloaded}e10:incompletei{incomplete}eeee"));
        return body.ToArray();
    }

    private static AnnounceRequest Request()
    {
        var context = Context("http://127.0.0.1:1/announce");
        return new AnnounceRequest(context.InfoHash, context.LocalPeerId.Span.ToArray(), 6881, 0, 0, 1,
            AnnounceEvent.Started, 50, 7, null);
    }
}
