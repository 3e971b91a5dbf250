using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Peers;

/// <summary>
/// PeerConnection's read loop against a probe as its owner: haves are batched, and a peer cannot queue more
/// than <see cref="PeerConnection.MaxUnconsumed"/> messages on an owner that does not keep up.
/// </summary>
public sealed class PeerConnectionCreditTests(ITestOutputHelper output) : PeerActorTestBase(output)
{
    [Fact]
    public async Task The_read_loop_stops_reading_while_the_owner_is_behind_and_resumes_on_credit()
    {
        var (connection, peer, owner) = await StartAsync();
        await using var _ = connection;
        // 10,000 frames in one go: an owner that never hands back credit must see only the first MaxUnconsumed.
        await peer.SendRawAsync([.. Enumerable.Range(0, 10_000).SelectMany(_ => Frames.Unchoke)]);

        for (var i = 1; i < PeerConnection.MaxUnconsumed; i++)
        {
            await owner.ExpectMsgAsync<PeerActor.WireMessage>();
        }

        await owner.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Assert.Equal(PeerConnection.MaxUnconsumed, connection.Unconsumed);

        // Half the credit back: the loop reads on until the bound again, no further.
        for (var i = 0; i < PeerConnection.MaxUnconsumed - PeerConnection.ResumeUnconsumed; i++)
        {
            connection.Consumed();
        }

        for (var i = 0; i < PeerConnection.MaxUnconsumed - PeerConnection.ResumeUnconsumed; i++)
        {
            await owner.ExpectMsgAsync<PeerActor.WireMessage>();
        }

        await owner.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Assert.Equal(PeerConnection.MaxUnconsumed, connection.Unconsumed);
    }

    [Fact]
    public async Task Consecutive_haves_reach_the_owner_batched_and_in_wire_order()
    {
        var (connection, peer, owner) = await StartAsync();
        await using var _ = connection;

        await peer.SendRawAsync([
            .. Enumerable.Range(0, 5_000).SelectMany(i => Frames.Have((uint)(i % PeerTestContext.PieceCount))),
            .. Frames.Unchoke,
            .. Frames.Have(3),
        ]);

        var haves = new List<uint>();
        var messages = 0;
        while (haves.Count < 5_001)
        {
            var message = await owner.ReceiveOneAsync(TimeSpan.FromSeconds(5));
            messages++;
            if (message is PeerActor.WireMessage { Kind: PeerMessageKind.Unchoke })
            {
                Assert.Equal(5_000, haves.Count);
            }
            else
            {
                haves.AddRange(Assert.IsType<PeerActor.HavesArrived>(message).Pieces);
            }
        }

        Assert.Equal([.. Enumerable.Range(0, 5_000).Select(i => (uint)(i % PeerTestContext.PieceCount)), 3u], haves);
        // One message per read buffer, not per frame (45 kB of haves fill a few buffers at most).
        Assert.True(messages <= 20, $"5,001 haves took {messages} messages");
    }

    private async Task<(PeerConnection Connection, ScriptedPeer Peer, Akka.TestKit.TestProbe Owner)> StartAsync()
    {
        var (ours, theirs) = DuplexPipe.CreatePair();
        var owner = CreateTestProbe("owner");
        var connection = new PeerConnection(ours, PeerTestContext.PieceCount);
        connection.Start(owner.Ref);
        var peer = new ScriptedPeer(theirs);
        await peer.SendHandshakeAsync(Context.InfoHash);
        await owner.ExpectMsgAsync<PeerActor.HandshakeReceived>();
        return (connection, peer, owner);
    }
}
