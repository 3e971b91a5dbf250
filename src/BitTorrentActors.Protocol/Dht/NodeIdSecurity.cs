using System.Net;
using System.Net.Sockets;
using System.Numerics;

namespace BitTorrentActors.Protocol.Dht;

/// <summary>
/// BEP 42 (DHT security extension): a node id is tied to the node's external address, so one machine cannot
/// choose ids next to a target at will. The first 21 bits of the id are the top of
/// CRC32-C(masked address with r in its top 3 bits), where r is the low 3 bits of the id's last byte:
/// <code>
///   IPv4: address &amp; 03 0f 3f ff,                    r in bits 5..7 of byte 0, CRC over the 4 bytes
///   IPv6: first 8 bytes &amp; 01 03 07 0f 1f 3f 7f ff,   r in bits 5..7 of byte 0, CRC over the 8 bytes
///   id[0..1] = crc &gt;&gt; 24, crc &gt;&gt; 16;  id[2] = (crc &gt;&gt; 8 &amp; f8) | random 3 bits;  id[3..18] random;  id[19] = rand byte
/// </code>
/// Local and private addresses cannot be verified (they are not what the rest of the DHT sees), so like
/// libtorrent (<c>verify_id</c>) we accept any id from them; that also means BEP 42 is never exercised on loopback.
/// </summary>
public static class NodeIdSecurity
{
    private static ReadOnlySpan<byte> V4Mask => [0x03, 0x0f, 0x3f, 0xff];

    private static ReadOnlySpan<byte> V6Mask => [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

    /// <summary>
    /// The id for <paramref name="external"/>: <paramref name="rand"/> is the last byte (its low 3 bits pick the
    /// prefix), <paramref name="randomBytes"/> (17 bytes) fill bits 21..151; pass random bytes, or fixed ones in tests.
    /// </summary>
    public static NodeId Generate(IPAddress external, byte rand, ReadOnlySpan<byte> randomBytes)
    {
        if (randomBytes.Length < 17)
        {
            throw new ArgumentException("BEP 42 needs 17 random bytes", nameof(randomBytes));
        }
        var crc = Crc(external, rand);
        Span<byte> id = stackalloc byte[NodeId.Length];
        id[0] = (byte)(crc >> 24);
        id[1] = (byte)(crc >> 16);
        id[2] = (byte)(((crc >> 8) & 0xf8) | (randomBytes[0] & 0x07u));
        randomBytes.Slice(1, 16).CopyTo(id[3..19]);
        id[19] = rand;
        return new NodeId(id);
    }

    public static NodeId Generate(IPAddress external, Random random)
    {
        Span<byte> bytes = stackalloc byte[18];
        random.NextBytes(bytes);
        return Generate(external, bytes[17], bytes[..17]);
    }

    /// <summary>True when the id's first 21 bits match what <paramref name="source"/> would derive with the id's r.</summary>
    public static bool Matches(NodeId id, IPAddress source)
    {
        var crc = Crc(source, id[19]);
        return id[0] == (byte)(crc >> 24) && id[1] == (byte)(crc >> 16) && (id[2] & 0xf8) == ((crc >> 8) & 0xf8);
    }

    /// <summary>
    /// What a node should apply to an id heard from <paramref name="source"/>: local and private addresses are
    /// exempt, every other one must <see cref="Matches"/>.
    /// </summary>
    public static bool IsAcceptable(NodeId id, IPAddress source) => IsExempt(source) || Matches(id, source);

    /// <summary>Loopback, private (RFC 1918), link-local, CGNAT, unique-local IPv6: addresses BEP 42 does not cover.</summary>
    public static bool IsExempt(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address))
        {
            return true;
        }
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out var length);
        if (address.AddressFamily == AddressFamily.InterNetwork && length == 4)
        {
            return b[0] == 10
                || (b[0] == 172 && (b[1] & 0xf0) == 16)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 100 && (b[1] & 0xc0) == 64)
                || b[0] == 0;
        }
        return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal;
    }

    private static uint Crc(IPAddress address, byte rand)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        var mask = length == 4 ? V4Mask : V6Mask;
        var octets = bytes[..mask.Length];
        for (var i = 0; i < octets.Length; i++)
        {
            octets[i] &= mask[i];
        }
        octets[0] |= (byte)((rand & 0x07) << 5);
        return Crc32C(octets);
    }

    /// <summary>CRC32-C (Castagnoli), the standard form: initial value and final XOR all ones.</summary>
    internal static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        foreach (var b in data)
        {
            // BitOperations.Crc32C is the reflected Castagnoli step (hardware CRC32 where the CPU has it).
            crc = BitOperations.Crc32C(crc, b);
        }
        return ~crc;
    }
}
