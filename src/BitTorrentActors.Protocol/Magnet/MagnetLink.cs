using System.Diagnostics.CodeAnalysis;
using System.Text;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Magnet;

/// <summary>
/// A BEP 9 magnet link: <c>magnet:?xt=urn:btih:&lt;hash&gt;&amp;dn=...&amp;tr=...&amp;ws=...&amp;x.pe=...</c>.
/// Parsing refuses what cannot name a torrent (scheme, xt, hash) and keeps the optional parts it understands.
/// </summary>
public sealed class MagnetLink
{
    private const string Scheme = "magnet:?";
    private const string BtihPrefix = "urn:btih:";

    public MagnetLink(
        InfoHash infoHash,
        string? displayName = null,
        IEnumerable<string>? trackers = null,
        IEnumerable<string>? webSeeds = null,
        IEnumerable<string>? peers = null)
    {
        InfoHash = infoHash;
        DisplayName = displayName;
        Trackers = Distinct(trackers);
        WebSeeds = Distinct(webSeeds);
        Peers = Distinct(peers);
    }

    public InfoHash InfoHash { get; }

    /// <summary>The <c>dn</c> parameter: a name to show until the metadata arrives; never used as a path.</summary>
    public string? DisplayName { get; }

    /// <summary>The <c>tr</c> parameters, percent-decoded, in order, without duplicates.</summary>
    public IReadOnlyList<string> Trackers { get; }

    /// <summary>The <c>ws</c> parameters (BEP 19 web seeds).</summary>
    public IReadOnlyList<string> WebSeeds { get; }

    /// <summary>The <c>x.pe</c> parameters: "host:port" peers to try directly.</summary>
    public IReadOnlyList<string> Peers { get; }

    public static bool TryParse(
        string uri,
        [NotNullWhen(true)] out MagnetLink? link,
        [NotNullWhen(false)] out string? error)
    {
        link = null;
        if (!uri.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            error = "not a magnet URI (must start with 'magnet:?')";
            return false;
        }
        InfoHash? hash = null;
        var v2Topic = false;
        string? displayName = null;
        var trackers = new List<string>();
        var webSeeds = new List<string>();
        var peers = new List<string>();
        foreach (var pair in uri[Scheme.Length..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var rawKey = equals < 0 ? pair : pair[..equals];
            if (!TryUnescape(rawKey, out var key) || !TryUnescape(equals < 0 ? "" : pair[(equals + 1)..], out var value))
            {
                error = $"bad percent-encoding in '{rawKey}'";
                return false;
            }
            switch (NormaliseKey(key))
            {
                case "xt":
                    if (!value.StartsWith(BtihPrefix, StringComparison.OrdinalIgnoreCase))
                    {
                        // Other topics (btmh for v2, ed2k, ...) may sit next to btih in hybrid links.
                        v2Topic |= value.StartsWith("urn:btmh:", StringComparison.OrdinalIgnoreCase);
                        continue;
                    }
                    if (hash is not null)
                    {
                        error = "more than one xt=urn:btih";
                        return false;
                    }
                    if (!TryParseHash(value[BtihPrefix.Length..], out var parsed))
                    {
                        error = "info-hash must be 40 hex or 32 base32 characters";
                        return false;
                    }
                    hash = parsed;
                    break;
                case "dn":
                    displayName ??= value;
                    break;
                case "tr":
                    trackers.Add(value);
                    break;
                case "ws":
                    webSeeds.Add(value);
                    break;
                case "x.pe":
                    peers.Add(value);
                    break;
            }
        }
        if (hash is null)
        {
            error = v2Topic
                ? "a v2-only magnet (xt=urn:btmh without xt=urn:btih) is not supported: bta speaks BitTorrent v1; use the v1 or hybrid magnet"
                : "missing xt=urn:btih";
            return false;
        }
        link = new MagnetLink(hash.Value, displayName, trackers, webSeeds, peers);
        error = null;
        return true;
    }

    /// <summary>A magnet URI with a lower-case hex hash and every value percent-encoded.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder(Scheme).Append("xt=").Append(BtihPrefix).Append(InfoHash.ToHex());
        if (DisplayName is not null)
        {
            builder.Append("&dn=").Append(Uri.EscapeDataString(DisplayName));
        }
        Append(builder, "tr", Trackers);
        Append(builder, "ws", WebSeeds);
        Append(builder, "x.pe", Peers);
        return builder.ToString();
    }

    /// <summary>40 hex characters, or 32 base32 characters (RFC 4648 alphabet, any case).</summary>
    public static bool TryParseHash(string text, out InfoHash hash)
    {
        hash = default;
        if (text.Length == 40)
        {
            return InfoHash.TryParseHex(text, out hash);
        }
        if (text.Length != 32)
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[InfoHash.Length];
        // 32 characters * 5 bits = 160 bits exactly, so there is no padding or leftover to check.
        var bits = 0UL;
        var bitCount = 0;
        var written = 0;
        foreach (var c in text)
        {
            var digit = c switch
            {
                >= 'A' and <= 'Z' => c - 'A',
                >= 'a' and <= 'z' => c - 'a',
                >= '2' and <= '7' => c - '2' + 26,
                _ => -1,
            };
            if (digit < 0)
            {
                return false;
            }
            bits = (bits << 5) | (uint)digit;
            bitCount += 5;
            if (bitCount >= 8)
            {
                bitCount -= 8;
                bytes[written++] = (byte)(bits >> bitCount);
            }
        }
        hash = new InfoHash(bytes);
        return true;
    }

    private static string NormaliseKey(string key)
    {
        var lower = key.ToLowerInvariant();
        // BEP 9 allows numbered copies such as "tr.1" and "xt.2"; "x.pe" itself has a dot but no number.
        var dot = lower.LastIndexOf('.');
        return dot > 0 && lower[(dot + 1)..].All(char.IsAsciiDigit) && dot < lower.Length - 1 ? lower[..dot] : lower;
    }

    /// <summary>Percent-decodes as UTF-8, '+' meaning a space as in form encoding; false on a broken escape.</summary>
    private static bool TryUnescape(string text, out string result)
    {
        result = "";
        var bytes = new List<byte>(text.Length);
        Span<byte> buffer = stackalloc byte[4];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '%')
            {
                if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                {
                    return false;
                }
                bytes.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
                continue;
            }
            if (c == '+')
            {
                bytes.Add((byte)' ');
                continue;
            }
            // A surrogate pair is one character; a lone surrogate encodes as U+FFFD.
            var width = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            var count = Encoding.UTF8.GetBytes(text.AsSpan(i, width), buffer);
            bytes.AddRange(buffer[..count]);
            i += width - 1;
        }
        result = Encoding.UTF8.GetString(bytes.ToArray());
        return true;
    }

    private static IReadOnlyList<string> Distinct(IEnumerable<string>? values) =>
        values?.Where(v => !string.IsNullOrWhiteSpace(v)).Distinct(StringComparer.Ordinal).ToArray() ?? [];

    private static void Append(StringBuilder builder, string key, IReadOnlyList<string> values)
    {
        foreach (var value in values)
        {
            builder.Append('&').Append(key).Append('=').Append(Uri.EscapeDataString(value));
        }
    }
}
