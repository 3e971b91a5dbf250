using System.Buffers.Binary;
using System.Numerics;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Dht;

/// <summary>
/// A 160-bit Kademlia id (BEP 5): a node's id, or a lookup target such as an info-hash. Ids compare as
/// unsigned big-endian numbers, and the distance between two ids is their XOR read the same way, so "closer to a
/// target" is "smaller XOR with it". A value type with ordinal equality (three fields, as <see cref="InfoHash"/>),
/// so it keys dictionaries and sorts without allocating.
/// </summary>
public readonly struct NodeId : IEquatable<NodeId>, IComparable<NodeId>
{
    public const int Length = 20;
    public const int Bits = Length * 8;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;

    private NodeId(ulong a, ulong b, uint c)
    {
        _a = a;
        _b = b;
        _c = c;
    }

    public NodeId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"a node id is {Length} bytes, not {bytes.Length}", nameof(bytes));
        }
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    /// <summary>The id with every bit clear; the largest distance is <see cref="Max"/>.</summary>
    public static NodeId Zero => default;

    public static NodeId Max => new(ulong.MaxValue, ulong.MaxValue, uint.MaxValue);

    /// <summary>Reads an id from untrusted input; false (never an exception) unless it is exactly 20 bytes.</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out NodeId id)
    {
        id = bytes.Length == Length ? new NodeId(bytes) : default;
        return bytes.Length == Length;
    }

    public static NodeId FromInfoHash(InfoHash hash)
    {
        Span<byte> bytes = stackalloc byte[Length];
        hash.CopyTo(bytes);
        return new NodeId(bytes);
    }

    public InfoHash ToInfoHash()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return new InfoHash(bytes);
    }

    public static bool TryParseHex(string hex, out NodeId id)
    {
        id = default;
        Span<byte> bytes = stackalloc byte[Length];
        if (hex.Length != Length * 2
            || Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != Length)
        {
            return false;
        }
        id = new NodeId(bytes);
        return true;
    }

    /// <summary>A uniformly random id from the caller's generator (tests pass a seeded one).</summary>
    public static NodeId Random(Random random)
    {
        Span<byte> bytes = stackalloc byte[Length];
        random.NextBytes(bytes);
        return new NodeId(bytes);
    }

    /// <summary>
    /// A random id sharing exactly the first <paramref name="prefixBits"/> bits with this one; the rest are random.
    /// A bucket refresh looks up such an id, which falls in the bucket's range.
    /// </summary>
    public NodeId RandomWithPrefix(int prefixBits, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixBits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixBits, Bits);
        var noise = Random(random);
        var mask = PrefixMask(prefixBits);
        return (this & mask) | (noise & ~mask);
    }

    /// <summary>The id with bit <paramref name="index"/> (0 = most significant) flipped.</summary>
    public NodeId FlipBit(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Bits);
        return this ^ SingleBit(index);
    }

    /// <summary>Bit <paramref name="index"/>, counting from the most significant bit of the first byte.</summary>
    public bool GetBit(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Bits);
        return index switch
        {
            < 64 => ((_a >> (63 - index)) & 1) != 0,
            < 128 => ((_b >> (127 - index)) & 1) != 0,
            _ => ((_c >> (159 - index)) & 1) != 0,
        };
    }

    /// <summary>The Kademlia distance: the XOR of the two ids.</summary>
    public NodeId DistanceTo(NodeId other) => this ^ other;

    /// <summary>How many leading bits the ids share: 160 for equal ids, 0 when the first bit differs.</summary>
    public int CommonPrefixLength(NodeId other) => (this ^ other).LeadingZeroCount();

    /// <summary>
    /// Negative when <paramref name="a"/> is closer to this id (as a target) than <paramref name="b"/>, zero when
    /// they are the same id, positive otherwise.
    /// </summary>
    public int CompareDistance(NodeId a, NodeId b) => (a ^ this).CompareTo(b ^ this);

    public int LeadingZeroCount()
    {
        if (_a != 0)
        {
            return BitOperations.LeadingZeroCount(_a);
        }
        if (_b != 0)
        {
            return 64 + BitOperations.LeadingZeroCount(_b);
        }
        return 128 + BitOperations.LeadingZeroCount(_c);
    }

    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], _c);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>The byte at <paramref name="index"/> (0..19), for BEP 42's checks of single bytes.</summary>
    public byte this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Length);
            return index switch
            {
                < 8 => (byte)(_a >> (56 - index * 8)),
                < 16 => (byte)(_b >> (56 - (index - 8) * 8)),
                _ => (byte)(_c >> (24 - (index - 16) * 8)),
            };
        }
    }

    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public override string ToString() => ToHex();

    public bool Equals(NodeId other) => _a == other._a && _b == other._b && _c == other._c;

    public override bool Equals(object? obj) => obj is NodeId other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    public int CompareTo(NodeId other)
    {
        var byA = _a.CompareTo(other._a);
        if (byA != 0)
        {
            return byA;
        }
        var byB = _b.CompareTo(other._b);
        return byB != 0 ? byB : _c.CompareTo(other._c);
    }

    public static bool operator ==(NodeId left, NodeId right) => left.Equals(right);

    public static bool operator !=(NodeId left, NodeId right) => !left.Equals(right);

    public static bool operator <(NodeId left, NodeId right) => left.CompareTo(right) < 0;

    public static bool operator >(NodeId left, NodeId right) => left.CompareTo(right) > 0;

    public static bool operator <=(NodeId left, NodeId right) => left.CompareTo(right) <= 0;

    public static bool operator >=(NodeId left, NodeId right) => left.CompareTo(right) >= 0;

    public static NodeId operator ^(NodeId left, NodeId right) =>
        new(left._a ^ right._a, left._b ^ right._b, left._c ^ right._c);

    public static NodeId operator &(NodeId left, NodeId right) =>
        new(left._a & right._a, left._b & right._b, left._c & right._c);

    public static NodeId operator |(NodeId left, NodeId right) =>
        new(left._a | right._a, left._b | right._b, left._c | right._c);

    public static NodeId operator ~(NodeId value) => new(~value._a, ~value._b, ~value._c);

    /// <summary>An id whose first <paramref name="bits"/> bits are set and the rest clear.</summary>
    public static NodeId PrefixMask(int bits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, Bits);
        static ulong High64(int n) => n <= 0 ? 0 : n >= 64 ? ulong.MaxValue : ulong.MaxValue << (64 - n);
        static uint High32(int n) => n <= 0 ? 0 : n >= 32 ? uint.MaxValue : uint.MaxValue << (32 - n);
        return new NodeId(High64(bits), High64(bits - 64), High32(bits - 128));
    }

    private static NodeId SingleBit(int index) => PrefixMask(index + 1) & ~PrefixMask(index);
}
