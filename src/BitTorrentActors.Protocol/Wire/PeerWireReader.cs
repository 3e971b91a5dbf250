using System.Buffers;

namespace BitTorrentActors.Protocol.Wire;

/// <summary>
/// Incremental decoder for the length-prefixed messages that follow the handshake. One instance per
/// connection; it holds only configuration, so it never buffers bytes itself.
/// </summary>
/// <remarks>
/// Framing (BEP 3), all integers big-endian:
/// <code>
///   +---------------+----+----------------------+
///   | length (u32)  | id | body (length - 1)    |     length 0 = keep-alive, no id
///   +---------------+----+----------------------+
/// </code>
/// Bodies, with the length prefix value each must have:
/// <code>
///   choke 0, unchoke 1, interested 2, not interested 3     len 1   (no body)
///   have all 0x0E, have none 0x0F (BEP 6)                   len 1   (no body)
///   have 4, suggest 0x0D, allowed fast 0x11                 len 5   index u32
///   request 6, cancel 8, reject 0x10 (BEP 6)                len 13  index u32 | begin u32 | length u32
///   port 9 (BEP 5)                                          len 3   port u16
///   piece 7                                                 len 9+n index u32 | begin u32 | block[n]
///   bitfield 5                                              len 1+n bits[n], n = ceil(pieces / 8)
///   extended 20 (BEP 10)                                    len 2+n ext id u8 | payload[n]
/// </code>
/// The length is checked against these rules as soon as the 5-byte header is present, so a hostile or broken
/// peer is refused before we wait for (and buffer) its body. Unknown ids are returned as
/// <see cref="PeerMessageKind.Unknown"/> frames for the caller to log and ignore, as BEP 3 asks; they are still
/// bounded by the largest legal message. Whether BEP 6 or BEP 10 messages were negotiated is the caller's
/// business; the reader decodes them regardless.
/// </remarks>
public sealed class PeerWireReader
{
    private const int LengthPrefixSize = 4;

    private int _pieceCount;
    private uint _maxFrameLength;

    /// <summary>Creates a reader; <paramref name="pieceCount"/> 0 means the torrent's size is not known yet.</summary>
    public PeerWireReader(PeerWireLimits? limits = null, int pieceCount = 0)
    {
        Limits = limits ?? PeerWireLimits.Default;
        ArgumentOutOfRangeException.ThrowIfNegative(Limits.MaxBlockLength, nameof(limits));
        ArgumentOutOfRangeException.ThrowIfNegative(Limits.MaxExtendedMessageLength, nameof(limits));
        ArgumentOutOfRangeException.ThrowIfNegative(Limits.MaxBitfieldLength, nameof(limits));
        PieceCount = pieceCount;
    }

    /// <summary>The limits this reader enforces.</summary>
    public PeerWireLimits Limits { get; }

