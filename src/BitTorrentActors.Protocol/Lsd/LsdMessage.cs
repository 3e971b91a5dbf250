using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Lsd;

/// <summary>One BEP 14 announce as heard: the TCP port the sender listens on (its address is the datagram's
/// source), the info-hashes it announces (one or more, no duplicates) and its cookie, if it sent one.</summary>
public sealed record LsdAnnounce(int Port, IReadOnlyList<InfoHash> InfoHashes, string? Cookie);

/// <summary>
/// Formats and parses BEP 14 local service discovery datagrams, an HTTP-like request multicast to
/// 239.192.152.143:6771 (or [ff15::efc0:988f]:6771):
/// <code>
///   BT-SEARCH * HTTP/1.1\r\n
///   Host: 239.192.152.143:6771\r\n
///   Port: 6881\r\n
///   Infohash: &lt;40 hex&gt;\r\n          (one or more)
///   cookie: &lt;hex&gt;\r\n               (optional: drops one's own announces)
///   \r\n
///   \r\n
/// </code>
/// Formatting writes libtorrent's bytes exactly (<c>src/lsd.cpp</c>, <c>render_lsd_packet</c>), with more
/// Infohash lines when several torrents share a datagram. Parsing is for hostile input and as lenient as
/// libtorrent's <c>http_parser</c>: the method and header names in any case, "\n" or "\r\n" line ends, spaces
/// around values, unknown headers and malformed Infohash lines skipped. It never throws, and refuses a datagram
/// over <see cref="MaxDatagramLength"/> unread.
/// </summary>
public static class LsdMessage
{
    /// <summary>The IPv4 group and port (BEP 14).</summary>
    public const string Group4 = "239.192.152.143";

    /// <summary>The IPv6 group (BEP 14; organisation-local scope).</summary>
    public const string Group6 = "ff15::efc0:988f";

    public const int GroupPort = 6771;

    /// <summary>BEP 14: "keep the packet ≤ 1400 bytes" (under a typical MTU, no fragmentation); what we send.</summary>
    public const int MaxFormattedLength = 1400;

    /// <summary>Largest datagram read: libtorrent receives into 1,500 bytes (<c>aux_/lsd.hpp</c>), so a longer one
    /// is not an announce from any client we know, and reading it would only cost us.</summary>
    public const int MaxDatagramLength = 1500;

    /// <summary>Longest cookie formatted (ours is 8 hex digits, as libtorrent's <c>%x</c> of a 32-bit value).</summary>
    public const int MaxCookieLength = 32;

    private const string Method = "BT-SEARCH";

