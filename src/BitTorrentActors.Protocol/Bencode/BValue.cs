using System.Collections;
using System.Text;

namespace BitTorrentActors.Protocol.Bencode;

/// <summary>
/// A decoded (or constructed) bencode value. Decoded values remember the exact bytes they came from in
/// <see cref="Raw"/>, so hashes such as the info-hash are taken over the original bytes, never a re-encoding.
/// </summary>
public abstract class BValue
{
    private protected BValue(ReadOnlyMemory<byte> raw, int offset)
    {
        Raw = raw;
        Offset = offset;
    }

    /// <summary>The value's bytes exactly as they appeared in the input; empty for a constructed value.</summary>
    public ReadOnlyMemory<byte> Raw { get; }

    /// <summary>Byte offset of the value in the decoded input; -1 for a constructed value.</summary>
    public int Offset { get; }
}

/// <summary>A byte string. Text fields of a torrent are byte strings that are usually, not always, UTF-8.</summary>
public sealed class BString : BValue, IEquatable<BString>
{
    internal BString(ReadOnlyMemory<byte> bytes, ReadOnlyMemory<byte> raw, int offset) : base(raw, offset) => Bytes = bytes;

    public BString(ReadOnlyMemory<byte> bytes) : base(ReadOnlyMemory<byte>.Empty, -1) => Bytes = bytes;

    public BString(string text) : this(Encoding.UTF8.GetBytes(text)) { }

    public ReadOnlyMemory<byte> Bytes { get; }

    public ReadOnlySpan<byte> Span => Bytes.Span;

    /// <summary>The bytes as UTF-8; invalid sequences become U+FFFD.</summary>
    public string Text => Encoding.UTF8.GetString(Bytes.Span);

    public bool Equals(BString? other) => other is not null && Span.SequenceEqual(other.Span);

    public override bool Equals(object? obj) => obj is BString s && Equals(s);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Span);
        return hash.ToHashCode();
    }

    public override string ToString() => Text;
}

public sealed class BInteger : BValue
{
    internal BInteger(long value, ReadOnlyMemory<byte> raw, int offset) : base(raw, offset) => Value = value;

    public BInteger(long value) : base(ReadOnlyMemory<byte>.Empty, -1) => Value = value;

    public long Value { get; }

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public sealed class BList : BValue, IReadOnlyList<BValue>
{
    private readonly BValue[] _items;

    internal BList(BValue[] items, ReadOnlyMemory<byte> raw, int offset) : base(raw, offset) => _items = items;

    public BList(IEnumerable<BValue> items) : base(ReadOnlyMemory<byte>.Empty, -1) => _items = items.ToArray();

    public int Count => _items.Length;

    public BValue this[int index] => _items[index];

    public IEnumerator<BValue> GetEnumerator() => ((IEnumerable<BValue>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();
}

/// <summary>
/// A dictionary in the order its keys appeared. Real torrents sometimes have unsorted or repeated keys; like
/// libtorrent we still decode them (the first occurrence of a key wins a lookup) and report it in
/// <see cref="IsCanonical"/>.
/// </summary>
public sealed class BDictionary : BValue, IReadOnlyList<KeyValuePair<BString, BValue>>
{
    private readonly KeyValuePair<BString, BValue>[] _entries;

    internal BDictionary(KeyValuePair<BString, BValue>[] entries, bool canonical, ReadOnlyMemory<byte> raw, int offset)
        : base(raw, offset)
    {
        _entries = entries;
        IsCanonical = canonical;
    }

    public BDictionary(IEnumerable<KeyValuePair<BString, BValue>> entries) : base(ReadOnlyMemory<byte>.Empty, -1)
    {
        _entries = entries.ToArray();
        IsCanonical = KeysStrictlyAscending(_entries);
    }

    /// <summary>Builds a dictionary from text keys, for constructing messages in code.</summary>
    public static BDictionary From(params (string Key, BValue Value)[] entries) =>
        new(entries.Select(e => new KeyValuePair<BString, BValue>(new BString(e.Key), e.Value)));

    /// <summary>True when keys are unique and sorted as raw bytes, as BEP 3 requires.</summary>
    public bool IsCanonical { get; }

    public int Count => _entries.Length;

    public KeyValuePair<BString, BValue> this[int index] => _entries[index];

    public BValue? this[string key] => TryGetValue(key, out var value) ? value : null;

    public bool TryGetValue(string key, out BValue value)
    {
        // Keys are ASCII in every field we look up, so compare without allocating when possible.
        Span<byte> buffer = stackalloc byte[64];
        var written = Encoding.UTF8.GetMaxByteCount(key.Length) <= buffer.Length
            ? Encoding.UTF8.GetBytes(key, buffer)
            : -1;
        ReadOnlySpan<byte> keyBytes = written >= 0 ? buffer[..written] : Encoding.UTF8.GetBytes(key);
        return TryGetValue(keyBytes, out value);
    }

    public bool TryGetValue(ReadOnlySpan<byte> key, out BValue value)
    {
        foreach (var entry in _entries)
        {
            if (entry.Key.Span.SequenceEqual(key))
            {
                value = entry.Value;
                return true;
            }
        }
        value = null!;
        return false;
    }

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public BString? GetString(string key) => this[key] as BString;

    public BInteger? GetInteger(string key) => this[key] as BInteger;

    public BList? GetList(string key) => this[key] as BList;

    public BDictionary? GetDictionary(string key) => this[key] as BDictionary;

    public IEnumerator<KeyValuePair<BString, BValue>> GetEnumerator() =>
        ((IEnumerable<KeyValuePair<BString, BValue>>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _entries.GetEnumerator();

    internal static bool KeysStrictlyAscending(ReadOnlySpan<KeyValuePair<BString, BValue>> entries)
    {
        for (var i = 1; i < entries.Length; i++)
        {
            if (entries[i - 1].Key.Span.SequenceCompareTo(entries[i].Key.Span) >= 0)
            {
                return false;
            }
        }
        return true;
    }
}
