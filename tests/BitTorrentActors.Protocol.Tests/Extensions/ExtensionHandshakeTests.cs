using System.Buffers;
using System.Net;
using System.Text;
using BitTorrentActors.Protocol.Extensions;

namespace BitTorrentActors.Protocol.Tests.Extensions;

public class ExtensionHandshakeTests
{
    private static ReadOnlySequence<byte> Bytes(string latin1) => new(Encoding.Latin1.GetBytes(latin1));

    private static ExtensionHandshake Parse(string latin1)
    {
        Assert.True(ExtensionHandshake.TryParse(Bytes(latin1), out var handshake, out var error), error);
        return handshake;
    }

    [Fact]
    public void Encodes_every_key_in_canonical_order_byte_for_byte()
    {
        var handshake = new ExtensionHandshake
        {
            Extensions = new Dictionary<string, byte> { ["ut_pex"] = 2, ["ut_metadata"] = 1 },
            ListenPort = 6881,
            Client = "bta 1",
            RequestQueueLength = 500,
            MetadataSize = 31235,
            YourIp = IPAddress.Parse("127.0.0.1"),
        };

        var encoded = Encoding.Latin1.GetString(handshake.Encode());

        Assert.Equal(
            "d1:md11:ut_metadatai1e6:ut_pexi2ee13:metadata_sizei31235e1:pi6881e4:reqqi500e1:v5:bta 16:yourip4:\u007f\u0000\u0000\u0001e",
            encoded);
    }

    [Fact]
    public void Only_present_keys_are_written()
    {
        Assert.Equal("d1:mdee", Encoding.Latin1.GetString(new ExtensionHandshake().Encode()));
    }

    [Fact]
    public void Parses_a_libtorrent_handshake_and_what_it_offers()
    {
        // The shape libtorrent 2.0 sends (keys it adds that we do not use are ignored).
        var handshake = Parse(
            "d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e" +
            "11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei4183e1:pi51413e4:reqqi500e11:upload_onlyi1e" +
            "1:v18:libtorrent/2.0.8.06:yourip4:\u007f\u0000\u0000\u0001e");

        Assert.Equal(2, handshake.IdOf("ut_metadata"));
        Assert.Equal(1, handshake.IdOf("ut_pex"));
        Assert.Equal(0, handshake.IdOf("lt_unknown"));
        Assert.Equal(51413, handshake.ListenPort);
        Assert.Equal(500, handshake.RequestQueueLength);
        Assert.Equal(4183, handshake.MetadataSize);
        Assert.Equal("libtorrent/2.0.8.0", handshake.Client);
        Assert.Equal(IPAddress.Loopback, handshake.YourIp);
        Assert.True(handshake.UploadOnly);
    }

    [Fact]
    public void Round_trips()
    {
        var original = new ExtensionHandshake
        {
            Extensions = new Dictionary<string, byte> { ["ut_metadata"] = 3 },
            ListenPort = 1,
            MetadataSize = 1,
            YourIp = IPAddress.IPv6Loopback,
        };
        Assert.True(ExtensionHandshake.TryParse(new ReadOnlySequence<byte>(original.Encode()), out var parsed, out _));
        Assert.Equal(3, parsed.IdOf("ut_metadata"));
        Assert.Equal(1, parsed.ListenPort);
        Assert.Equal(1, parsed.MetadataSize);
        Assert.Equal(IPAddress.IPv6Loopback, parsed.YourIp);
    }

    [Theory]
    // BEP 10: id 0 disables an extension; ids that cannot be framed in one byte are dropped, as are wrong types.
    [InlineData("d1:md11:ut_metadatai0eee")]
    [InlineData("d1:md11:ut_metadatai256eee")]
    [InlineData("d1:md11:ut_metadatai-1eee")]
    [InlineData("d1:md11:ut_metadata1:xee")]
    public void Unusable_ids_mean_the_extension_is_not_offered(string payload)
    {
        Assert.Equal(0, Parse(payload).IdOf("ut_metadata"));
    }

    [Theory]
    [InlineData("d1:pi0ee")]
    [InlineData("d1:pi65536ee")]
    [InlineData("d1:p4:6881e")]
    [InlineData("d13:metadata_sizei0ee")]
    [InlineData("d13:metadata_sizei-5ee")]
    [InlineData("d6:yourip3:abce")]
    [InlineData("d4:reqqi0ee")]
    public void Out_of_range_or_mistyped_values_are_absent_not_errors(string payload)
    {
        var handshake = Parse(payload);
        Assert.Null(handshake.ListenPort);
        Assert.Null(handshake.MetadataSize);
        Assert.Null(handshake.YourIp);
        Assert.Null(handshake.RequestQueueLength);
    }

    [Fact]
    public void A_missing_m_is_a_peer_with_no_extensions()
    {
        Assert.Empty(Parse("d1:pi6881ee").Extensions);
    }

    [Theory]
    [InlineData("le", "not a dictionary")]
    [InlineData("i1e", "not a dictionary")]
    [InlineData("d1:m", "not bencode")]
    [InlineData("", "not bencode")]
    public void What_is_not_a_dictionary_is_an_error(string payload, string reason)
    {
        Assert.False(ExtensionHandshake.TryParse(Bytes(payload), out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void An_oversized_handshake_is_refused_before_decoding()
    {
        var huge = new ReadOnlySequence<byte>(new byte[ExtensionHandshake.MaxLength + 1]);
        Assert.False(ExtensionHandshake.TryParse(huge, out _, out var error));
        Assert.Contains("at most", error);
    }
}
