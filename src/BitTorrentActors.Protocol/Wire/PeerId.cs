using System.Security.Cryptography;
using System.Text;

namespace BitTorrentActors.Protocol.Wire;

/// <summary>
/// A 20-byte BitTorrent peer id. Ours follows the BEP 20 Azureus convention so other clients can name us.
/// </summary>
/// <remarks>
/// Azureus-style layout (BEP 20):
/// <code>
///   0   1   2   3   4   5   6   7   8                                   19
///   +---+---+---+---+---+---+---+---+-----------------------------------+
///   | - | B | A | 0 | 1 | 0 | 0 | - |  12 random bytes                  |
///   +---+---+---+---+---+---+---+---+-----------------------------------+
///       client   version digits
/// </code>
/// </remarks>
public sealed class PeerId : IEquatable<PeerId>
{
    /// <summary>Size of a peer id on the wire.</summary>
    public const int Length = 20;

    /// <summary>Our BEP 20 prefix: client code "BA", version 0.1.0.0.</summary>
    public static ReadOnlySpan<byte> ClientPrefix => "-BA0100-"u8;

    private readonly byte[] _bytes;

    /// <summary>Wraps a peer id read from the wire or configuration; copies, so the caller's buffer may be reused.</summary>
    public PeerId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"A peer id is {Length} bytes, got {bytes.Length}.", nameof(bytes));
        }

        _bytes = bytes.ToArray();
    }

    /// <summary>The raw 20 bytes.</summary>
    public ReadOnlySpan<byte> Span => _bytes;

    /// <summary>Client name guessed from the id's prefix, or null when unknown.</summary>
    public string? ClientName => IdentifyClient(_bytes);

    /// <summary>A fresh id for this process: our prefix followed by cryptographically random bytes.</summary>
    /// <remarks>Random rather than counter-based so ids cannot be used to correlate our sessions.</remarks>
    public static PeerId Generate()
    {
        Span<byte> bytes = stackalloc byte[Length];
        ClientPrefix.CopyTo(bytes);
        RandomNumberGenerator.Fill(bytes[ClientPrefix.Length..]);
        return new PeerId(bytes);
    }

    /// <summary>
    /// Names the client behind a peer id from its Azureus-style prefix ("-XX" + version + "-"), plus the aria2
    /// "A2-" form. Returns null when the prefix is not one we know; peer ids are free-form, so this is a hint
    /// for logs, never something to trust.
    /// </summary>
    public static string? IdentifyClient(ReadOnlySpan<byte> peerId)
    {
        // Every convention here fills at least the 8-byte "-XX1234-" prefix; shorter input is not a peer id.
        if (peerId.Length < 8)
        {
            return null;
        }

        if (peerId[0] == (byte)'A' && peerId[1] == (byte)'2' && peerId[2] == (byte)'-')
        {
            return "aria2";
        }

        if (peerId[0] != (byte)'-')
        {
            return null;
        }

        return (peerId[1], peerId[2]) switch
        {
            ((byte)'B', (byte)'A') => "BitTorrentActors",
            ((byte)'l', (byte)'t') => "libtorrent",
            ((byte)'L', (byte)'T') => "libtorrent (Rasterbar)",
            ((byte)'T', (byte)'R') => "Transmission",
            ((byte)'A', (byte)'2') => "aria2",
            ((byte)'q', (byte)'B') => "qBittorrent",
            ((byte)'D', (byte)'E') => "Deluge",
            ((byte)'U', (byte)'T') => "µTorrent",
            ((byte)'U', (byte)'M') => "µTorrent Mac",
            ((byte)'A', (byte)'Z') => "Vuze",
            ((byte)'B', (byte)'C') => "BitComet",
            ((byte)'K', (byte)'T') => "KTorrent",
            ((byte)'B', (byte)'T') => "BitTorrent",
            ((byte)'W', (byte)'W') => "WebTorrent",
            ((byte)'B', (byte)'I') => "BiglyBT",
            _ => null,
        };
    }

    /// <summary>Copies the 20 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination) => _bytes.CopyTo(destination);

    /// <summary>Printable form for logs: printable ASCII as is, everything else (and '\') escaped as \xNN.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder(Length * 2);
        foreach (var b in _bytes)
        {
            if (b is >= 0x20 and < 0x7F and not (byte)'\\')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append("\\x").Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <inheritdoc/>
    public bool Equals(PeerId? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PeerId);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }
}
