namespace BitTorrentActors.Protocol.Wire;

/// <summary>Which rule a frame broke. Every one of these means: drop the connection.</summary>
public enum PeerWireErrorKind
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The length prefix exceeds the largest legal message (including top-bit-set values).</summary>
    FrameTooLong,

    /// <summary>A fixed-size message (choke, have, request, port, ...) had the wrong length.</summary>
    WrongMessageLength,

    /// <summary>A piece or extended message was too short to hold its fixed fields.</summary>
    MessageTooShort,

    /// <summary>A piece message carried more than <see cref="PeerWireLimits.MaxBlockLength"/> bytes.</summary>
    BlockTooLong,

    /// <summary>An extended message exceeded <see cref="PeerWireLimits.MaxExtendedMessageLength"/>.</summary>
    ExtendedMessageTooLong,

    /// <summary>A bitfield was not ceil(pieceCount / 8) bytes (or over the max while the count is unknown).</summary>
    BitfieldWrongLength,

    /// <summary>A bitfield had a spare trailing bit set.</summary>
    BitfieldSpareBitsSet,
}

/// <summary>Why the reader refused a frame, in a form that fits a one-line log.</summary>
public readonly record struct PeerWireError(PeerWireErrorKind Kind, string Reason)
{
    /// <summary>The "no error" value.</summary>
    public static PeerWireError None => new(PeerWireErrorKind.None, string.Empty);

    /// <inheritdoc/>
    public override string ToString() => $"{Kind}: {Reason}";
}
