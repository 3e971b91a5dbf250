using System.Buffers;
using System.Buffers.Binary;

namespace BitTorrentActors.Protocol.Wire;

/// <summary>Outcome of parsing a handshake (or its 48-byte prefix).</summary>
public enum HandshakeReadStatus
{
    /// <summary>The handshake was parsed; the out values are set.</summary>
    Complete,

    /// <summary>The bytes so far are a valid start; wait for more.</summary>
    NeedMoreData,

    /// <summary>Not a BitTorrent handshake; close the connection.</summary>
    Invalid,
}

/// <summary>
/// Reserved-byte flags we care about, as a big-endian view of the 8 reserved bytes (reserved[0] is the high
/// byte of the <see cref="ulong"/>, reserved[7] the low byte).
/// </summary>
[Flags]
public enum HandshakeReserved : ulong
{
    /// <summary>No extension advertised.</summary>
    None = 0,

    /// <summary>BEP 5 DHT: reserved[7] &amp; 0x01.</summary>
    Dht = 0x01,

    /// <summary>BEP 6 fast extension: reserved[7] &amp; 0x04.</summary>
    FastExtension = 0x04,

    /// <summary>BEP 10 extension protocol: reserved[5] &amp; 0x10.</summary>
    ExtensionProtocol = 0x10UL << 16,
}

/// <summary>
/// The BEP 3 handshake, the first thing each side sends.
/// </summary>
/// <remarks>
/// Layout (68 bytes):
/// <code>
///   0         1                       20         28                  48           68
///   +---------+-----------------------+----------+-------------------+------------+
///   | pstrlen | pstr                  | reserved | info-hash (SHA-1) | peer id    |
///   | 19      | "BitTorrent protocol" | 8 bytes  | 20 bytes          | 20 bytes   |
///   +---------+-----------------------+----------+-------------------+------------+
/// </code>
/// The first 48 bytes (up to and including the info-hash) are readable on their own via
/// <see cref="TryReadPrefix(ReadOnlySpan{byte}, Span{byte}, out HandshakeReserved)"/> because a listener has to
/// pick the torrent before the peer id arrives (and some clients wait for our handshake before sending theirs).
/// </remarks>
public sealed class Handshake
{
    /// <summary>Total size of a handshake on the wire.</summary>
    public const int Length = 68;

    /// <summary>Bytes up to and including the info-hash.</summary>
    public const int PrefixLength = 48;

    /// <summary>Size of the info-hash field.</summary>
    public const int InfoHashLength = 20;

    private const int ProtocolNameLength = 19;
    private const int ReservedOffset = 1 + ProtocolNameLength;
    private const int InfoHashOffset = ReservedOffset + 8;
    private const int PeerIdOffset = InfoHashOffset + InfoHashLength;

    /// <summary>The BEP 3 protocol string.</summary>
    public static ReadOnlySpan<byte> ProtocolName => "BitTorrent protocol"u8;

    private readonly byte[] _infoHash;

    /// <summary>Builds a handshake to send or one that was received.</summary>
    public Handshake(ReadOnlySpan<byte> infoHash, PeerId peerId, HandshakeReserved reserved)
    {
        if (infoHash.Length != InfoHashLength)
        {
            throw new ArgumentException($"An info-hash is {InfoHashLength} bytes, got {infoHash.Length}.", nameof(infoHash));
        }

        ArgumentNullException.ThrowIfNull(peerId);
        _infoHash = infoHash.ToArray();
        PeerId = peerId;
        Reserved = reserved;
    }

    /// <summary>The 20-byte info-hash.</summary>
    public ReadOnlySpan<byte> InfoHash => _infoHash;

    /// <summary>The remote (or our) peer id.</summary>
    public PeerId PeerId { get; }

    /// <summary>All 8 reserved bytes, including bits we do not interpret, so they can be logged.</summary>
    public HandshakeReserved Reserved { get; }

    /// <summary>BEP 6: the peer understands have-all/have-none/reject/suggest/allowed-fast.</summary>
    public bool SupportsFastExtension => (Reserved & HandshakeReserved.FastExtension) != 0;

    /// <summary>BEP 10: the peer understands extended messages (id 20).</summary>
    public bool SupportsExtensionProtocol => (Reserved & HandshakeReserved.ExtensionProtocol) != 0;

    /// <summary>BEP 5: the peer runs a DHT node and may send a port message.</summary>
    public bool SupportsDht => (Reserved & HandshakeReserved.Dht) != 0;

    /// <summary>Writes the 68 bytes; returns <see cref="Length"/>.</summary>
    public int WriteTo(Span<byte> destination)
    {
        if (destination.Length < Length)
        {
            throw new ArgumentException($"A handshake needs {Length} bytes.", nameof(destination));
        }

        destination[0] = ProtocolNameLength;
        ProtocolName.CopyTo(destination[1..]);
        BinaryPrimitives.WriteUInt64BigEndian(destination[ReservedOffset..], (ulong)Reserved);
        _infoHash.CopyTo(destination[InfoHashOffset..]);
        PeerId.CopyTo(destination[PeerIdOffset..]);
        return Length;
    }

