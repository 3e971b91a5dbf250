namespace BitTorrentActors.Protocol.Bencode;

public enum BencodeErrorKind
{
    Truncated,
    MissingEnd,
    TrailingData,
    LeadingZero,
    NegativeZero,
    InvalidInteger,
    IntegerOverflow,
    NonStringKey,
    MissingValue,
    LengthBeyondInput,
    InvalidLength,
    UnexpectedByte,
    DepthExceeded,
    TokenLimitExceeded,
}

/// <summary>Why input is not valid bencode, and the byte offset where that became clear.</summary>
public sealed record BencodeError(BencodeErrorKind Kind, long Offset, string Reason)
{
    public override string ToString() => $"{Reason} at byte {Offset}";
}

/// <summary>Bounds that keep hostile input from costing unbounded time, memory or stack.</summary>
public sealed record BencodeLimits(int MaxDepth = 100, int MaxTokens = 3_000_000)
{
    public static BencodeLimits Default { get; } = new();
}

/// <summary>The outcome of decoding: a value and how many bytes it took, or an error.</summary>
public readonly record struct BencodeResult(BValue? Value, int Consumed, BencodeError? Error)
{
    public bool Success => Error is null;
}
