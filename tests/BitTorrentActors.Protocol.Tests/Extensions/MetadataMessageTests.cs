using System.Buffers;
using System.Text;
using BitTorrentActors.Protocol.Extensions;

namespace BitTorrentActors.Protocol.Tests.Extensions;

public class MetadataMessageTests
{
    private static ReadOnlySequence<byte> Bytes(string latin1) => new(Encoding.Latin1.GetBytes(latin1));

    [Fact]
    public void Request_and_reject_are_encoded_as_bep_9_shows_them()
    {
        Assert.Equal("d8:msg_typei0e5:piecei0ee", Encoding.Latin1.GetString(MetadataMessage.EncodeRequest(0)));
        Assert.Equal("d8:msg_typei2e5:piecei7ee", Encoding.Latin1.GetString(MetadataMessage.EncodeReject(7)));
    }

    [Fact]
    public void Data_is_the_dictionary_then_the_raw_piece()
    {
        var encoded = MetadataMessage.EncodeData(1, 16390, "abcdef"u8);
        Assert.Equal("d8:msg_typei1e5:piecei1e10:total_sizei16390eeabcdef", Encoding.Latin1.GetString(encoded));

        Assert.True(MetadataMessage.TryParse(new ReadOnlySequence<byte>(encoded), out var message, out var unknown, out var error), error);
        Assert.False(unknown);
        Assert.Equal(MetadataMessageType.Data, message.Type);
        Assert.Equal(1, message.Piece);
        Assert.Equal(16390, message.TotalSize);
        Assert.Equal("abcdef"u8.ToArray(), message.Data.ToArray());
    }

    [Fact]
    public void Request_and_reject_parse()
    {
        Assert.True(MetadataMessage.TryParse(Bytes("d8:msg_typei0e5:piecei3ee"), out var request, out _, out _));
        Assert.Equal((MetadataMessageType.Request, 3), (request.Type, request.Piece));
        Assert.True(MetadataMessage.TryParse(Bytes("d8:msg_typei2e5:piecei4ee"), out var reject, out _, out _));
        Assert.Equal((MetadataMessageType.Reject, 4), (reject.Type, reject.Piece));
    }

    [Fact]
    public void An_unknown_msg_type_is_to_be_ignored_not_an_error()
    {
        Assert.True(MetadataMessage.TryParse(Bytes("d8:msg_typei9e5:piecei0ee"), out _, out var unknown, out _));
        Assert.True(unknown);
    }

    [Theory]
    [InlineData("d5:piecei0ee", "without msg_type or piece")]
    [InlineData("d8:msg_typei0ee", "without msg_type or piece")]
    [InlineData("d8:msg_typei1e5:piecei0eexyz", "total_size")]
    [InlineData("d8:msg_typei1e5:piecei0e10:total_sizei0eexyz", "total_size")]
    [InlineData("d8:msg_typei0e5:piecei-1ee", "out of range")]
    [InlineData("d8:msg_typei0e5:piecei0eeX", "trailing")]
    [InlineData("li1ee", "not a dictionary")]
    [InlineData("d8:msg_type", "not bencode")]
    public void Broken_messages_are_errors(string payload, string reason)
    {
        Assert.False(MetadataMessage.TryParse(Bytes(payload), out _, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void A_message_over_17_KiB_is_refused_as_libtorrent_refuses_it()
    {
        // A 20 KiB "piece": the dictionary is fine, the size is not.
        var encoded = MetadataMessage.EncodeData(0, 20 * 1024, new byte[20 * 1024]);
        Assert.False(MetadataMessage.TryParse(new ReadOnlySequence<byte>(encoded), out _, out _, out var error));
        Assert.Contains("at most 17408", error);
    }

    [Theory]
    [InlineData(1, 1, 0, 1)]
    [InlineData(16384, 1, 0, 16384)]
    [InlineData(16385, 2, 1, 1)]
    [InlineData(40000, 3, 2, 40000 - 32768)]
    public void Pieces_are_16_KiB_and_the_last_is_the_rest(long total, int count, int last, int lastLength)
    {
        Assert.Equal(count, MetadataMessage.PieceCount(total));
        Assert.Equal(lastLength, MetadataMessage.PieceLength(total, last));
    }
}
