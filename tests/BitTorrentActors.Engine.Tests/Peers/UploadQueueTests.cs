using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.Peers;

public sealed class UploadQueueTests
{
    private const int PieceSize = 32 * 1024;
    private static readonly Bitfield Ours = Have(0, 1);

    [Theory]
    [InlineData(0, 0, 16 * 1024 + 1, "not 1..")]
    [InlineData(0, 0, 0, "not 1..")]
    [InlineData(0, PieceSize - 100, 16 * 1024, "outside the piece")]
    [InlineData(0, -1, 100, "outside the piece")]
    [InlineData(5, 0, 100, "outside the piece")]
    public void Oversized_or_out_of_range_requests_close_the_connection(int piece, int begin, int length, string reason)
    {
        var (verdict, why) = Validate(new BlockRequest(piece, begin, length), amChoking: false, queued: 0);

        Assert.Equal(RequestVerdict.Close, verdict);
        Assert.Contains(reason, why);
    }

    [Fact]
    public void A_piece_we_have_not_verified_is_refused()
    {
        Assert.Equal(RequestVerdict.Refuse, Validate(new BlockRequest(2, 0, 16384), amChoking: false, queued: 0).Verdict);
    }

    [Fact]
    public void A_request_while_we_choke_the_peer_is_refused()
    {
        Assert.Equal(RequestVerdict.Refuse, Validate(new BlockRequest(0, 0, 16384), amChoking: true, queued: 0).Verdict);
    }

    [Fact]
    public void A_request_beyond_the_queue_limit_is_refused_not_a_reason_to_close()
    {
        Assert.Equal(RequestVerdict.Accept, Validate(new BlockRequest(0, 0, 16384), amChoking: false, queued: 2).Verdict);
        var (verdict, reason) = Validate(new BlockRequest(0, 0, 16384), amChoking: false, queued: 3);
        Assert.Equal(RequestVerdict.QueueFull, verdict);
        Assert.Contains("queued requests", reason);
    }

    [Fact]
    public void The_last_short_piece_accepts_a_block_that_ends_exactly_at_its_end()
    {
        var (verdict, _) = UploadQueue.Validate(new BlockRequest(3, 0, 1000), Have(3), p => p == 3 ? 1000 : PieceSize, false, 0, 10);
        Assert.Equal(RequestVerdict.Accept, verdict);
    }

    [Fact]
    public void Cancel_removes_a_queued_request_and_drops_a_read_under_way()
    {
        var queue = new UploadQueue(10);
        var first = new BlockRequest(0, 0, 16384);
        var second = new BlockRequest(0, 16384, 16384);
        queue.Enqueue(first);
        queue.Enqueue(second);
        Assert.False(queue.Enqueue(second));

        Assert.True(queue.Cancel(second));
        Assert.True(queue.TryStartRead(out var reading));
        Assert.Equal(first, reading);
        Assert.False(queue.TryStartRead(out _));

        Assert.True(queue.Cancel(first));
        Assert.False(queue.FinishRead(first));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Cancelling_a_queued_request_keeps_the_others_in_order_and_it_can_be_asked_again()
    {
        var queue = new UploadQueue(10);
        var blocks = Enumerable.Range(0, 4).Select(i => new BlockRequest(1, i * 16384, 16384)).ToArray();
        foreach (var block in blocks)
        {
            Assert.True(queue.Enqueue(block));
        }

        Assert.True(queue.Cancel(blocks[1]));
        Assert.False(queue.Cancel(blocks[1]));
        Assert.Equal(3, queue.Count);
        Assert.True(queue.Enqueue(blocks[1]));

        var served = new List<BlockRequest>();
        while (queue.TryStartRead(out var next))
        {
            served.Add(next);
        }

        Assert.Equal([blocks[0], blocks[2], blocks[3], blocks[1]], served);
        Assert.Equal(4, queue.Reading);
        Assert.False(queue.Enqueue(blocks[2]));
    }

    [Fact]
    public void Clear_returns_queued_and_reading_requests()
    {
        var queue = new UploadQueue(10);
        queue.Enqueue(new BlockRequest(0, 0, 16384));
        queue.Enqueue(new BlockRequest(1, 0, 16384));
        queue.TryStartRead(out _);

        Assert.Equal(2, queue.Clear().Count);
        Assert.False(queue.FinishRead(new BlockRequest(0, 0, 16384)));
    }

    private static (RequestVerdict Verdict, string Reason) Validate(BlockRequest block, bool amChoking, int queued) =>
        UploadQueue.Validate(block, Ours, _ => PieceSize, amChoking, queued, maxQueued: 3);

    private static Bitfield Have(params int[] pieces)
    {
        var bits = new Bitfield(4);
        foreach (var piece in pieces)
        {
            bits.Set(piece);
        }
        return bits;
    }
}
