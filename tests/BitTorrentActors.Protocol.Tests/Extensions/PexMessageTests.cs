using System.Buffers;
using System.Net;
using System.Text;
using BitTorrentActors.Protocol.Extensions;

namespace BitTorrentActors.Protocol.Tests.Extensions;

public class PexMessageTests
{
    private static ReadOnlySequence<byte> Bytes(string latin1) => new(Encoding.Latin1.GetBytes(latin1));

    private static PexMessage Parse(ReadOnlySequence<byte> payload, int maxPeers = PexMessage.MaxPeersPerMessage)
    {
        Assert.True(PexMessage.TryParse(payload, maxPeers, out var message, out var error), error);
        return message;
    }

    [Fact]
    public void Encodes_added_flags_and_dropped_byte_for_byte()
    {
        var message = new PexMessage(
            [new PexPeer(IPEndPoint.Parse("127.0.0.1:6881"), PexFlags.Seed | PexFlags.Reachable)],
            [IPEndPoint.Parse("127.0.0.2:80")]);

        var encoded = Encoding.Latin1.GetString(message.Encode());

        Assert.Equal("d5:added6:\u007f\u0000\u0000\u0001\u001a\u00e17:added.f1:\u00127:dropped6:\u007f\u0000\u0000\u0002\u0000\u0050e", encoded);
    }

    [Fact]
    public void IPv6_peers_go_to_their_own_keys_and_mapped_IPv4_to_the_IPv4_ones()
    {
        var message = new PexMessage(
            [new PexPeer(IPEndPoint.Parse("[::1]:1"), PexFlags.None), new PexPeer(IPEndPoint.Parse("[::ffff:127.0.0.2]:2"), PexFlags.Seed)],
            [IPEndPoint.Parse("[::1]:3")]);

        var parsed = Parse(new ReadOnlySequence<byte>(message.Encode()));

        Assert.Equal(
            [new PexPeer(IPEndPoint.Parse("127.0.0.2:2"), PexFlags.Seed), new PexPeer(IPEndPoint.Parse("[::1]:1"), PexFlags.None)],
            parsed.Added);
        Assert.Equal([IPEndPoint.Parse("[::1]:3")], parsed.Dropped);
        Assert.Contains("8:added6.f", Encoding.Latin1.GetString(message.Encode()));
    }

    [Fact]
    public void Parses_libtorrent_shaped_messages_with_missing_flags()
    {
        var parsed = Parse(Bytes("d5:added12:\u007f\u0000\u0000\u0001\u0000\u0001\u007f\u0000\u0000\u0002\u0000\u00027:added.f1:\u00027:dropped0:e"));

        Assert.Equal(2, parsed.Added.Count);
        Assert.Equal(PexFlags.Seed, parsed.Added[0].Flags);
        // A flags string shorter than the peers leaves the rest unknown; the peer still counts.
        Assert.Equal(PexFlags.None, parsed.Added[1].Flags);
        Assert.Empty(parsed.Dropped);
    }

    [Fact]
    public void A_flood_is_read_only_up_to_the_bound_and_says_how_many_it_offered()
    {
        var many = Enumerable.Range(0, 10_000)
            .Select(i => new PexPeer(new IPEndPoint(new IPAddress([127, (byte)(i >> 16), (byte)(i >> 8), (byte)i]), 6881), PexFlags.None))
            .ToArray();
        var payload = new ReadOnlySequence<byte>(new PexMessage(many, []).Encode());

        var parsed = Parse(payload);

        Assert.Equal(PexMessage.MaxPeersPerMessage, parsed.Added.Count);
        Assert.Equal(10_000, parsed.Offered);
    }

    [Fact]
    public void A_compact_string_with_a_torn_last_entry_keeps_the_whole_entries()
    {
        var parsed = Parse(Bytes("d5:added8:\u007f\u0000\u0000\u0001\u0000\u0001\u007f\u0000e"));
        Assert.Equal([new PexPeer(IPEndPoint.Parse("127.0.0.1:1"), PexFlags.None)], parsed.Added);
    }

    [Fact]
    public void Over_500_KiB_is_refused()
    {
        var payload = new ReadOnlySequence<byte>(new byte[PexMessage.MaxMessageLength + 1]);
        Assert.False(PexMessage.TryParse(payload, 50, out _, out var error));
        Assert.Contains("at most", error);
    }

    [Theory]
    [InlineData("le")]
    [InlineData("d5:added")]
    public void What_is_not_a_dictionary_is_an_error(string payload)
    {
        Assert.False(PexMessage.TryParse(Bytes(payload), 50, out _, out _));
    }

    [Fact]
    public void An_empty_dictionary_is_an_empty_message()
    {
        var parsed = Parse(Bytes("de"));
        Assert.Empty(parsed.Added);
        Assert.Empty(parsed.Dropped);
    }
}
