using System.Buffers.Binary;

namespace BitTorrentActors.Protocol.Wire;

/// <summary>
/// Encoders for peer-wire messages into a caller-supplied buffer (typically a <c>PipeWriter</c> span).
/// Each returns the number of bytes written; the *Size constants give the exact sizes, so a caller can
/// request the right span up front. A destination that is too small is a caller bug and throws.
/// </summary>
/// <remarks>
/// Every message is <c>length (u32 BE) | id (u8) | body</c>, length counting the id and body; see
/// <see cref="PeerWireReader"/> for the per-message body layouts.
/// </remarks>
public static class PeerWireWriter
{
    /// <summary>The 4-byte length prefix.</summary>
    public const int LengthPrefixSize = 4;

    /// <summary>Keep-alive: a zero length prefix.</summary>
    public const int KeepAliveSize = 4;

    /// <summary>Choke, unchoke, interested, not interested, have all, have none: prefix + id.</summary>
    public const int NoPayloadMessageSize = 5;

    /// <summary>Have, suggest, allowed fast: prefix + id + index.</summary>
    public const int HaveSize = 9;

    /// <summary>Request, cancel, reject: prefix + id + index + begin + length.</summary>
    public const int RequestSize = 17;

    /// <summary>Port: prefix + id + u16.</summary>
    public const int PortSize = 7;

    /// <summary>Piece header before the block: prefix + id + index + begin.</summary>
    public const int PieceHeaderSize = 13;

    /// <summary>Bitfield header before the bits: prefix + id.</summary>
    public const int BitfieldHeaderSize = 5;

    /// <summary>Extended header before the payload: prefix + id + extended id.</summary>
    public const int ExtendedHeaderSize = 6;

    /// <summary>Total size of a piece message with a block of <paramref name="blockLength"/> bytes.</summary>
    public static int PieceSize(int blockLength) => PieceHeaderSize + blockLength;

    /// <summary>Total size of a bitfield message for <paramref name="bitfield"/>.</summary>
    public static int BitfieldSize(Bitfield bitfield) => BitfieldHeaderSize + bitfield.ByteLength;

    /// <summary>Total size of an extended message with <paramref name="payloadLength"/> payload bytes.</summary>
    public static int ExtendedSize(int payloadLength) => ExtendedHeaderSize + payloadLength;

    /// <summary>Writes a keep-alive.</summary>
    public static int WriteKeepAlive(Span<byte> destination)
    {
        EnsureSpace(destination, KeepAliveSize);
        BinaryPrimitives.WriteUInt32BigEndian(destination, 0);
        return KeepAliveSize;
    }

    /// <summary>Writes a choke.</summary>
    public static int WriteChoke(Span<byte> destination) => WriteNoPayload(destination, PeerMessageKind.Choke);

    /// <summary>Writes an unchoke.</summary>
    public static int WriteUnchoke(Span<byte> destination) => WriteNoPayload(destination, PeerMessageKind.Unchoke);

    /// <summary>Writes an interested.</summary>
    public static int WriteInterested(Span<byte> destination) => WriteNoPayload(destination, PeerMessageKind.Interested);

    /// <summary>Writes a not interested.</summary>
    public static int WriteNotInterested(Span<byte> destination) => WriteNoPayload(destination, PeerMessageKind.NotInterested);

    /// <summary>Writes a BEP 6 have all.</summary>
    public static int WriteHaveAll(Span<byte> destination) => WriteNoPayload(destination, PeerMessageKind.HaveAll);

    /// <summary>Writes a BEP 6 have none.</summary>
    public static int WriteHaveNone(Span<byte> destination) => WriteNoPayload(destination, PeerMessageKind.HaveNone);

    /// <summary>Writes a have.</summary>
    public static int WriteHave(Span<byte> destination, uint index) => WriteIndex(destination, PeerMessageKind.Have, index);

    /// <summary>Writes a BEP 6 suggest piece.</summary>
    public static int WriteSuggest(Span<byte> destination, uint index) => WriteIndex(destination, PeerMessageKind.Suggest, index);

    /// <summary>Writes a BEP 6 allowed fast.</summary>
    public static int WriteAllowedFast(Span<byte> destination, uint index) => WriteIndex(destination, PeerMessageKind.AllowedFast, index);

    /// <summary>Writes a request.</summary>
    public static int WriteRequest(Span<byte> destination, uint index, uint begin, uint length) =>
        WriteBlockRef(destination, PeerMessageKind.Request, index, begin, length);

