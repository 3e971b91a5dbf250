namespace BitTorrentActors.Protocol.Bencode;

/// <summary>
/// Decodes bencode without recursion: nesting lives in an explicit stack, so a deeply nested input hits
/// <see cref="BencodeLimits.MaxDepth"/> instead of overflowing the thread's stack (which .NET cannot catch).
/// String lengths are checked against the remaining input before anything is sliced, and strings are slices of
/// the input, never copies.
/// </summary>
public static class BencodeDecoder
{
    /// <summary>Decodes exactly one value that must span the whole input.</summary>
    public static BencodeResult Decode(ReadOnlyMemory<byte> input, BencodeLimits? limits = null) =>
        Decode(input, limits ?? BencodeLimits.Default, allowTrailingData: false);

    /// <summary>
    /// Decodes one value at the start of the input and reports how many bytes it used; what follows is left to the
    /// caller (BEP 9 metadata messages put raw bytes after a dictionary).
    /// </summary>
    public static BencodeResult DecodePrefix(ReadOnlyMemory<byte> input, BencodeLimits? limits = null) =>
        Decode(input, limits ?? BencodeLimits.Default, allowTrailingData: true);

    private static BencodeResult Decode(ReadOnlyMemory<byte> input, BencodeLimits limits, bool allowTrailingData)
    {
        var span = input.Span;
        var stack = new List<Frame>();
        var pos = 0;
        var tokens = 0;

        while (true)
        {
            if (pos >= span.Length)
            {
                return stack.Count == 0
                    ? Fail(BencodeErrorKind.Truncated, pos, "input ends before a value")
                    : Fail(BencodeErrorKind.MissingEnd, pos, $"input ends inside a {stack[^1].Name} missing its 'e'");
            }

            var top = stack.Count > 0 ? stack[^1] : null;
            var c = span[pos];
            if (top is { IsDictionary: true, PendingKey: null } && c != (byte)'e' && !IsDigit(c))
            {
                return Fail(BencodeErrorKind.NonStringKey, pos, "dictionary key is not a string");
            }

            if (++tokens > limits.MaxTokens)
            {
                return Fail(BencodeErrorKind.TokenLimitExceeded, pos, $"more than {limits.MaxTokens} tokens");
            }

            BValue value;
            switch (c)
            {
                case (byte)'i':
                    {
                        var error = ReadInteger(span, pos, out var number, out var end);
                        if (error is not null)
                        {
                            return new BencodeResult(null, 0, error);
                        }
                        value = new BInteger(number, input[pos..end], pos);
                        pos = end;
                        break;
                    }
                case (byte)'l':
                case (byte)'d':
                    if (stack.Count >= limits.MaxDepth)
                    {
                        return Fail(BencodeErrorKind.DepthExceeded, pos, $"nesting deeper than {limits.MaxDepth}");
                    }
                    stack.Add(new Frame(pos, c == (byte)'d'));
                    pos++;
                    continue;
                case (byte)'e':
                    if (top is null)
                    {
                        return Fail(BencodeErrorKind.UnexpectedByte, pos, "'e' with nothing open");
                    }
                    if (top.PendingKey is not null)
                    {
                        return Fail(BencodeErrorKind.MissingValue, pos, "dictionary key without a value");
                    }
                    stack.RemoveAt(stack.Count - 1);
                    pos++;
                    value = top.Build(input[top.Start..pos]);
                    break;
                default:
                    if (!IsDigit(c))
                    {
                        return Fail(BencodeErrorKind.UnexpectedByte, pos, $"unexpected byte 0x{c:x2}");
                    }
                    {
                        var error = ReadString(input, pos, out var text, out var end);
                        if (error is not null)
                        {
                            return new BencodeResult(null, 0, error);
                        }
                        value = text!;
                        pos = end;
                        break;
                    }
            }

            if (stack.Count == 0)
            {
                if (!allowTrailingData && pos != span.Length)
                {
                    return Fail(BencodeErrorKind.TrailingData, pos, $"{span.Length - pos} bytes of trailing data");
                }
                return new BencodeResult(value, pos, null);
            }
            stack[^1].Add(value);
        }
    }