    /// <summary>
    /// Number of pieces, used to demand an exact bitfield size. Settable because a magnet download learns it
    /// only after fetching the metadata, on a connection that is already open.
    /// </summary>
    public int PieceCount
    {
        get => _pieceCount;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _pieceCount = value;
            _maxFrameLength = ComputeMaxFrameLength(Limits, value);
        }
    }

    /// <summary>The largest length prefix accepted; anything above is refused from the prefix alone.</summary>
    public uint MaxFrameLength => _maxFrameLength;

    /// <summary>
    /// Decodes the frame at the start of <paramref name="buffer"/>. On <see cref="PeerWireReadStatus.Complete"/>
    /// the buffer is advanced past that frame; otherwise it is left as is.
    /// </summary>
    public PeerWireReadStatus TryRead(ref ReadOnlySequence<byte> buffer, out PeerFrame frame, out PeerWireError error)
    {
        frame = default;
        error = PeerWireError.None;
        var reader = new SequenceReader<byte>(buffer);

        if (!reader.TryReadBigEndian(out int rawLength))
        {
            return PeerWireReadStatus.NeedMoreData;
        }

        // Read as unsigned so that a prefix with the top bit set is simply "huge" rather than negative.
        var length = (uint)rawLength;
        if (length == 0)
        {
            frame = PeerFrame.KeepAlive;
            buffer = buffer.Slice(LengthPrefixSize);
            return PeerWireReadStatus.Complete;
        }

        if (length > _maxFrameLength)
        {
            error = new PeerWireError(PeerWireErrorKind.FrameTooLong, $"length prefix {length} exceeds the limit {_maxFrameLength}");
            return PeerWireReadStatus.ProtocolError;
        }

        if (!reader.TryRead(out var id))
        {
            return PeerWireReadStatus.NeedMoreData;
        }

        if (!ValidateLength(id, length, out error))
        {
            return PeerWireReadStatus.ProtocolError;
        }

        var bodyLength = length - 1;
        if (reader.Remaining < bodyLength)
        {
            return PeerWireReadStatus.NeedMoreData;
        }

        var body = buffer.Slice(reader.Position, bodyLength);
        if (!TryDecodeBody(id, body, out frame, out error))
        {
            return PeerWireReadStatus.ProtocolError;
        }

        buffer = buffer.Slice(body.End);
        return PeerWireReadStatus.Complete;
    }

    /// <summary>Length prefix value of the fixed-size messages, or 0 for variable-size and unknown ids.</summary>
    private static uint FixedLength(PeerMessageKind kind) => kind switch
    {
        PeerMessageKind.Choke or PeerMessageKind.Unchoke or PeerMessageKind.Interested or PeerMessageKind.NotInterested
            or PeerMessageKind.HaveAll or PeerMessageKind.HaveNone => 1,
        PeerMessageKind.Have or PeerMessageKind.Suggest or PeerMessageKind.AllowedFast => 5,
        PeerMessageKind.Request or PeerMessageKind.Cancel or PeerMessageKind.Reject => 13,
        PeerMessageKind.Port => 3,
        _ => 0,
    };

    private bool ValidateLength(byte id, uint length, out PeerWireError error)
    {
        error = PeerWireError.None;
        var kind = (PeerMessageKind)id;
        var expected = FixedLength(kind);
        if (expected != 0 && length != expected)
        {
            error = new PeerWireError(PeerWireErrorKind.WrongMessageLength, $"{kind} (id {id}) has length {length}, expected {expected}");
        }
        else if (kind == PeerMessageKind.Piece && length < 9)
        {
            error = new PeerWireError(PeerWireErrorKind.MessageTooShort, $"piece message length {length} is below 9");
        }
        else if (kind == PeerMessageKind.Piece && length - 9 > (uint)Limits.MaxBlockLength)
        {
            error = new PeerWireError(PeerWireErrorKind.BlockTooLong, $"piece block of {length - 9} bytes exceeds {Limits.MaxBlockLength}");
        }
        else if (kind == PeerMessageKind.Bitfield && _pieceCount > 0 && length - 1 != (uint)Bitfield.ByteLengthFor(_pieceCount))
        {
            error = new PeerWireError(
                PeerWireErrorKind.BitfieldWrongLength,
                $"bitfield of {length - 1} bytes, expected {Bitfield.ByteLengthFor(_pieceCount)} for {_pieceCount} pieces");
        }
        else if (kind == PeerMessageKind.Bitfield && _pieceCount == 0 && length - 1 > (uint)Limits.MaxBitfieldLength)
        {
            error = new PeerWireError(PeerWireErrorKind.BitfieldWrongLength, $"bitfield of {length - 1} bytes exceeds {Limits.MaxBitfieldLength}");
        }
        else if (kind == PeerMessageKind.Extended && length < 2)
        {
            error = new PeerWireError(PeerWireErrorKind.MessageTooShort, "extended message without an extended id");
        }
        else if (kind == PeerMessageKind.Extended && length - 2 > (uint)Limits.MaxExtendedMessageLength)
        {
            error = new PeerWireError(
                PeerWireErrorKind.ExtendedMessageTooLong,
                $"extended payload of {length - 2} bytes exceeds {Limits.MaxExtendedMessageLength}");
        }

        // Unknown ids fall through: the overall frame limit, already checked, is their only bound.
        return error.Kind == PeerWireErrorKind.None;
    }

    private bool TryDecodeBody(byte id, ReadOnlySequence<byte> body, out PeerFrame frame, out PeerWireError error)
    {
        error = PeerWireError.None;
        var kind = (PeerMessageKind)id;
        var reader = new SequenceReader<byte>(body);
        uint index = 0, begin = 0, length = 0;
        var payload = ReadOnlySequence<byte>.Empty;
        ushort port = 0;
        byte extendedId = 0;

        // Lengths were validated against the header, so the reads below cannot run short.
        switch (kind)
        {
            case PeerMessageKind.Choke:
            case PeerMessageKind.Unchoke:
            case PeerMessageKind.Interested:
            case PeerMessageKind.NotInterested:
            case PeerMessageKind.HaveAll:
            case PeerMessageKind.HaveNone:
                break;
            case PeerMessageKind.Have:
            case PeerMessageKind.Suggest:
            case PeerMessageKind.AllowedFast:
                index = ReadUInt32(ref reader);
                break;
            case PeerMessageKind.Request:
            case PeerMessageKind.Cancel:
            case PeerMessageKind.Reject:
                index = ReadUInt32(ref reader);
                begin = ReadUInt32(ref reader);
                length = ReadUInt32(ref reader);
                break;
            case PeerMessageKind.Port:
                reader.TryReadBigEndian(out short rawPort);
                port = (ushort)rawPort;
                break;
            case PeerMessageKind.Piece:
                index = ReadUInt32(ref reader);
                begin = ReadUInt32(ref reader);
                payload = body.Slice(reader.Position);
                length = (uint)payload.Length;
                break;
            case PeerMessageKind.Bitfield:
                payload = body;
                if (_pieceCount > 0 && !SpareBitsClear(body, _pieceCount))
                {
                    frame = default;
                    error = new PeerWireError(PeerWireErrorKind.BitfieldSpareBitsSet, $"bitfield has spare bits set past piece {_pieceCount - 1}");
                    return false;
                }

                break;
            case PeerMessageKind.Extended:
                reader.TryRead(out extendedId);
                payload = body.Slice(reader.Position);
                break;
            default:
                kind = PeerMessageKind.Unknown;
                payload = body;
                break;
        }

        frame = new PeerFrame(kind, id, index, begin, length, port, extendedId, payload);
        return true;
    }

    private static uint ReadUInt32(ref SequenceReader<byte> reader)
    {
        reader.TryReadBigEndian(out int value);
        return (uint)value;
    }

    private static bool SpareBitsClear(ReadOnlySequence<byte> bits, int pieceCount)
    {
        if (bits.IsEmpty)
        {
            return true;
        }

        var last = bits.Slice(bits.Length - 1).FirstSpan;
        return Bitfield.SpareBitsClear(last, pieceCount);
    }

    private static uint ComputeMaxFrameLength(PeerWireLimits limits, int pieceCount)
    {
        long bitfield = pieceCount > 0 ? Bitfield.ByteLengthFor(pieceCount) : limits.MaxBitfieldLength;
        var max = Math.Max(13L, 9L + limits.MaxBlockLength);
        max = Math.Max(max, 2L + limits.MaxExtendedMessageLength);
        max = Math.Max(max, 1L + bitfield);
        return (uint)Math.Min(max, int.MaxValue);
    }
}