    /// <summary>Writes a cancel.</summary>
    public static int WriteCancel(Span<byte> destination, uint index, uint begin, uint length) =>
        WriteBlockRef(destination, PeerMessageKind.Cancel, index, begin, length);

    /// <summary>Writes a BEP 6 reject request.</summary>
    public static int WriteReject(Span<byte> destination, uint index, uint begin, uint length) =>
        WriteBlockRef(destination, PeerMessageKind.Reject, index, begin, length);

    /// <summary>Writes a BEP 5 port message.</summary>
    public static int WritePort(Span<byte> destination, ushort port)
    {
        EnsureSpace(destination, PortSize);
        WriteHeader(destination, 3, PeerMessageKind.Port);
        BinaryPrimitives.WriteUInt16BigEndian(destination[5..], port);
        return PortSize;
    }

    /// <summary>
    /// Writes only the 13-byte piece header for a block of <paramref name="blockLength"/> bytes, so the block
    /// can be written (or sent) straight from the piece buffer after it, without an intermediate copy.
    /// </summary>
    public static int WritePieceHeader(Span<byte> destination, uint index, uint begin, int blockLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blockLength);
        EnsureSpace(destination, PieceHeaderSize);
        WriteHeader(destination, 9u + (uint)blockLength, PeerMessageKind.Piece);
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], index);
        BinaryPrimitives.WriteUInt32BigEndian(destination[9..], begin);
        return PieceHeaderSize;
    }

    /// <summary>Writes a whole piece message, header and block; for callers that have to copy anyway.</summary>
    public static int WritePiece(Span<byte> destination, uint index, uint begin, ReadOnlySpan<byte> block)
    {
        EnsureSpace(destination, PieceSize(block.Length));
        var written = WritePieceHeader(destination, index, begin, block.Length);
        block.CopyTo(destination[written..]);
        return written + block.Length;
    }

    /// <summary>Writes a bitfield message.</summary>
    public static int WriteBitfield(Span<byte> destination, Bitfield bitfield)
    {
        ArgumentNullException.ThrowIfNull(bitfield);
        var size = BitfieldSize(bitfield);
        EnsureSpace(destination, size);
        WriteHeader(destination, 1u + (uint)bitfield.ByteLength, PeerMessageKind.Bitfield);
        bitfield.WriteTo(destination[BitfieldHeaderSize..]);
        return size;
    }

    /// <summary>Writes only the 6-byte extended header, for a payload the caller writes after it.</summary>
    public static int WriteExtendedHeader(Span<byte> destination, byte extendedId, int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        EnsureSpace(destination, ExtendedHeaderSize);
        WriteHeader(destination, 2u + (uint)payloadLength, PeerMessageKind.Extended);
        destination[5] = extendedId;
        return ExtendedHeaderSize;
    }

    /// <summary>Writes a BEP 10 extended message.</summary>
    public static int WriteExtended(Span<byte> destination, byte extendedId, ReadOnlySpan<byte> payload)
    {
        var size = ExtendedSize(payload.Length);
        EnsureSpace(destination, size);
        WriteExtendedHeader(destination, extendedId, payload.Length);
        payload.CopyTo(destination[ExtendedHeaderSize..]);
        return size;
    }

    private static int WriteNoPayload(Span<byte> destination, PeerMessageKind kind)
    {
        EnsureSpace(destination, NoPayloadMessageSize);
        WriteHeader(destination, 1, kind);
        return NoPayloadMessageSize;
    }

    private static int WriteIndex(Span<byte> destination, PeerMessageKind kind, uint index)
    {
        EnsureSpace(destination, HaveSize);
        WriteHeader(destination, 5, kind);
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], index);
        return HaveSize;
    }

    private static int WriteBlockRef(Span<byte> destination, PeerMessageKind kind, uint index, uint begin, uint length)
    {
        EnsureSpace(destination, RequestSize);
        WriteHeader(destination, 13, kind);
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], index);
        BinaryPrimitives.WriteUInt32BigEndian(destination[9..], begin);
        BinaryPrimitives.WriteUInt32BigEndian(destination[13..], length);
        return RequestSize;
    }

    private static void WriteHeader(Span<byte> destination, uint length, PeerMessageKind kind)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, length);
        destination[4] = (byte)kind;
    }

    private static void EnsureSpace(Span<byte> destination, int required)
    {
        if (destination.Length < required)
        {
            throw new ArgumentException($"The message needs {required} bytes, the destination has {destination.Length}.", nameof(destination));
        }
    }
}