    /// <summary>The datagram announcing <paramref name="infoHashes"/> (one Infohash line each, in order) on
    /// <paramref name="port"/>, with <paramref name="cookie"/> if given. Throws on arguments no announce may
    /// have (a bug, not input): a port outside 1-65535, no info-hash, a cookie that is not 1-32 letters and
    /// digits, or a datagram over <see cref="MaxFormattedLength"/> (see <see cref="FormatAll"/>).</summary>
    public static byte[] Format(int port, IReadOnlyList<InfoHash> infoHashes, string? cookie, bool ipv6 = false)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        if (infoHashes.Count == 0)
        {
            throw new ArgumentException("an announce names at least one info-hash", nameof(infoHashes));
        }
        if (cookie is not null && (cookie.Length is 0 or > MaxCookieLength || !cookie.All(char.IsAsciiLetterOrDigit)))
        {
            throw new ArgumentException($"a cookie is 1-{MaxCookieLength} ASCII letters and digits", nameof(cookie));
        }
        var text = new StringBuilder(Overhead(port, cookie, ipv6) + infoHashes.Count * InfoHashLineLength);
        text.Append(Method).Append(" * HTTP/1.1\r\n");
        text.Append("Host: ").Append(ipv6 ? "[" + Group6 + "]" : Group4).Append(':').Append(GroupPort).Append("\r\n");
        text.Append("Port: ").Append(port.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        foreach (var infoHash in infoHashes)
        {
            text.Append("Infohash: ").Append(infoHash.ToHex()).Append("\r\n");
        }
        if (cookie is not null)
        {
            text.Append("cookie: ").Append(cookie).Append("\r\n");
        }
        text.Append("\r\n\r\n");
        if (text.Length > MaxFormattedLength)
        {
            throw new ArgumentException(
                $"{infoHashes.Count} info-hashes make a {text.Length}-byte datagram, over {MaxFormattedLength}", nameof(infoHashes));
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>As many datagrams as it takes to announce every one of <paramref name="infoHashes"/>, each as
    /// full as <see cref="MaxFormattedLength"/> allows (BEP 14: several info-hashes per announce past a few torrents).</summary>
    public static IReadOnlyList<byte[]> FormatAll(int port, IEnumerable<InfoHash> infoHashes, string? cookie, bool ipv6 = false)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        var perDatagram = MaxInfoHashesPerDatagram(port, cookie, ipv6);
        return infoHashes.Chunk(perDatagram).Select(chunk => Format(port, chunk, cookie, ipv6)).ToArray();
    }

    /// <summary>How many Infohash lines fit one datagram of at most <see cref="MaxFormattedLength"/> bytes.</summary>
    public static int MaxInfoHashesPerDatagram(int port, string? cookie, bool ipv6 = false) =>
        (MaxFormattedLength - Overhead(port, cookie, ipv6)) / InfoHashLineLength;

    // "Infohash: " + 40 hex + CRLF.
    private const int InfoHashLineLength = 10 + 40 + 2;

    private static int Overhead(int port, string? cookie, bool ipv6) =>
        Method.Length + " * HTTP/1.1\r\n".Length
        + "Host: :\r\n".Length + (ipv6 ? Group6.Length + 2 : Group4.Length) + 4
        + "Port: \r\n".Length + port.ToString(CultureInfo.InvariantCulture).Length
        + (cookie is null ? 0 : "cookie: \r\n".Length + cookie.Length)
        + 4;

    /// <summary>Reads one datagram. False, with one line saying why, for anything that is not a BT-SEARCH with
    /// a port in 1-65535 and at least one well-formed info-hash; Infohash lines that are not 40 hex digits (or
    /// are all zeros, as libtorrent skips them) are skipped, duplicates kept once.</summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, [NotNullWhen(true)] out LsdAnnounce? announce, out string? error)
    {
        announce = null;
        if (datagram.Length > MaxDatagramLength)
        {
            error = $"a {datagram.Length}-byte datagram, over the {MaxDatagramLength} an announce may have";
            return false;
        }
        if (datagram.IsEmpty)
        {
            error = "an empty datagram";
            return false;
        }
        // Latin-1 maps every byte to one char, so nothing can fail to decode; only ASCII is ever accepted below.
        var text = Encoding.Latin1.GetString(datagram);
        var position = 0;
        if (!NextLine(text, ref position, out var requestLine))
        {
            error = "no request line";
            return false;
        }
        var space = requestLine.IndexOf(' ');
        var method = (space < 0 ? requestLine : requestLine[..space]).Trim();
        if (!method.Equals(Method, StringComparison.OrdinalIgnoreCase))
        {
            error = $"not a BT-SEARCH request (method '{Printable(method)}')";
            return false;
        }
        string? portText = null;
        string? cookie = null;
        var infoHashes = new List<InfoHash>();
        var finished = false;
        while (NextLine(text, ref position, out var line))
        {
            if (line.Length == 0)
            {
                finished = true;
                break;
            }
            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }
            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (name.Equals("port", StringComparison.OrdinalIgnoreCase))
            {
                portText ??= value;
            }
            else if (name.Equals("cookie", StringComparison.OrdinalIgnoreCase))
            {
                cookie ??= value;
            }
            else if (name.Equals("infohash", StringComparison.OrdinalIgnoreCase)
                && value.Length == 40 && InfoHash.TryParseHex(value, out var infoHash)
                && infoHash != default && !infoHashes.Contains(infoHash))
            {
                infoHashes.Add(infoHash);
            }
        }
        if (!finished)
        {
            // libtorrent too drops a message whose header has no end (a truncated datagram).
            error = "the header does not end with an empty line";
            return false;
        }
        if (portText is null)
        {
            error = "no Port header";
            return false;
        }
        if (portText.Length is 0 or > 5 || !portText.All(char.IsAsciiDigit)
            || int.Parse(portText, NumberStyles.None, CultureInfo.InvariantCulture) is < 1 or > 65535)
        {
            error = $"Port '{Printable(portText)}' is not a port 1-65535";
            return false;
        }
        if (infoHashes.Count == 0)
        {
            error = "no Infohash header of 40 hex digits";
            return false;
        }
        announce = new LsdAnnounce(int.Parse(portText, NumberStyles.None, CultureInfo.InvariantCulture), infoHashes,
            cookie is { Length: > 0 and <= MaxCookieLength } ? cookie : null);
        error = null;
        return true;
    }

    /// <summary>The next line without its "\n" or "\r\n"; false at the end of the text (a last line with no end
    /// is still a line).</summary>
    private static bool NextLine(string text, ref int position, out string line)
    {
        if (position >= text.Length)
        {
            line = "";
            return false;
        }
        var end = text.IndexOf('\n', position);
        var stop = end < 0 ? text.Length : end;
        line = text[position..stop];
        if (line.EndsWith('\r'))
        {
            line = line[..^1];
        }
        position = end < 0 ? text.Length : end + 1;
        return true;
    }

    // For the error line: never echo control characters or a long value from a hostile datagram.
    private static string Printable(string value)
    {
        var shown = value.Length > 40 ? value[..40] + "..." : value;
        return new string(shown.Select(c => c is >= ' ' and < '\u007f' ? c : '?').ToArray());
    }
}
