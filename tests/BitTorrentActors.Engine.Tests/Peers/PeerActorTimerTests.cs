using BitTorrentActors.Engine.Peers;
using Xunit.Abstractions;
using static BitTorrentActors.Engine.Torrent.PieceSchedulerActor;

namespace BitTorrentActors.Engine.Tests.Peers;

public sealed class PeerActorTimerTests(ITestOutputHelper output) : PeerActorTestBase(output)
{
    [Fact]
    public async Task Requests_unanswered_past_the_request_timeout_are_given_back_and_the_pipeline_drops_to_one()
    {
        var probes = NewProbes();
        var blocks = new[] { Block(1, 0), Block(1, 1), Block(2, 0) };
        await StartRequestingAsync(probes, blocks, "bta.timeouts.request = 300ms");

        var released = await FishAsync<BlocksReleased>(probes.Scheduler, timeout: TimeSpan.FromSeconds(3));

        Assert.Equal(blocks.ToHashSet(), released.Blocks.ToHashSet());
        Assert.Equal(1, (await FishAsync<RequestBlocks>(probes.Scheduler)).Count);
    }

    [Fact]
    public async Task Silence_past_the_idle_timeout_stops_the_actor()
    {
        var probes = NewProbes();
        var (actor, _) = await StartActiveAsync(probes, "bta.timeouts.idle = 500ms\nbta.keep-alive-interval = 200ms");

        await ExpectTerminatedAsync(actor, TimeSpan.FromSeconds(3));
        await probes.Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task A_quiet_connection_gets_keep_alives()
    {
        var probes = NewProbes();
        var (_, peer) = await StartActiveAsync(probes, "bta.keep-alive-interval = 200ms");

        Assert.Equal(new byte[] { 0, 0, 0, 0 }, await peer.ReadFrameAsync(skipKeepAlives: false, timeout: TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task A_peer_that_keeps_talking_is_not_idle()
    {
        var probes = NewProbes();
        // Wide margins: on a loaded machine a 150 ms delay can stretch past a tight idle timeout.
        var (_, peer) = await StartActiveAsync(probes, "bta.timeouts.idle = 2s\nbta.keep-alive-interval = 500ms");

        for (var i = 0; i < 12; i++)
        {
            await Task.Delay(250);
            await peer.SendRawAsync([0, 0, 0, 0]);
        }

        // 3 s of traffic against a 2 s idle timeout, and no Terminated for the watched actor.
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }
}
