using System.Diagnostics;
using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Tests.Peers;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Seeding;

/// <summary>The upload limit holds: a peer that keeps 20 requests queued gets about the configured rate.</summary>
public sealed class UploadRateLimitTests(ITestOutputHelper output) : PeerActorTestBase(output)
{
    private readonly ITestOutputHelper _output = output;

    [Fact]
    public async Task A_1_MB_per_second_upload_limit_makes_3_MB_take_at_least_2_seconds()
    {
        var probes = NewProbes();
        probes.Writer.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is FileWriterActor.ReadBlock read)
            {
                read.ReplyTo.Tell(new FileWriterActor.BlockRead(read.Block, BlockData.Rent(read.Block)));
            }
            else if (message is FileWriterActor.ReadBlocks reads)
            {
                reads.ReplyTo.Tell(new FileWriterActor.BlocksRead(
                    [.. reads.Blocks.Select(b => new FileWriterActor.BlockRead(b, BlockData.Rent(b)))]));
            }
            return AutoPilot.KeepRunning;
        }));
        var context = PeerTestContext.Create("bta.upload.rate-limit = 1000000");
        var setup = new PeerSetup(Bitfield.AllSet(PeerTestContext.PieceCount), new RateLimiter(context.Settings.Upload.RateLimit));
        var (actorSide, peerSide) = DuplexPipe.CreatePair();
        var actor = Sys.ActorOf(PeerActor.Props(
            context, Remote, probes.Coordinator, probes.Scheduler, probes.Writer, (_, _) => Task.FromResult(actorSide), setup));
        var peer = new ScriptedPeer(peerSide);
        await peer.ReadHandshakeAsync();
        await peer.SendHandshakeAsync(context.InfoHash);
        await probes.Coordinator.ExpectMsgAsync<PeerActor.Connected>();
        Assert.Equal(Frames.HaveAll, await peer.ReadFrameAsync());
        actor.Tell(new PeerActor.SetChoke(false));
        Assert.Equal(Frames.Unchoke, await peer.ReadFrameAsync());

        var clock = Stopwatch.StartNew();
        long received = 0;
        while (received < 3_000_000)
        {
            // Every full block of pieces 0..9, twenty requests in flight per round.
            for (var piece = 0; piece < 10; piece++)
            {
                await peer.SendRawAsync(Frames.Request(piece, 0, 16384));
                await peer.SendRawAsync(Frames.Request(piece, 16384, 16384));
            }
            for (var i = 0; i < 20; i++)
            {
                var frame = await peer.ReadFrameAsync(timeout: TimeSpan.FromSeconds(10));
                Assert.Equal((byte)PeerMessageKind.Piece, frame[4]);
                received += frame.Length - PeerWireWriter.PieceHeaderSize;
            }
        }
        clock.Stop();

        var rate = received / clock.Elapsed.TotalSeconds;
        _output.WriteLine($"uploaded {received} bytes in {clock.Elapsed.TotalSeconds:0.00} s = {rate / 1e6:0.00} MB/s under a 1 MB/s limit");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"3 MB took only {clock.Elapsed.TotalSeconds:0.00} s");
        Assert.True(clock.Elapsed <= TimeSpan.FromSeconds(9), $"3 MB took {clock.Elapsed.TotalSeconds:0.00} s, far below the limit");
    }
}
