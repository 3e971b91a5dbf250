using System.Buffers;

namespace BitTorrentActors.Protocol.Wire;

/// <summary>Outcome of <see cref="PeerWireReader.TryRead"/>.</summary>
public enum PeerWireReadStatus
{
    /// <summary>One frame was read and the buffer advanced past it.</summary>
    Complete,

    /// <summary>The buffer holds a valid but incomplete frame; it was not advanced.</summary>
    NeedMoreData,

    /// <summary>The peer broke the protocol; the error says how. Drop the connection.</summary>
    ProtocolError,
}

/// <summary>
/// One decoded peer-wire message. Fields a message does not carry are zero. Variable-length content is a
/// slice of the reader's input, not a copy: it is valid only until the caller releases that buffer (e.g.
/// <c>PipeReader.AdvanceTo</c>), which lets a piece block be copied exactly once, into its piece buffer.
/// </summary>
public readonly struct PeerFrame
{
    internal PeerFrame(
        PeerMessageKind kind,
        byte messageId,
        uint index,
        uint begin,
        uint length,
        ushort port,
        byte extendedId,
        ReadOnlySequence<byte> payload)
    {
        Kind = kind;
        MessageId = messageId;
        Index = index;
        Begin = begin;
        Length = length;
        Port = port;
        ExtendedId = extendedId;
        Payload = payload;
    }

    /// <summary>What the message is.</summary>
    public PeerMessageKind Kind { get; }

    /// <summary>The id byte as received (meaningful for <see cref="PeerMessageKind.Unknown"/>); 0 for keep-alive.</summary>
    public byte MessageId { get; }

    /// <summary>Piece index: have, request, piece, cancel, suggest, reject, allowed fast.</summary>
    public uint Index { get; }

    /// <summary>Byte offset in the piece: request, piece, cancel, reject.</summary>
    public uint Begin { get; }

    /// <summary>
    /// Block length: as sent for request, cancel and reject (not validated, the engine decides); the data
    /// length for piece.
    /// </summary>
    public uint Length { get; }

    /// <summary>DHT port of a port message.</summary>
    public ushort Port { get; }

    /// <summary>The extended message id byte (BEP 10: 0 is the extension handshake).</summary>
    public byte ExtendedId { get; }

    /// <summary>
    /// Piece block, bitfield bytes, extended payload (after the extended id) or an unknown message's body;
    /// empty for everything else.
    /// </summary>
    public ReadOnlySequence<byte> Payload { get; }

    internal static PeerFrame KeepAlive => new(PeerMessageKind.KeepAlive, 0, 0, 0, 0, 0, 0, ReadOnlySequence<byte>.Empty);

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        PeerMessageKind.Have or PeerMessageKind.Suggest or PeerMessageKind.AllowedFast => $"{Kind}({Index})",
        PeerMessageKind.Request or PeerMessageKind.Cancel or PeerMessageKind.Reject or PeerMessageKind.Piece
            => $"{Kind}({Index}, {Begin}, {Length})",
        PeerMessageKind.Port => $"Port({Port})",
        PeerMessageKind.Extended => $"Extended({ExtendedId}, {Payload.Length} bytes)",
        PeerMessageKind.Bitfield => $"Bitfield({Payload.Length} bytes)",
        PeerMessageKind.Unknown => $"Unknown(id {MessageId}, {Payload.Length} bytes)",
        _ => Kind.ToString(),
    };
}
