using System.Buffers.Binary;
using System.ComponentModel;
using System.Globalization;
using System.Security.Cryptography;

namespace BitTorrentActors.Protocol.Metainfo;

/// <summary>
/// A v1 info-hash: the SHA-1 of the info dictionary's bytes exactly as they appear in the torrent file.
/// A value type with ordinal equality so it can key dictionaries (one coordinator per info-hash). Its
/// <see cref="TypeConverter"/> turns it into its 40-digit hex and back, which is how serialisers that honour
/// type converters (Akka's default JSON one among them) carry it in messages between nodes.
/// </summary>
[TypeConverter(typeof(InfoHashConverter))]
public readonly struct InfoHash : IEquatable<InfoHash>
{
    public const int Length = 20;

    // Three fields instead of an array: no allocation, and equality is three compares.
    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;

    public InfoHash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"an info-hash is {Length} bytes, not {bytes.Length}", nameof(bytes));
        }
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    /// <summary>SHA-1 over the raw bencoded info dictionary.</summary>
    public static InfoHash Compute(ReadOnlySpan<byte> rawInfoDictionary)
    {
        Span<byte> digest = stackalloc byte[Length];
        SHA1.HashData(rawInfoDictionary, digest);
        return new InfoHash(digest);
    }

    public static bool TryParseHex(string hex, out InfoHash hash)
    {
        hash = default;
        if (hex.Length != Length * 2)
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[Length];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != Length)
        {
            return false;
        }
        hash = new InfoHash(bytes);
        return true;
    }

    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], _c);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>Lower-case hex, as trackers, magnet links and every client print it.</summary>
    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public bool Equals(InfoHash other) => _a == other._a && _b == other._b && _c == other._c;

    public override bool Equals(object? obj) => obj is InfoHash other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    public override string ToString() => ToHex();

    public static bool operator ==(InfoHash left, InfoHash right) => left.Equals(right);

    public static bool operator !=(InfoHash left, InfoHash right) => !left.Equals(right);
}

/// <summary>An <see cref="InfoHash"/> as its 40 hex digits, both ways.</summary>
public sealed class InfoHashConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override bool CanConvertTo(ITypeDescriptorContext? context, Type? destinationType) =>
        destinationType == typeof(string) || base.CanConvertTo(context, destinationType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text
            ? InfoHash.TryParseHex(text, out var hash) ? hash : throw new FormatException($"not a 40-digit hex info-hash: '{text}'")
            : base.ConvertFrom(context, culture, value);

    public override object? ConvertTo(ITypeDescriptorContext? context, CultureInfo? culture, object? value, Type destinationType) =>
        destinationType == typeof(string) && value is InfoHash hash
            ? hash.ToHex()
            : base.ConvertTo(context, culture, value, destinationType);
}
