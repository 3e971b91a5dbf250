using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Akka.Configuration;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Trackers;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.Trackers;

internal static class TrackerTestSupport
{
    /// <summary>Short backoffs and timeout so retries and bounded stops happen within a test's patience.</summary>
    public const string ShortTrackerOverlay =
        "bta.tracker { min-backoff = 300ms, max-backoff = 1200ms, timeout = 1500ms, numwant = 50 }";

    public static BtaSettings Settings(string overlay = "")
    {
        // Within one HOCON text a later key wins, so the test's own overlay beats the short defaults.
        return BtaSettings.FromConfig(TestTorrents.LoadConfig(ShortTrackerOverlay + "\n" + overlay));
    }

    /// <summary>A fresh single-file torrent (random content, so a fresh info-hash) announcing to the given tiers.</summary>
    public static TorrentContext Context(
        IReadOnlyList<IReadOnlyList<string>> tiers, int listenPort = 6881, PeerId? peerId = null, BtaSettings? settings = null)
    {
        var content = RandomNumberGenerator.GetBytes(40_000);
        var torrent = TorrentBuilder.Build("payload.bin", 16 * 1024, [("payload.bin", content)], tiers, singleFile: true);
        var parsed = TorrentMetainfo.Parse(torrent);
        Assert.True(parsed.Success, parsed.Error);
        return new TorrentContext(parsed.Metainfo, peerId ?? PeerId.Generate(), Path.GetTempPath(),
            settings ?? Settings(), listenPort);
    }

    public static TorrentContext Context(params string[] singleTrackerTiers) =>
        Context(singleTrackerTiers.Select(u => (IReadOnlyList<string>)[u]).ToList());

    /// <summary>A port nothing listens on: bound, read back and released (connection refused on 127.0.0.1).</summary>
    public static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static IPEndPoint Peer(int port) => new(IPAddress.Loopback, port);

    /// <summary>Tracker text that would forge a log line and clear the terminal, and what it must become.</summary>
    public const string ForgedText = "denied\n[12:00:00 INF] Complete: 100 % verified\u001b[2J";
    public const string EscapedText = "denied\\n[12:00:00 INF] Complete: 100 % verified\\x1B[2J";

    /// <summary>Issue 17 item 10: a tracker's words leave the transport escaped and capped.</summary>
    public static void AssertSanitized(string? text)
    {
        Assert.NotNull(text);
        Assert.StartsWith(EscapedText, text);
        Assert.DoesNotContain(text, char.IsControl);
        Assert.True(text.Length <= BitTorrentActors.Protocol.Text.RemoteText.MaxLength, $"{text.Length} characters");
        Assert.EndsWith("...", text);
    }
}

/// <summary>
/// Real HTTP underneath, with the interval rewritten: the codec clamps intervals to at least 30 s, which is
/// right for the internet and too slow for a test of "the actor waits as long as the tracker says".
/// </summary>
internal sealed class ShortIntervalTransport(ITrackerTransport inner, TimeSpan interval) : ITrackerTransport
{
    public bool Supports(string url) => inner.Supports(url);

    public async Task<AnnounceResult> AnnounceAsync(string url, AnnounceRequest request, CancellationToken cancellationToken)
    {
        var result = await inner.AnnounceAsync(url, request, cancellationToken);
        return result.Response is { } r ? AnnounceResult.Ok(r with { Interval = interval, MinInterval = null }) : result;
    }
}

/// <summary>A transport answering from a function, recording every call (URL, request, time).</summary>
internal sealed class FuncTransport(Func<int, AnnounceRequest, AnnounceResult> answer) : ITrackerTransport
{
    public ConcurrentQueue<(string Url, AnnounceRequest Request, DateTime At)> Calls { get; } = new();

    public bool Supports(string url) => url.StartsWith("http://", StringComparison.Ordinal);

    public Task<AnnounceResult> AnnounceAsync(string url, AnnounceRequest request, CancellationToken cancellationToken)
    {
        Calls.Enqueue((url, request, DateTime.UtcNow));
        return Task.FromResult(answer(Calls.Count, request));
    }

    public static AnnounceResult Answer(TimeSpan interval, TimeSpan? minInterval, params IPEndPoint[] peers) =>
        AnnounceResult.Ok(new AnnounceResponse(interval, minInterval, null, 1, 1, peers, null));
}
