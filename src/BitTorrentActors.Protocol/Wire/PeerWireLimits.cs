namespace BitTorrentActors.Protocol.Wire;

/// <summary>
/// Upper bounds the frame reader enforces before it buffers a message body, so a peer cannot make us hold
/// more than one legal message's worth of memory.
/// </summary>
public sealed record PeerWireLimits
{
    /// <summary>The block size every mainstream client requests; larger piece messages are refused.</summary>
    public const int DefaultMaxBlockLength = 16 * 1024;

    /// <summary>Generous for BEP 9 metadata pieces (16 KiB plus a dictionary) and BEP 11 PEX.</summary>
    public const int DefaultMaxExtendedMessageLength = 1024 * 1024;

    /// <summary>Enough for 8 Mi pieces, far beyond any real torrent.</summary>
    public const int DefaultMaxBitfieldLength = 1024 * 1024;

    /// <summary>The defaults.</summary>
    public static PeerWireLimits Default { get; } = new();

    /// <summary>Most data bytes a piece message may carry.</summary>
    public int MaxBlockLength { get; init; } = DefaultMaxBlockLength;

    /// <summary>Most bytes an extended message may carry after its extended-id byte.</summary>
    public int MaxExtendedMessageLength { get; init; } = DefaultMaxExtendedMessageLength;

    /// <summary>
    /// Most bytes a bitfield may carry while the piece count is not known yet (magnet links before BEP 9
    /// metadata); once it is known the size must be exactly ceil(pieceCount / 8).
    /// </summary>
    public int MaxBitfieldLength { get; init; } = DefaultMaxBitfieldLength;
}
