using BitTorrentActors.Protocol.Dht;

namespace BitTorrentActors.Protocol.Tests.Dht;

public class NodeIdTests
{
    private static NodeId Hex(string hex) => NodeId.TryParseHex(hex, out var id) ? id : throw new FormatException(hex);

    [Fact]
    public void Round_trips_bytes_and_hex_in_network_order()
    {
        var bytes = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();

        var id = new NodeId(bytes);

        Assert.Equal(bytes, id.ToArray());
        Assert.Equal("0102030405060708090a0b0c0d0e0f1011121314", id.ToHex());
        Assert.Equal(0x0a, id[9]);
        Assert.Equal(0x14, id[19]);
        Assert.Equal(id, Hex(id.ToHex()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(19)]
    [InlineData(21)]
    public void TryRead_refuses_anything_but_20_bytes(int length)
    {
        Assert.False(NodeId.TryRead(new byte[length], out _));
        Assert.Throws<ArgumentException>(() => new NodeId(new byte[length]));
    }

    [Fact]
    public void Distance_is_xor_and_orders_as_a_big_endian_number()
    {
        var a = Hex("ff00000000000000000000000000000000000001");
        var b = Hex("0f00000000000000000000000000000000000003");

        Assert.Equal(Hex("f000000000000000000000000000000000000002"), a.DistanceTo(b));
        Assert.True(b < a);
        Assert.True(Hex("0000000000000000000000000000000000000002") > Hex("0000000000000000000000000000000000000001"));
        // A difference in the last word matters only when the first ones tie.
        Assert.True(Hex("0000000000000000000000010000000000000000") > Hex("00000000000000000000000000000000ffffffff"));
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000", 160)]
    [InlineData("8000000000000000000000000000000000000000", 0)]
    [InlineData("0100000000000000000000000000000000000000", 7)]
    [InlineData("0000000000000000800000000000000000000000", 64)]
    [InlineData("0000000000000000000000000000000080000000", 128)]
    [InlineData("0000000000000000000000000000000000000001", 159)]
    public void Common_prefix_length_counts_leading_equal_bits(string xor, int expected)
    {
        var a = Hex("123456789abcdef0123456789abcdef012345678");

        Assert.Equal(expected, a.CommonPrefixLength(a ^ Hex(xor)));
    }

    [Fact]
    public void CompareDistance_says_which_id_is_closer_to_a_target()
    {
        var target = Hex("1000000000000000000000000000000000000000");
        var near = Hex("1000000000000000000000000000000000000fff");
        var far = Hex("0000000000000000000000000000000000000000");

        Assert.True(target.CompareDistance(near, far) < 0);
        Assert.True(target.CompareDistance(far, near) > 0);
        Assert.Equal(0, target.CompareDistance(near, near));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(159)]
    [InlineData(160)]
    public void RandomWithPrefix_keeps_exactly_the_prefix(int bits)
    {
        var own = Hex("a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5");
        var random = new Random(bits);

        var exact = 0;
        for (var i = 0; i < 50; i++)
        {
            var cpl = own.CommonPrefixLength(own.RandomWithPrefix(bits, random));
            Assert.True(cpl >= bits, $"shares {cpl} bits, fewer than {bits}");
            exact += cpl == bits ? 1 : 0;
        }
        // The bits after the prefix are random: about half the ids differ right after it.
        Assert.True(bits == 160 || exact is > 5 and < 45, $"{exact} of 50 share exactly {bits} bits");
    }

    [Fact]
    public void GetBit_and_FlipBit_count_from_the_most_significant_bit()
    {
        var id = NodeId.Zero.FlipBit(0).FlipBit(64).FlipBit(159);

        Assert.Equal("8000000000000000800000000000000000000001", id.ToHex());
        Assert.True(id.GetBit(0));
        Assert.False(id.GetBit(1));
        Assert.True(id.GetBit(64));
        Assert.True(id.GetBit(159));
        Assert.Equal("ffffffffffffffffffffffffffffffffc0000000", NodeId.PrefixMask(130).ToHex());
    }
}
