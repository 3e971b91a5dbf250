using System.Net;
using System.Net.Sockets;
using BitTorrentActors.Protocol.Bencode;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Trackers;

public static partial class HttpTrackerCodec
{
    /// <summary>
    /// Parses an announce reply. Never throws: anything unusable becomes a <see cref="TrackerFailure"/>.
    /// Peers come from compact <c>peers</c> (6 bytes each), <c>peers6</c> (18 bytes each) or a list of
    /// dictionaries; port 0, hostnames and malformed entries are skipped, duplicates removed, order kept.
    /// Intervals are clamped with <see cref="TrackerIntervals"/>.
    /// </summary>
    public static AnnounceResult ParseAnnounceResponse(ReadOnlyMemory<byte> body, int maxBodyBytes = DefaultMaxBodyBytes)
    {
        if (!TryDecodeReply(body, maxBodyBytes, out var root, out var failure))
        {
            return AnnounceResult.Fail(failure);
        }

        if (root.GetInteger("interval") is not { } interval)
        {
            return AnnounceResult.Fail(new TrackerFailure(root.ContainsKey("interval")
                ? "interval is not an integer"
                : "missing interval"));
        }

        var peers = new List<IPEndPoint>();
        if (root["peers"] is { } peersValue)
        {
            switch (peersValue)
            {
                case BString compact:
                    if (!CompactPeers.TryParseIPv4(compact.Span, peers))
                    {
                        return AnnounceResult.Fail(new TrackerFailure(
                            $"peers is {compact.Span.Length} bytes, not a multiple of {CompactPeers.IPv4EntryLength}"));
                    }
                    break;
                case BList list:
                    AddDictionaryPeers(list, peers);
                    break;
                default:
                    return AnnounceResult.Fail(new TrackerFailure("peers is neither a string nor a list"));
            }
        }
        if (root["peers6"] is { } peers6Value)
        {
            if (peers6Value is not BString compact6 || !CompactPeers.TryParseIPv6(compact6.Span, peers))
            {
                return AnnounceResult.Fail(new TrackerFailure(
                    $"peers6 is not a string whose length is a multiple of {CompactPeers.IPv6EntryLength}"));
            }
        }

        var clamped = TrackerIntervals.Clamp(interval.Value);
        return AnnounceResult.Ok(new AnnounceResponse(
            clamped,
            TrackerIntervals.ClampMin(root.GetInteger("min interval")?.Value, clamped),
            root.GetString("tracker id")?.Text,
            TrackerIntervals.Count(root.GetInteger("complete")?.Value),
            TrackerIntervals.Count(root.GetInteger("incomplete")?.Value),
            peers.Distinct().ToList(),
            root.GetString("warning message")?.Text));
    }

    /// <summary>
    /// Parses a scrape reply: <c>files</c> maps raw 20-byte info-hashes to dictionaries of counts. Keys of another
    /// length and non-dictionary values are skipped; a missing count reads as 0; the first of a repeated key wins.
    /// </summary>
    public static ScrapeResult ParseScrapeResponse(ReadOnlyMemory<byte> body, int maxBodyBytes = DefaultMaxBodyBytes)
    {
        if (!TryDecodeReply(body, maxBodyBytes, out var root, out var failure))
        {
            return ScrapeResult.Fail(failure);
        }
        if (root.GetDictionary("files") is not { } files)
        {
            return ScrapeResult.Fail(new TrackerFailure("missing files dictionary"));
        }

        var entries = new Dictionary<InfoHash, ScrapeEntry>();
        foreach (var (key, value) in files)
        {
            if (key.Span.Length != InfoHash.Length || value is not BDictionary counts)
            {
                continue;
            }
            var hash = new InfoHash(key.Span);
            entries.TryAdd(hash, new ScrapeEntry(
                hash,
                TrackerIntervals.Count(counts.GetInteger("complete")?.Value) ?? 0,
                TrackerIntervals.Count(counts.GetInteger("incomplete")?.Value) ?? 0,
                TrackerIntervals.Count(counts.GetInteger("downloaded")?.Value) ?? 0));
        }
        return ScrapeResult.Ok(entries);
    }

    /// <summary>The checks every reply shares: size, not HTML, valid bencode, a dictionary, no failure reason.</summary>
    private static bool TryDecodeReply(
        ReadOnlyMemory<byte> body, int maxBodyBytes, out BDictionary root, out TrackerFailure failure)
    {
        root = null!;
        failure = null!;
        var span = body.Span;
        if (span.Length > maxBodyBytes)
        {
            failure = new TrackerFailure($"response over {maxBodyBytes} bytes");
            return false;
        }
        var start = 0;
        while (start < span.Length && span[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            start++;
        }
        if (start == span.Length)
        {
            failure = new TrackerFailure("response is empty");
            return false;
        }
        // Captive portals, proxies and dead trackers answer with a web page; say so rather than "unexpected byte".
        if (span[start] == (byte)'<')
        {
            failure = new TrackerFailure("response is not bencode (looks like HTML)");
            return false;
        }

        var decoded = BencodeDecoder.Decode(body);
        if (!decoded.Success)
        {
            failure = new TrackerFailure($"response is not valid bencode: {decoded.Error}");
            return false;
        }
        if (decoded.Value is not BDictionary dictionary)
        {
            failure = new TrackerFailure("response is not a bencode dictionary");
            return false;
        }
        if (dictionary["failure reason"] is { } reason)
        {
            failure = new TrackerFailure(reason is BString text ? text.Text : "tracker failed without a readable reason",
                FromTracker: true);
            return false;
        }
        root = dictionary;
        return true;
    }

    private static void AddDictionaryPeers(BList list, List<IPEndPoint> peers)
    {
        foreach (var item in list)
        {
            // "peer id" may also be present; we do not need it to dial, and BEP 3 lets us ignore it.
            if (item is BDictionary peer
                && peer.GetString("ip") is { } ip
                && peer.GetInteger("port") is { Value: > 0 and <= ushort.MaxValue } port
                && TryParseLiteralAddress(ip.Text, out var address))
            {
                peers.Add(new IPEndPoint(address, (int)port.Value));
            }
        }
    }

    /// <summary>
    /// Accepts dotted-quad IPv4 and IPv6 literals only. Hostnames would need DNS (the engine's job, and a way to
    /// make us resolve names on a tracker's say-so); IPAddress.TryParse alone would also accept "1" or "127.1".
    /// </summary>
    internal static bool TryParseLiteralAddress(string text, out IPAddress address)
    {
        if (!IPAddress.TryParse(text, out address!))
        {
            return false;
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return text.Contains(':');
        }
        var parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit));
    }
}
