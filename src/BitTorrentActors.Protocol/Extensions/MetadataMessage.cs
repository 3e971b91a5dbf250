using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using BitTorrentActors.Protocol.Bencode;

namespace BitTorrentActors.Protocol.Extensions;

/// <summary>BEP 9 <c>msg_type</c>.</summary>
public enum MetadataMessageType
{
    Request = 0,
    Data = 1,
    Reject = 2,
}

/// <summary>
/// One BEP 9 <c>ut_metadata</c> message: a bencoded dictionary, and for data the raw piece right after it.
/// <code>
///   d 8:msg_type i0e 5:piece i0e e                               request piece 0
///   d 8:msg_type i1e 5:piece i0e 10:total_size i31235e e &lt;16 KiB&gt;  data: piece 0 of a 31,235-byte info dict
///   d 8:msg_type i2e 5:piece i0e e                               reject (the sender lacks the metadata)
/// </code>
/// The metadata is the info dictionary, cut in 16 KiB pieces (the last may be shorter). A parsed data piece is a
/// slice of the payload given, not a copy.
/// </summary>
public readonly record struct MetadataMessage(MetadataMessageType Type, int Piece, long TotalSize, ReadOnlyMemory<byte> Data)
{
    /// <summary>The piece size BEP 9 fixes.</summary>
    public const int PieceSize = 16 * 1024;

    /// <summary>libtorrent disconnects on a ut_metadata message over 17 KiB: a 16 KiB piece plus its header.</summary>
    public const int MaxMessageLength = 17 * 1024;

    /// <summary>libtorrent's <c>max_metadata_size</c> default (30 MiB): the largest info dictionary we fetch.</summary>
    public const long MaxMetadataSize = 30L * 1024 * 1024;

    /// <summary>How many pieces a metadata of <paramref name="totalSize"/> bytes has.</summary>
    public static int PieceCount(long totalSize) => (int)((totalSize + PieceSize - 1) / PieceSize);

    /// <summary>The length of piece <paramref name="piece"/> of a metadata of <paramref name="totalSize"/> bytes.</summary>
    public static int PieceLength(long totalSize, int piece) =>
        (int)Math.Min(PieceSize, totalSize - (long)piece * PieceSize);

    /// <summary>
    /// Parses the payload after the extended id. False with an error for what breaks BEP 9 (too long, not a
    /// dictionary, no msg_type or piece, a data message without total_size); a message with an unknown msg_type is
    /// returned with <paramref name="unknownType"/> set so the caller ignores it, as BEP 9 asks.
    /// </summary>
    public static bool TryParse(
        in ReadOnlySequence<byte> payload,
        out MetadataMessage message,
        out bool unknownType,
        [NotNullWhen(false)] out string? error)
    {
        message = default;
        unknownType = false;
        if (payload.Length > MaxMessageLength)
        {
            error = $"ut_metadata message of {payload.Length} bytes (at most {MaxMessageLength})";
            return false;
        }
        var bytes = ExtensionPayload.Contiguous(payload);
        var decoded = BencodeDecoder.DecodePrefix(bytes, new BencodeLimits(MaxDepth: 4, MaxTokens: 64));
        if (!decoded.Success || decoded.Value is not BDictionary dictionary)
        {
            error = decoded.Success ? "ut_metadata message is not a dictionary" : $"ut_metadata message is not bencode: {decoded.Error}";
            return false;
        }
        if (dictionary.GetInteger("msg_type") is not { } type || dictionary.GetInteger("piece") is not { } piece)
        {
            error = "ut_metadata message without msg_type or piece";
            return false;
        }
        if (piece.Value is < 0 or > int.MaxValue)
        {
            error = $"ut_metadata piece {piece.Value} out of range";
            return false;
        }
        error = null;
        switch (type.Value)
        {
            case (long)MetadataMessageType.Request:
            case (long)MetadataMessageType.Reject:
                if (decoded.Consumed != bytes.Length)
                {
                    error = "ut_metadata request or reject with trailing bytes";
                    return false;
                }
                message = new MetadataMessage((MetadataMessageType)type.Value, (int)piece.Value, 0, ReadOnlyMemory<byte>.Empty);
                return true;
            case (long)MetadataMessageType.Data:
                if (dictionary.GetInteger("total_size") is not { Value: > 0 } total)
                {
                    error = "ut_metadata data without a positive total_size";
                    return false;
                }
                message = new MetadataMessage(MetadataMessageType.Data, (int)piece.Value, total.Value, bytes[decoded.Consumed..]);
                return true;
            default:
                unknownType = true;
                return true;
        }
    }

    /// <summary>The payload of a request for <paramref name="piece"/>.</summary>
    public static byte[] EncodeRequest(int piece) => EncodeHeader(MetadataMessageType.Request, piece, totalSize: null);

    /// <summary>The payload of a reject of <paramref name="piece"/>.</summary>
    public static byte[] EncodeReject(int piece) => EncodeHeader(MetadataMessageType.Reject, piece, totalSize: null);

    /// <summary>The payload of a data message: the header dictionary, then the piece's bytes.</summary>
    public static byte[] EncodeData(int piece, long totalSize, ReadOnlySpan<byte> data)
    {
        var header = EncodeHeader(MetadataMessageType.Data, piece, totalSize);
        var result = new byte[header.Length + data.Length];
        header.CopyTo(result, 0);
        data.CopyTo(result.AsSpan(header.Length));
        return result;
    }

    private static byte[] EncodeHeader(MetadataMessageType type, int piece, long? totalSize)
    {
        var entries = new List<(string, BValue)>
        {
            ("msg_type", new BInteger((long)type)),
            ("piece", new BInteger(piece)),
        };
        if (totalSize is { } total)
        {
            entries.Add(("total_size", new BInteger(total)));
        }
        return BencodeEncoder.Encode(BDictionary.From(entries.ToArray()));
    }
}
