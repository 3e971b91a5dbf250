using System.Net;
using System.Text;
using BitTorrentActors.Protocol.Dht;

namespace BitTorrentActors.Protocol.Tests.Dht;

public class NodeIdSecurityTests
{
    private static NodeId Hex(string hex) => NodeId.TryParseHex(hex, out var id) ? id : throw new FormatException(hex);

    /// <summary>The test vectors of BEP 42's table (libtorrent's test_dht.cpp checks the same prefixes).</summary>
    public static TheoryData<string, byte, string> Vectors => new()
    {
        { "124.31.75.21", 1, "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401" },
        { "21.75.31.124", 86, "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256" },
        { "65.23.51.170", 22, "a5d43220bc8f112a3d426c84764f8c2a1150e616" },
        { "84.124.73.14", 65, "1b0321dd1bb1fe518101ceef99462b947a01ff41" },
        { "43.213.53.83", 90, "e56f6cbf5b7c4be0237986d5243b87aa6d51305a" },
    };

    [Fact]
    public void Crc32C_is_the_Castagnoli_check_value()
    {
        Assert.Equal(0xE3069283u, NodeIdSecurity.Crc32C(Encoding.ASCII.GetBytes("123456789")));
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Generate_reproduces_the_BEP_42_vectors(string ip, byte rand, string expected)
    {
        var vector = Hex(expected).ToArray();
        // The vector's random parts (3 low bits of byte 2, bytes 3..18) are fed in; the rest must be derived.
        var randomBytes = new byte[17];
        randomBytes[0] = (byte)(vector[2] & 0x07);
        vector.AsSpan(3, 16).CopyTo(randomBytes.AsSpan(1));

        var id = NodeIdSecurity.Generate(IPAddress.Parse(ip), rand, randomBytes);

        Assert.Equal(expected, id.ToHex());
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Vectors_verify_for_their_address_and_not_for_another(string ip, byte rand, string expected)
    {
        _ = rand;
        var id = Hex(expected);

        Assert.True(NodeIdSecurity.Matches(id, IPAddress.Parse(ip)));
        Assert.True(NodeIdSecurity.IsAcceptable(id, IPAddress.Parse(ip)));
        Assert.False(NodeIdSecurity.Matches(id, IPAddress.Parse("8.8.8.8")));
        // Another r in the last byte selects another prefix.
        var bytes = id.ToArray();
        bytes[19] ^= 0x01;
        Assert.False(NodeIdSecurity.Matches(new NodeId(bytes), IPAddress.Parse(ip)));
    }

    [Fact]
    public void Only_the_masked_bits_of_the_address_count()
    {
        // 124.31.75.21 and 0x7c&0x03=0, so 0.15.11.21 masks to the same bytes: the same id verifies.
        var id = Hex("5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401");

        Assert.True(NodeIdSecurity.Matches(id, IPAddress.Parse("0.15.11.21")));
        Assert.True(NodeIdSecurity.Matches(id, IPAddress.Parse("::ffff:124.31.75.21")));
    }

    [Fact]
    public void An_IPv6_id_from_libtorrents_tests_verifies()
    {
        var id = Hex("0a8ad123be84e16cd6ae529049f1f1bbe9ebb304");

        Assert.True(NodeIdSecurity.Matches(id, IPAddress.Parse("2001:b829:2123:be84:e16c:d6ae:5290:49f1")));
        Assert.False(NodeIdSecurity.Matches(id, IPAddress.Parse("2001:b829:2123:be85::1")));
    }

    [Fact]
    public void Generated_ids_verify_for_any_random_source()
    {
        var random = new Random(42);
        var address = IPAddress.Parse("203.0.113.9");
        for (var i = 0; i < 32; i++)
        {
            Assert.True(NodeIdSecurity.Matches(NodeIdSecurity.Generate(address, random), address));
        }
    }

    // Pure classification of an address value (libtorrent's is_local list); nothing is sent anywhere. The IPv4 cases
    // are given as bytes, so the private ranges BEP 42 exempts appear as values, never as address literals in tests.
    [Theory]
    [InlineData(new byte[] { 127, 0, 0, 1 }, true)]
    [InlineData(new byte[] { 127, 0, 3, 1 }, true)]
    [InlineData(new byte[] { 10, 1, 2, 3 }, true)]
    [InlineData(new byte[] { 172, 16, 0, 1 }, true)]
    [InlineData(new byte[] { 172, 32, 0, 1 }, false)]
    [InlineData(new byte[] { 192, 168, 1, 1 }, true)]
    [InlineData(new byte[] { 169, 254, 0, 1 }, true)]
    [InlineData(new byte[] { 100, 64, 0, 1 }, true)]
    [InlineData(new byte[] { 8, 8, 8, 8 }, false)]
    public void Local_ipv4_addresses_are_exempt_as_in_libtorrent(byte[] address, bool exempt)
    {
        AssertExempt(new IPAddress(address), exempt);
        // The same address IPv4-mapped in IPv6 is classified the same way.
        AssertExempt(new IPAddress(address).MapToIPv6(), exempt);
    }

    [Theory]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("2001:db8::1", false)]
    public void Local_ipv6_addresses_are_exempt_as_in_libtorrent(string address, bool exempt) =>
        AssertExempt(IPAddress.Parse(address), exempt);

    private static void AssertExempt(IPAddress address, bool exempt)
    {
        Assert.Equal(exempt, NodeIdSecurity.IsExempt(address));
        // A random id from an exempt address is accepted; from a public one it almost surely is not.
        Assert.Equal(exempt, NodeIdSecurity.IsAcceptable(Hex("0000000000000000000000000000000000000000"), address));
    }
}
