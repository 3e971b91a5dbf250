using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace BitTorrentActors.Protocol.Wire;

/// <summary>
/// The set of pieces a peer (or we) have, stored exactly as BEP 3 puts it on the wire so that reading and
/// writing a bitfield message is a block copy.
/// </summary>
/// <remarks>
/// Wire layout (BEP 3): one bit per piece, ceil(pieceCount / 8) bytes, most significant bit first.
/// <code>
///   byte 0                      byte 1
///   +--+--+--+--+--+--+--+--+   +--+--+--+--+--+--+--+--+
///   |p0|p1|p2|p3|p4|p5|p6|p7|   |p8|p9|..|..|..|sp|sp|sp|   sp = spare bits, must be zero
///   +--+--+--+--+--+--+--+--+   +--+--+--+--+--+--+--+--+
/// </code>
/// Each instance is owned by a single actor, so nothing here is synchronised.
/// </remarks>
public sealed class Bitfield
{
    private readonly byte[] _bits;
    private int _count;

    /// <summary>Creates an empty bitfield (no piece set) for <paramref name="pieceCount"/> pieces.</summary>
    public Bitfield(int pieceCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        PieceCount = pieceCount;
        _bits = new byte[ByteLengthFor(pieceCount)];
    }

    private Bitfield(int pieceCount, byte[] bits, int count)
    {
        PieceCount = pieceCount;
        _bits = bits;
        _count = count;
    }

    /// <summary>Number of pieces this bitfield describes.</summary>
    public int PieceCount { get; }

    /// <summary>Number of set bits, maintained on every change so a "how complete are they" check is O(1).</summary>
    public int Count => _count;

    /// <summary>Size of the bitfield on the wire: ceil(PieceCount / 8).</summary>
    public int ByteLength => _bits.Length;

    /// <summary>True when every piece is set (vacuously true for zero pieces).</summary>
    public bool IsComplete => _count == PieceCount;

    /// <summary>True when no piece is set.</summary>
    public bool IsEmpty => _count == 0;

    /// <summary>Bytes needed on the wire for <paramref name="pieceCount"/> pieces.</summary>
    public static int ByteLengthFor(int pieceCount) => (int)(((uint)pieceCount + 7u) >> 3);

    /// <summary>A bitfield with no piece set.</summary>
    public static Bitfield None(int pieceCount) => new(pieceCount);

    /// <summary>A bitfield with every piece set, as implied by a BEP 6 "have all".</summary>
    public static Bitfield AllSet(int pieceCount)
    {
        var bitfield = new Bitfield(pieceCount);
        bitfield.SetAll();
        return bitfield;
    }

    /// <summary>
    /// Parses a bitfield message payload. Returns null when the size is not ceil(pieceCount / 8) or a spare
    /// trailing bit is set: BEP 3 says to drop such a peer, and that is the caller's decision, not an exception.
    /// </summary>
    public static Bitfield? FromWire(ReadOnlySpan<byte> payload, int pieceCount) =>
        TryFromWire(payload, pieceCount, out var bitfield) ? bitfield : null;

    /// <inheritdoc cref="FromWire"/>
    public static bool TryFromWire(ReadOnlySpan<byte> payload, int pieceCount, [NotNullWhen(true)] out Bitfield? bitfield)
    {
        bitfield = null;
        if (pieceCount < 0 || payload.Length != ByteLengthFor(pieceCount) || !SpareBitsClear(payload, pieceCount))
        {
            return false;
        }

        var bits = payload.ToArray();
        bitfield = new Bitfield(pieceCount, bits, PopCount(bits));
        return true;
    }

    /// <summary>
    /// True when the bits past <paramref name="pieceCount"/> in the last byte are zero. Exposed so the frame
    /// reader can validate a bitfield in place without materialising it.
    /// </summary>
    public static bool SpareBitsClear(ReadOnlySpan<byte> payload, int pieceCount)
    {
        var usedInLastByte = pieceCount & 7;
        if (usedInLastByte == 0 || payload.IsEmpty)
        {
            return true;
        }

        var spareMask = (byte)(0xFF >> usedInLastByte);
        return (payload[^1] & spareMask) == 0;
    }

    /// <summary>Whether piece <paramref name="index"/> is set.</summary>
    public bool Get(int index)
    {
        CheckIndex(index);
        return (_bits[index >> 3] & MaskFor(index)) != 0;
    }

    /// <summary>Indexer alias for <see cref="Get"/>.</summary>
    public bool this[int index] => Get(index);

