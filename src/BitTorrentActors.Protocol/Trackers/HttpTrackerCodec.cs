using System.Globalization;
using System.Text;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Trackers;

/// <summary>
/// HTTP tracker protocol (BEP 3, BEP 23 compact peers, BEP 7 IPv6, BEP 48 scrape): builds request URLs and
/// parses response bodies. No I/O: the engine fetches the URL and hands the body back here.
/// </summary>
public static partial class HttpTrackerCodec
{
    /// <summary>Responses are a few KB; anything near this size is a misbehaving tracker or not a tracker at all.</summary>
    public const int DefaultMaxBodyBytes = 2 * 1024 * 1024;

    private const string ScrapeWord = "scrape";
    private const string AnnounceWord = "announce";

    public static string BuildAnnounceUrl(string announceUrl, AnnounceRequest r)
    {
        ArgumentNullException.ThrowIfNull(announceUrl);
        ArgumentNullException.ThrowIfNull(r);
        r.Validate();

        var builder = StartQuery(announceUrl);
        builder.Append("info_hash=");
        AppendInfoHash(builder, r.InfoHash);
        builder.Append("&peer_id=");
        AppendEscaped(builder, r.PeerId.Span);
        builder.Append(CultureInfo.InvariantCulture, $"&port={r.Port}&uploaded={r.Uploaded}");
        builder.Append(CultureInfo.InvariantCulture, $"&downloaded={r.Downloaded}&left={r.Left}");
        if (r.Compact)
        {
            builder.Append("&compact=1");
        }
        var eventName = r.Event switch
        {
            AnnounceEvent.Started => "started",
            AnnounceEvent.Completed => "completed",
            AnnounceEvent.Stopped => "stopped",
            _ => null,
        };
        if (eventName is not null)
        {
            builder.Append("&event=").Append(eventName);
        }
        if (r.NumWant >= 0)
        {
            builder.Append(CultureInfo.InvariantCulture, $"&numwant={r.NumWant}");
        }
        // Trackers use the key to recognise us across IP changes; hex is what libtorrent and others send.
        builder.Append(CultureInfo.InvariantCulture, $"&key={r.Key:X8}");
        if (!string.IsNullOrEmpty(r.TrackerId))
        {
            builder.Append("&trackerid=");
            AppendEscaped(builder, Encoding.UTF8.GetBytes(r.TrackerId));
        }
        return builder.ToString();
    }

    /// <summary>
    /// The scrape convention (BEP 48): when the announce URL's last path segment starts with <c>announce</c>,
    /// the same URL with that word replaced by <c>scrape</c> is the scrape URL; otherwise the tracker has none.
    /// </summary>
    public static bool TryGetScrapeUrl(string announceUrl, out string scrapeUrl)
    {
        ArgumentNullException.ThrowIfNull(announceUrl);
        scrapeUrl = string.Empty;
        var end = announceUrl.IndexOfAny(['?', '#']);
        var path = end < 0 ? announceUrl : announceUrl[..end];

        // The host must not be mistaken for a path segment: "http://announce.example.com" has no path at all.
        var authority = path.IndexOf("://", StringComparison.Ordinal);
        var pathStart = path.IndexOf('/', authority < 0 ? 0 : authority + 3);
        var lastSlash = path.LastIndexOf('/');
        if (pathStart < 0 || lastSlash < pathStart
            || string.CompareOrdinal(path, lastSlash + 1, AnnounceWord, 0, AnnounceWord.Length) != 0)
        {
            return false;
        }
        scrapeUrl = string.Concat(
            announceUrl.AsSpan(0, lastSlash + 1),
            ScrapeWord,
            announceUrl.AsSpan(lastSlash + 1 + AnnounceWord.Length));
        return true;
    }

    /// <summary>Appends one <c>info_hash</c> parameter per hash; an empty sequence asks for every torrent (if the tracker allows).</summary>
    public static string BuildScrapeUrl(string scrapeUrl, IEnumerable<InfoHash> infoHashes)
    {
        ArgumentNullException.ThrowIfNull(scrapeUrl);
        ArgumentNullException.ThrowIfNull(infoHashes);
        var builder = new StringBuilder();
        var first = true;
        foreach (var hash in infoHashes)
        {
            if (first)
            {
                builder = StartQuery(scrapeUrl);
                first = false;
            }
            else
            {
                builder.Append('&');
            }
            builder.Append("info_hash=");
            AppendInfoHash(builder, hash);
        }
        return first ? scrapeUrl : builder.ToString();
    }

    /// <summary>Starts the query: '?' for a bare URL, '&amp;' after an existing query, nothing after a trailing '?' or '&amp;'.</summary>
    private static StringBuilder StartQuery(string url)
    {
        // A fragment is never sent to the server, and parameters after it would be lost with it.
        var hash = url.IndexOf('#');
        var baseUrl = hash < 0 ? url : url[..hash];
        var builder = new StringBuilder(baseUrl, baseUrl.Length + 256);
        if (!baseUrl.Contains('?'))
        {
            builder.Append('?');
        }
        else if (!baseUrl.EndsWith('?') && !baseUrl.EndsWith('&'))
        {
            builder.Append('&');
        }
        return builder;
    }

    private static void AppendInfoHash(StringBuilder builder, InfoHash hash)
    {
        Span<byte> bytes = stackalloc byte[InfoHash.Length];
        hash.CopyTo(bytes);
        AppendEscaped(builder, bytes);
    }

    /// <summary>
    /// Percent-encodes byte by byte: RFC 3986 unreserved characters stay literal, everything else is %XX in upper
    /// case. Trackers compare the decoded bytes, and some break on anything looser (e.g. '+' for space).
    /// </summary>
    internal static void AppendEscaped(StringBuilder builder, ReadOnlySpan<byte> bytes)
    {
        const string hex = "0123456789ABCDEF";
        foreach (var b in bytes)
        {
            if (b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9'
                or (byte)'.' or (byte)'-' or (byte)'_' or (byte)'~')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(hex[b >> 4]).Append(hex[b & 0xF]);
            }
        }
    }
}
