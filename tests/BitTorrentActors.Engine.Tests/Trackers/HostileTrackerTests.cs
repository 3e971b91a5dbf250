using System.Net;
using System.Text;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Trackers;
using static BitTorrentActors.Engine.Tests.Trackers.TrackerTestSupport;

namespace BitTorrentActors.Engine.Tests.Trackers;

/// <summary>
/// The hostile trackers of issue 17 that held (a 100 MB body, a million-deep reply, 100,000 peers, interval 0 or
/// negative), kept as tests so they keep holding. Silent trackers, dead ports and redirect loops are covered in
/// <see cref="HttpTrackerTransportTests"/>, <see cref="HttpTrackerDetailsTests"/> and <see cref="TrackerActorTests"/>.
/// </summary>
public sealed class HostileTrackerTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_100_MB_body_without_a_length_is_refused_after_reading_little_more_than_the_cap()
    {
        const long hundredMegabytes = 100L * 1000 * 1000;
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Endless(hundredMegabytes));
        var transport = new HttpTrackerTransport(Timeout);

        var result = await transport.AnnounceAsync(tracker.AnnounceUrl, Request(), CancellationToken.None);
        await Task.Delay(300);

        Assert.Equal($"response over {HttpTrackerCodec.DefaultMaxBodyBytes} bytes", result.Failure?.Reason);
        // The cap plus what the loopback socket buffers hold (a few MB); reading it all would be 100 MB.
        Assert.InRange(tracker.StreamedBytes, HttpTrackerCodec.DefaultMaxBodyBytes, 24L * 1024 * 1024);
    }

    [Fact]
    public async Task A_reply_nested_a_million_deep_is_refused_without_overflowing_the_stack()
    {
        const int depth = 1_000_000;
        var body = Encoding.ASCII.GetBytes(new string('l', depth) + new string('e', depth));
        await using var tracker = new ScriptedHttpTracker(_ => new ScriptedReply(200, body));
        var transport = new HttpTrackerTransport(Timeout);

        var result = await transport.AnnounceAsync(tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.False(result.Success);
        Assert.Contains("nesting deeper than", result.Failure!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reply_with_100000_peers_is_parsed_whole_and_reaches_the_coordinator_once()
    {
        var peers = ManyPeers(100_000);
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Peers(peers));
        var coordinator = CreateTestProbe();

        Sys.ActorOf(TrackerActor.Props(Context(tracker.AnnounceUrl), coordinator));

        var request = await tracker.NextRequestAsync();
        var found = (TrackerActor.PeersFound)await coordinator.FishForMessageAsync(m => m is TrackerActor.PeersFound, Timeout);
        Assert.Equal(50, request.Number("numwant"));
        Assert.Equal(100_000, found.Peers.Count);
        Assert.True(await tracker.NoRequestWithinAsync(TimeSpan.FromSeconds(2)), "the tracker was asked again at once");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("-9223372036854775808")]
    public async Task Interval_zero_or_negative_never_makes_the_actor_hammer_the_tracker(string interval)
    {
        var body = Encoding.ASCII.GetBytes($"d8:intervali{interval}e12:min intervali{interval}e5:peers6:")
            .Concat(new byte[] { 127, 0, 0, 1, 0x1B, 0x59 }).Append((byte)'e').ToArray();
        await using var tracker = new ScriptedHttpTracker(_ => new ScriptedReply(200, body));
        var coordinator = CreateTestProbe();

        Sys.ActorOf(TrackerActor.Props(Context(tracker.AnnounceUrl), coordinator));

        await tracker.NextRequestAsync();
        var found = (TrackerActor.PeersFound)await coordinator.FishForMessageAsync(m => m is TrackerActor.PeersFound, Timeout);
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 7001)], found.Peers);
        // The codec clamps to TrackerIntervals.Minimum (30 s); unclamped, the next announce would follow at once.
        Assert.True(await tracker.NoRequestWithinAsync(TimeSpan.FromSeconds(3)), $"interval {interval} was obeyed");
    }

    /// <summary>Distinct loopback peers: 127.0.x.y on ports 10000 upwards.</summary>
    internal static IReadOnlyList<IPEndPoint> ManyPeers(int count) =>
        Enumerable.Range(0, count)
            .Select(i => new IPEndPoint(new IPAddress([127, 0, (byte)(i / 250), (byte)(1 + (i % 250))]), 10_000 + (i % 50_000)))
            .ToList();

    private static AnnounceRequest Request()
    {
        var context = Context("http://127.0.0.1:1/announce");
        return new AnnounceRequest(context.InfoHash, context.LocalPeerId.Span.ToArray(), 6881, 0, 0, 1,
            AnnounceEvent.Started, 50, 7, null);
    }
}