    /// <summary>Sets piece <paramref name="index"/>; returns true if it was not already set.</summary>
    public bool Set(int index)
    {
        CheckIndex(index);
        ref var b = ref _bits[index >> 3];
        var mask = MaskFor(index);
        if ((b & mask) != 0)
        {
            return false;
        }

        b |= mask;
        _count++;
        return true;
    }

    /// <summary>Clears piece <paramref name="index"/>; returns true if it was set.</summary>
    public bool Clear(int index)
    {
        CheckIndex(index);
        ref var b = ref _bits[index >> 3];
        var mask = MaskFor(index);
        if ((b & mask) == 0)
        {
            return false;
        }

        b &= (byte)~mask;
        _count--;
        return true;
    }

    /// <summary>Sets every piece, keeping the spare bits zero so the bitfield stays valid on the wire.</summary>
    public void SetAll()
    {
        _bits.AsSpan().Fill(0xFF);
        var usedInLastByte = PieceCount & 7;
        if (usedInLastByte != 0)
        {
            _bits[^1] = (byte)(0xFF << (8 - usedInLastByte));
        }

        _count = PieceCount;
    }

    /// <summary>Clears every piece.</summary>
    public void ClearAll()
    {
        _bits.AsSpan().Clear();
        _count = 0;
    }

    /// <summary>Copies the wire form into <paramref name="destination"/>; returns <see cref="ByteLength"/>.</summary>
    public int WriteTo(Span<byte> destination)
    {
        _bits.CopyTo(destination);
        return _bits.Length;
    }

    /// <summary>Read-only view of the wire form, for writers that want to avoid the copy in <see cref="WriteTo"/>.</summary>
    public ReadOnlySpan<byte> AsSpan() => _bits;

    /// <summary>An independent copy, e.g. to hand a snapshot to another actor.</summary>
    public Bitfield Clone() => new(PieceCount, (byte[])_bits.Clone(), _count);

    /// <summary>
    /// Enumerates set piece indices in ascending order. Skips whole zero bytes, so a sparse bitfield costs
    /// roughly one step per byte plus one per set bit.
    /// </summary>
    public SetIndexEnumerator GetSetIndices() => new(_bits);

    /// <summary>Index of the first set piece at or after <paramref name="start"/>, or -1.</summary>
    public int NextSet(int start)
    {
        if ((uint)start >= (uint)PieceCount)
        {
            return -1;
        }

        var byteIndex = start >> 3;
        var current = (byte)(_bits[byteIndex] & (0xFF >> (start & 7)));
        while (true)
        {
            if (current != 0)
            {
                // The byte is MSB-first, so the first set piece is the highest set bit of the byte.
                return (byteIndex << 3) + BitOperations.LeadingZeroCount((uint)current) - 24;
            }

            if (++byteIndex >= _bits.Length)
            {
                return -1;
            }

            current = _bits[byteIndex];
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"Bitfield({_count}/{PieceCount})";

    private static byte MaskFor(int index) => (byte)(0x80 >> (index & 7));

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)PieceCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Piece index must be below {PieceCount}.");
        }
    }

    private static int PopCount(ReadOnlySpan<byte> bits)
    {
        var count = 0;
        var i = 0;
        for (; i + sizeof(ulong) <= bits.Length; i += sizeof(ulong))
        {
            count += BitOperations.PopCount(BinaryPrimitives.ReadUInt64LittleEndian(bits[i..]));
        }

        for (; i < bits.Length; i++)
        {
            count += BitOperations.PopCount(bits[i]);
        }

        return count;
    }

    /// <summary>Allocation-free enumerator over the set indices of a <see cref="Bitfield"/>.</summary>
    public ref struct SetIndexEnumerator
    {
        private readonly ReadOnlySpan<byte> _bits;
        private int _byteIndex;
        private uint _remaining;

        internal SetIndexEnumerator(ReadOnlySpan<byte> bits)
        {
            _bits = bits;
            _byteIndex = -1;
            _remaining = 0;
            Current = -1;
        }

        /// <summary>The current set piece index.</summary>
        public int Current { get; private set; }

        /// <summary>Lets the enumerator be used directly in a foreach.</summary>
        public readonly SetIndexEnumerator GetEnumerator() => this;

        /// <summary>Advances to the next set index.</summary>
        public bool MoveNext()
        {
            while (_remaining == 0)
            {
                if (++_byteIndex >= _bits.Length)
                {
                    return false;
                }

                _remaining = _bits[_byteIndex];
            }

            var bitInByte = BitOperations.LeadingZeroCount(_remaining) - 24;
            _remaining &= ~(0x80u >> bitInByte);
            Current = (_byteIndex << 3) + bitInByte;
            return true;
        }
    }
}