    private static BencodeError? ReadInteger(ReadOnlySpan<byte> span, int start, out long value, out int end)
    {
        value = 0;
        end = start;
        var pos = start + 1;
        var negative = pos < span.Length && span[pos] == (byte)'-';
        if (negative)
        {
            pos++;
        }
        var digitsStart = pos;
        ulong magnitude = 0;
        // Allows magnitude up to 2^63 so that long.MinValue parses; anything larger is an overflow.
        var limit = negative ? (ulong)long.MaxValue + 1 : long.MaxValue;
        while (pos < span.Length && IsDigit(span[pos]))
        {
            var digit = (ulong)(span[pos] - (byte)'0');
            if (magnitude > (limit - digit) / 10)
            {
                return new BencodeError(BencodeErrorKind.IntegerOverflow, start, "integer does not fit in 64 bits");
            }
            magnitude = magnitude * 10 + digit;
            pos++;
        }
        if (pos >= span.Length)
        {
            return new BencodeError(BencodeErrorKind.MissingEnd, pos, "integer missing its 'e'");
        }
        if (span[pos] != (byte)'e' || pos == digitsStart)
        {
            return new BencodeError(BencodeErrorKind.InvalidInteger, pos, "integer has no digits or a stray byte");
        }
        var digits = pos - digitsStart;
        if (digits > 1 && span[digitsStart] == (byte)'0')
        {
            return new BencodeError(BencodeErrorKind.LeadingZero, digitsStart, "integer has a leading zero");
        }
        if (negative && magnitude == 0)
        {
            return new BencodeError(BencodeErrorKind.NegativeZero, start, "integer is -0");
        }
        value = negative ? (long)(0 - magnitude) : (long)magnitude;
        end = pos + 1;
        return null;
    }

    private static BencodeError? ReadString(ReadOnlyMemory<byte> input, int start, out BString? value, out int end)
    {
        var span = input.Span;
        value = null;
        end = start;
        var pos = start;
        long length = 0;
        while (pos < span.Length && IsDigit(span[pos]))
        {
            length = length * 10 + (span[pos] - (byte)'0');
            // Any length beyond the input is refused anyway; stopping here also keeps the arithmetic in range.
            if (length > span.Length)
            {
                return new BencodeError(BencodeErrorKind.LengthBeyondInput, start,
                    $"string length exceeds the {span.Length - start} bytes of input left");
            }
            pos++;
        }
        if (pos >= span.Length)
        {
            return new BencodeError(BencodeErrorKind.Truncated, pos, "string length missing its ':'");
        }
        if (span[pos] != (byte)':')
        {
            return new BencodeError(BencodeErrorKind.InvalidLength, pos, "string length not followed by ':'");
        }
        if (pos - start > 1 && span[start] == (byte)'0')
        {
            return new BencodeError(BencodeErrorKind.LeadingZero, start, "string length has a leading zero");
        }
        pos++;
        if (length > span.Length - pos)
        {
            return new BencodeError(BencodeErrorKind.LengthBeyondInput, start,
                $"string of {length} bytes but only {span.Length - pos} remain");
        }
        end = pos + (int)length;
        value = new BString(input[pos..end], input[start..end], start);
        return null;
    }

    private static bool IsDigit(byte c) => c is >= (byte)'0' and <= (byte)'9';

    private static BencodeResult Fail(BencodeErrorKind kind, int offset, string reason) =>
        new(null, 0, new BencodeError(kind, offset, reason));

    private sealed class Frame(int start, bool isDictionary)
    {
        private readonly List<BValue> _items = [];
        private readonly List<KeyValuePair<BString, BValue>> _entries = [];

        public int Start { get; } = start;
        public bool IsDictionary { get; } = isDictionary;
        public BString? PendingKey { get; private set; }
        public string Name => IsDictionary ? "dictionary" : "list";

        public void Add(BValue value)
        {
            if (!IsDictionary)
            {
                _items.Add(value);
            }
            else if (PendingKey is null)
            {
                PendingKey = (BString)value;
            }
            else
            {
                _entries.Add(new(PendingKey, value));
                PendingKey = null;
            }
        }

        public BValue Build(ReadOnlyMemory<byte> raw)
        {
            if (!IsDictionary)
            {
                return new BList(_items.ToArray(), raw, Start);
            }
            var entries = _entries.ToArray();
            return new BDictionary(entries, BDictionary.KeysStrictlyAscending(entries), raw, Start);
        }
    }
}
