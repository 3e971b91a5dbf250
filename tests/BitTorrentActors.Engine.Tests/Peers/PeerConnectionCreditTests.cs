using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Peers;

/// <summary>
/// PeerConnection's read loop against a probe as its owner: haves, blocks and requests are batched, and a peer cannot queue more
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

    [Fact]
    public async Task The_blocks_of_one_read_reach_the_owner_as_one_message_in_wire_order_at_one_credit_each()
    {
        var (connection, peer, owner) = await StartAsync();
        await using var _ = connection;
        var block = new byte[16 * 1024];

        // Four blocks, a have, two blocks: in one send, so the loop cuts them from one or two reads.
        await peer.SendRawAsync([
            .. Enumerable.Range(0, 4).SelectMany(i => Frames.Piece(0, i * block.Length, block)),
            .. Frames.Have(3),
            .. Enumerable.Range(0, 2).SelectMany(i => Frames.Piece(1, i * block.Length, block)),
        ]);

        var order = new List<string>();
        var blockMessages = 0;
        while (order.Count < 7)
        {
            switch (await owner.ReceiveOneAsync(TimeSpan.FromSeconds(5)))
            {
                case PeerActor.BlocksArrived blocks:
                    blockMessages++;
                    order.AddRange(blocks.Blocks.Select(b => $"{b.Piece}/{b.Begin / block.Length}"));
                    blocks.ReleaseAll();
                    break;
                case PeerActor.HavesArrived haves:
                    order.AddRange(haves.Pieces.Select(p => $"have {p}"));
                    break;
                case var other:
                    Assert.Fail($"unexpected {other}");
                    break;
            }
        }

        Assert.Equal(["0/0", "0/1", "0/2", "0/3", "have 3", "1/0", "1/1"], order);
        Assert.True(blockMessages < 6, $"6 blocks took {blockMessages} messages");
        // The handshake, the have and one credit per block are outstanding: the bound counts buffers held.
        Assert.Equal(1 + 1 + 6, connection.Unconsumed);
    }

    [Fact]
    public async Task The_requests_of_one_read_reach_the_owner_as_one_message_in_wire_order()
    {
        var (connection, peer, owner) = await StartAsync();
        await using var _ = connection;
        var first = Enumerable.Range(0, 300).Select(i => new BlockRequest(i % PeerTestContext.PieceCount, i / PeerTestContext.PieceCount * 16384, 16384)).ToArray();

        // 300 requests, an unchoke, two more requests: in one send (5.4 kB, one read).
        await peer.SendRawAsync([
            .. first.SelectMany(b => Frames.Request(b.Piece, b.Begin, b.Length)),
            .. Frames.Unchoke,
            .. Frames.Request(1, 0, 16384),
            .. Frames.Request(1, 16384, 16384),
        ]);

        var order = new List<string>();
        var requestMessages = 0;
        while (order.Count < 303)
        {
            switch (await owner.ReceiveOneAsync(TimeSpan.FromSeconds(5)))
            {
                case PeerActor.RequestsArrived requests:
                    requestMessages++;
                    order.AddRange(requests.Blocks.Select(b => b.ToString()));
                    break;
                case PeerActor.WireMessage { Kind: PeerMessageKind.Unchoke }:
                    order.Add("unchoke");
                    break;
                case var other:
                    Assert.Fail($"unexpected {other}");
                    break;
            }
        }

        Assert.Equal([.. first.Select(b => b.ToString()), "unchoke", new BlockRequest(1, 0, 16384).ToString(), new BlockRequest(1, 16384, 16384).ToString()], order);
        Assert.Equal(2, requestMessages);
        // The handshake, two runs of requests and the unchoke: one credit each.
        Assert.Equal(1 + 3, connection.Unconsumed);
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