    /// <summary>
    /// Parses a full handshake from the start of <paramref name="buffer"/>. Rejects a wrong protocol string
    /// as soon as the first differing byte is present rather than waiting for all 68 bytes, so a non-BitTorrent
    /// client cannot hold a connection slot open.
    /// </summary>
    public static HandshakeReadStatus TryRead(ReadOnlySpan<byte> buffer, out Handshake? handshake, out int consumed)
    {
        handshake = null;
        consumed = 0;
        var status = CheckProtocolName(buffer);
        if (status != HandshakeReadStatus.Complete)
        {
            return status;
        }

        if (buffer.Length < Length)
        {
            return HandshakeReadStatus.NeedMoreData;
        }

        var reserved = (HandshakeReserved)BinaryPrimitives.ReadUInt64BigEndian(buffer[ReservedOffset..]);
        handshake = new Handshake(
            buffer.Slice(InfoHashOffset, InfoHashLength),
            new PeerId(buffer.Slice(PeerIdOffset, PeerId.Length)),
            reserved);
        consumed = Length;
        return HandshakeReadStatus.Complete;
    }

    /// <inheritdoc cref="TryRead(ReadOnlySpan{byte}, out Handshake?, out int)"/>
    public static HandshakeReadStatus TryRead(in ReadOnlySequence<byte> buffer, out Handshake? handshake, out int consumed)
    {
        if (buffer.IsSingleSegment)
        {
            return TryRead(buffer.FirstSpan, out handshake, out consumed);
        }

        // A handshake is small and read once per connection, so gathering it onto the stack is cheaper than
        // parsing across segments.
        Span<byte> scratch = stackalloc byte[Length];
        var available = (int)Math.Min(buffer.Length, Length);
        buffer.Slice(0, available).CopyTo(scratch);
        return TryRead(scratch[..available], out handshake, out consumed);
    }

    /// <summary>
    /// Parses the first 48 bytes only: validates the protocol string, copies the info-hash into
    /// <paramref name="infoHash"/> (20 bytes) and returns the reserved bits. On Complete, <see cref="PrefixLength"/>
    /// bytes were examined; nothing is consumed, so the connection that takes over can still call
    /// <see cref="TryRead(ReadOnlySpan{byte}, out Handshake?, out int)"/> on the same bytes.
    /// </summary>
    public static HandshakeReadStatus TryReadPrefix(ReadOnlySpan<byte> buffer, Span<byte> infoHash, out HandshakeReserved reserved)
    {
        reserved = HandshakeReserved.None;
        if (infoHash.Length < InfoHashLength)
        {
            throw new ArgumentException($"The info-hash destination needs {InfoHashLength} bytes.", nameof(infoHash));
        }

        var status = CheckProtocolName(buffer);
        if (status != HandshakeReadStatus.Complete)
        {
            return status;
        }

        if (buffer.Length < PrefixLength)
        {
            return HandshakeReadStatus.NeedMoreData;
        }

        reserved = (HandshakeReserved)BinaryPrimitives.ReadUInt64BigEndian(buffer[ReservedOffset..]);
        buffer.Slice(InfoHashOffset, InfoHashLength).CopyTo(infoHash);
        return HandshakeReadStatus.Complete;
    }

    /// <inheritdoc cref="TryReadPrefix(ReadOnlySpan{byte}, Span{byte}, out HandshakeReserved)"/>
    public static HandshakeReadStatus TryReadPrefix(in ReadOnlySequence<byte> buffer, Span<byte> infoHash, out HandshakeReserved reserved)
    {
        if (buffer.IsSingleSegment)
        {
            return TryReadPrefix(buffer.FirstSpan, infoHash, out reserved);
        }

        Span<byte> scratch = stackalloc byte[PrefixLength];
        var available = (int)Math.Min(buffer.Length, PrefixLength);
        buffer.Slice(0, available).CopyTo(scratch);
        return TryReadPrefix(scratch[..available], infoHash, out reserved);
    }

    /// <summary>
    /// Complete when pstrlen and the whole protocol string are present and right, Invalid as soon as any
    /// present byte is wrong, NeedMoreData otherwise.
    /// </summary>
    private static HandshakeReadStatus CheckProtocolName(ReadOnlySpan<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return HandshakeReadStatus.NeedMoreData;
        }

        if (buffer[0] != ProtocolNameLength)
        {
            return HandshakeReadStatus.Invalid;
        }

        var present = Math.Min(buffer.Length - 1, ProtocolNameLength);
        if (!buffer.Slice(1, present).SequenceEqual(ProtocolName[..present]))
        {
            return HandshakeReadStatus.Invalid;
        }

        return present == ProtocolNameLength ? HandshakeReadStatus.Complete : HandshakeReadStatus.NeedMoreData;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"Handshake(info-hash {Convert.ToHexStringLower(_infoHash)}, peer {PeerId}, reserved 0x{(ulong)Reserved:X16})";
}
