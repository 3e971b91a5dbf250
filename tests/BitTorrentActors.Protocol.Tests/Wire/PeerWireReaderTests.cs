using System.Buffers;
using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Protocol.Tests.Wire.ReaderAssert;
using static BitTorrentActors.Protocol.Tests.Wire.WireTestData;

namespace BitTorrentActors.Protocol.Tests.Wire;

public class PeerWireReaderTests
{
    internal static void AssertMatches(MessageVector vector, PeerFrame frame)
    {
        Assert.Equal(vector.Kind, frame.Kind);
        Assert.Equal(vector.Kind == PeerMessageKind.KeepAlive ? (byte)0 : (byte)vector.Kind, frame.MessageId);
        Assert.Equal(vector.Index, frame.Index);
        Assert.Equal(vector.Begin, frame.Begin);
        Assert.Equal(vector.Length, frame.Length);
        Assert.Equal(vector.Port, frame.Port);
        Assert.Equal(vector.ExtendedId, frame.ExtendedId);
        Assert.Equal(vector.PayloadHex, ToHex(frame.Payload));
    }

    [Theory]
    [MemberData(nameof(MessageVectors.Names), MemberType = typeof(MessageVectors))]
    public void Reads_the_vector(string name)
    {
        var vector = MessageVectors.Get(name);
        var buffer = new ReadOnlySequence<byte>(Hex(vector.Hex));
        var reader = new PeerWireReader(pieceCount: 10);

        Assert.Equal(PeerWireReadStatus.Complete, reader.TryRead(ref buffer, out var frame, out var error));

        Assert.Equal(PeerWireErrorKind.None, error.Kind);
        Assert.True(buffer.IsEmpty);
        AssertMatches(vector, frame);
    }

    [Theory]
    [MemberData(nameof(MessageVectors.Names), MemberType = typeof(MessageVectors))]
    public void Writer_output_reads_back(string name)
    {
        var vector = MessageVectors.Get(name);
        var bytes = new byte[64];
        var written = vector.Write(bytes);
        var buffer = new ReadOnlySequence<byte>(bytes, 0, written);

        Assert.Equal(PeerWireReadStatus.Complete, new PeerWireReader(pieceCount: 10).TryRead(ref buffer, out var frame, out _));
        AssertMatches(vector, frame);
    }

    [Fact]
    public void Random_requests_and_pieces_round_trip()
    {
        var random = new Random(7);
        var reader = new PeerWireReader();
        var bytes = new byte[PeerWireWriter.PieceSize(PeerWireLimits.DefaultMaxBlockLength)];
        for (var i = 0; i < 200; i++)
        {
            var index = (uint)random.Next();
            var begin = (uint)random.Next();
            var block = new byte[random.Next(PeerWireLimits.DefaultMaxBlockLength + 1)];
            random.NextBytes(block);

            var written = i % 2 == 0
                ? PeerWireWriter.WritePiece(bytes, index, begin, block)
                : PeerWireWriter.WriteRequest(bytes, index, begin, (uint)block.Length);
            var buffer = new ReadOnlySequence<byte>(bytes, 0, written);

            Assert.Equal(PeerWireReadStatus.Complete, reader.TryRead(ref buffer, out var frame, out _));
            Assert.True(buffer.IsEmpty);
            Assert.Equal(i % 2 == 0 ? PeerMessageKind.Piece : PeerMessageKind.Request, frame.Kind);
            Assert.Equal(index, frame.Index);
            Assert.Equal(begin, frame.Begin);
            Assert.Equal((uint)block.Length, frame.Length);
            if (i % 2 == 0)
            {
                Assert.Equal(block, frame.Payload.ToArray());
            }
        }
    }

    [Fact]
    public void Reads_several_frames_from_one_buffer()
    {
        var all = MessageVectors.All.SelectMany(v => Hex(v.Hex)).ToArray();
        foreach (var sequence in new[] { new ReadOnlySequence<byte>(all), OneSegmentPerByte(all) })
        {
            var buffer = sequence;
            var reader = new PeerWireReader(pieceCount: 10);
            foreach (var vector in MessageVectors.All)
            {
                Assert.Equal(PeerWireReadStatus.Complete, reader.TryRead(ref buffer, out var frame, out _));
                AssertMatches(vector, frame);
            }

            Assert.True(buffer.IsEmpty);
            Assert.Equal(PeerWireReadStatus.NeedMoreData, reader.TryRead(ref buffer, out _, out _));
        }
    }

    [Fact]
    public void Keep_alives_are_frames_of_their_own()
    {
        var buffer = new ReadOnlySequence<byte>(Hex("00000000 00000000 00000001 01 00000000"));
        var reader = new PeerWireReader();
        var kinds = new List<PeerMessageKind>();
        while (reader.TryRead(ref buffer, out var frame, out _) == PeerWireReadStatus.Complete)
        {
            kinds.Add(frame.Kind);
        }

        Assert.Equal(new[] { PeerMessageKind.KeepAlive, PeerMessageKind.KeepAlive, PeerMessageKind.Unchoke, PeerMessageKind.KeepAlive }, kinds);
        Assert.True(buffer.IsEmpty);
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("000000")]
    [InlineData("00000001")]
    [InlineData("00000005 04")]
    [InlineData("00000005 04 000000")]
    [InlineData("0000000D 06 00000001 00004000 000040")]
    [InlineData("0000000C 07 00000002 00008000 AABB")]
    [InlineData("00000004 14 00 64")]
    public void Incomplete_frames_need_more_data(string hex)
    {
        AssertNeedMoreData(new PeerWireReader(), hex);
    }
}
