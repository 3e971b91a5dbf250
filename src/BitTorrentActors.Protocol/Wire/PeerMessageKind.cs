namespace BitTorrentActors.Protocol.Wire;

/// <summary>
/// What a frame is. Every value except <see cref="KeepAlive"/> and <see cref="Unknown"/> equals the message id
/// byte on the wire, so <c>(byte)kind</c> is the id.
/// </summary>
public enum PeerMessageKind
{
    /// <summary>Length prefix 0, no id (BEP 3).</summary>
    KeepAlive = -2,

    /// <summary>An id we do not implement; BEP 3 says to ignore it. See <see cref="PeerFrame.MessageId"/>.</summary>
    Unknown = -1,

    /// <summary>BEP 3.</summary>
    Choke = 0,

    /// <summary>BEP 3.</summary>
    Unchoke = 1,

    /// <summary>BEP 3.</summary>
    Interested = 2,

    /// <summary>BEP 3.</summary>
    NotInterested = 3,

    /// <summary>BEP 3: piece index.</summary>
    Have = 4,

    /// <summary>BEP 3: payload is the bitfield bytes.</summary>
    Bitfield = 5,

    /// <summary>BEP 3: index, begin, length.</summary>
    Request = 6,

    /// <summary>BEP 3: index, begin, payload is the block.</summary>
    Piece = 7,

    /// <summary>BEP 3: index, begin, length.</summary>
    Cancel = 8,

    /// <summary>BEP 5: DHT port.</summary>
    Port = 9,

    /// <summary>BEP 6: piece index.</summary>
    Suggest = 0x0D,

    /// <summary>BEP 6.</summary>
    HaveAll = 0x0E,

    /// <summary>BEP 6.</summary>
    HaveNone = 0x0F,

    /// <summary>BEP 6: index, begin, length of a request we will not serve.</summary>
    Reject = 0x10,

    /// <summary>BEP 6: piece index.</summary>
    AllowedFast = 0x11,

    /// <summary>BEP 10: extended id, payload is the rest.</summary>
    Extended = 20,
}
