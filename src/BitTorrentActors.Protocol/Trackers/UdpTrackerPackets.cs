using System.Buffers.Binary;
using System.Net;
using System.Text;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Trackers;

/// <summary>
/// BEP 15 UDP tracker packets, all big-endian. Writers throw on a destination that is too small (a caller bug);
/// <see cref="TryParseResponse"/> never throws, since packets come from anyone who can reach our socket.
/// Timing is the engine's: only the BEP's constants live here.
/// </summary>
public static class UdpTrackerPackets
{
    /// <summary>The magic constant that opens every connect request.</summary>
    public const long ProtocolId = 0x41727101980;

    public const int ConnectRequestLength = 16;
    public const int AnnounceRequestLength = 98;
    public const int ScrapeRequestHeaderLength = 16;

    /// <summary>BEP 15: "up to about 74 torrents can be scraped at once", which keeps the reply inside one datagram.</summary>
    public const int MaxScrapeHashes = 74;

    /// <summary>The last retransmission attempt: BEP 15 gives up after n = 8 (a 3840 s wait).</summary>
    public const int MaxRetransmitAttempt = 8;

    /// <summary>A connection id may be used for one minute after it was received.</summary>
    public static readonly TimeSpan ConnectionIdLifetime = TimeSpan.FromSeconds(60);

    private const int HeaderLength = 8;
    private const int ConnectResponseLength = 16;
    private const int AnnounceResponseHeaderLength = 20;
    private const int ScrapeEntryLength = 12;

    /// <summary>How long to wait after send number <paramref name="attempt"/> (0-based): 15 * 2^n seconds, n = 0..8.</summary>
    public static TimeSpan RetransmitTimeout(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(attempt);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(attempt, MaxRetransmitAttempt);
        return TimeSpan.FromSeconds(15 << attempt);
    }

    /// <summary>
    /// The same schedule from another base (<paramref name="baseTimeout"/> * 2^n): tests use a short base so a
    /// retransmission takes milliseconds. n is capped at <see cref="MaxRetransmitAttempt"/>, so the wait stops
    /// growing there instead of throwing.
    /// </summary>
    public static TimeSpan RetransmitTimeout(int attempt, TimeSpan baseTimeout)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(attempt);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(baseTimeout, TimeSpan.Zero);
        return baseTimeout * (1 << Math.Min(attempt, MaxRetransmitAttempt));
    }

    public static int ScrapeRequestLength(int hashCount) => ScrapeRequestHeaderLength + hashCount * InfoHash.Length;

    public static int WriteConnectRequest(Span<byte> destination, int transactionId)
    {
        EnsureLength(destination, ConnectRequestLength);
        BinaryPrimitives.WriteInt64BigEndian(destination, ProtocolId);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], (int)UdpTrackerAction.Connect);
        BinaryPrimitives.WriteInt32BigEndian(destination[12..], transactionId);
        return ConnectRequestLength;
    }

    /// <summary>
    /// Writes the 98-byte announce. <paramref name="ipAddress"/> 0 lets the tracker use the packet's source;
    /// <see cref="AnnounceRequest.TrackerId"/> and <see cref="AnnounceRequest.Compact"/> have no UDP encoding.
    /// </summary>
    public static int WriteAnnounceRequest(
        Span<byte> destination, long connectionId, int transactionId, AnnounceRequest r, uint ipAddress = 0)
    {
        ArgumentNullException.ThrowIfNull(r);
        r.Validate();
        EnsureLength(destination, AnnounceRequestLength);
        WriteHeader(destination, connectionId, UdpTrackerAction.Announce, transactionId);
        r.InfoHash.CopyTo(destination[16..36]);
        r.PeerId.Span.CopyTo(destination[36..56]);
        BinaryPrimitives.WriteInt64BigEndian(destination[56..], r.Downloaded);
        BinaryPrimitives.WriteInt64BigEndian(destination[64..], r.Left);
        BinaryPrimitives.WriteInt64BigEndian(destination[72..], r.Uploaded);
        // BEP 15 numbers events differently from the order BEP 3 lists them in.
        var udpEvent = r.Event switch
        {
            AnnounceEvent.Completed => 1,
            AnnounceEvent.Started => 2,
            AnnounceEvent.Stopped => 3,
            _ => 0,
        };
        BinaryPrimitives.WriteInt32BigEndian(destination[80..], udpEvent);
        BinaryPrimitives.WriteUInt32BigEndian(destination[84..], ipAddress);
        BinaryPrimitives.WriteUInt32BigEndian(destination[88..], r.Key);
        BinaryPrimitives.WriteInt32BigEndian(destination[92..], r.NumWant < 0 ? -1 : r.NumWant);
        BinaryPrimitives.WriteUInt16BigEndian(destination[96..], (ushort)r.Port);
        return AnnounceRequestLength;
    }

    public static int WriteScrapeRequest(
        Span<byte> destination, long connectionId, int transactionId, ReadOnlySpan<InfoHash> infoHashes)
    {
        if (infoHashes.Length is 0 or > MaxScrapeHashes)
        {
            throw new ArgumentOutOfRangeException(nameof(infoHashes), infoHashes.Length,
                $"a UDP scrape carries 1..{MaxScrapeHashes} info-hashes");
        }
        var length = ScrapeRequestLength(infoHashes.Length);
        EnsureLength(destination, length);
        WriteHeader(destination, connectionId, UdpTrackerAction.Scrape, transactionId);
        for (var i = 0; i < infoHashes.Length; i++)
        {
            infoHashes[i].CopyTo(destination.Slice(ScrapeRequestHeaderLength + i * InfoHash.Length, InfoHash.Length));
        }
        return length;
    }

    /// <summary>
    /// Decodes a packet from a tracker. Returns false with <see cref="UdpTrackerResponse.InvalidReason"/> set for
    /// a short packet, an unknown action or a body of the wrong length. Checking the transaction id and that the
    /// action answers what was asked is the caller's job. <paramref name="ipv6Peers"/> selects 18-byte peer entries,
    /// which BEP 15 uses when the tracker was reached over IPv6.
    /// </summary>
    public static bool TryParseResponse(ReadOnlySpan<byte> packet, bool ipv6Peers, out UdpTrackerResponse response)
    {
        if (packet.Length < HeaderLength)
        {
            response = new UdpTrackerResponse(UdpTrackerAction.Unknown, 0)
            {
                InvalidReason = $"packet of {packet.Length} bytes is shorter than the {HeaderLength}-byte header",
            };
            return false;
        }
        var action = (UdpTrackerAction)BinaryPrimitives.ReadInt32BigEndian(packet);
        var transactionId = BinaryPrimitives.ReadInt32BigEndian(packet[4..]);
        var body = packet[HeaderLength..];
        response = action switch
        {
            UdpTrackerAction.Connect => ParseConnect(action, transactionId, packet),
            UdpTrackerAction.Announce => ParseAnnounce(action, transactionId, packet, ipv6Peers),
            UdpTrackerAction.Scrape => ParseScrape(action, transactionId, body),
            UdpTrackerAction.Error => new UdpTrackerResponse(action, transactionId)
            {
                ErrorMessage = Encoding.UTF8.GetString(body),
            },
            _ => new UdpTrackerResponse(action, transactionId) { InvalidReason = $"unknown action {(int)action}" },
        };
        return response.IsValid;
    }

    private static UdpTrackerResponse ParseConnect(UdpTrackerAction action, int transactionId, ReadOnlySpan<byte> packet) =>
        packet.Length < ConnectResponseLength
            ? Invalid(action, transactionId, $"connect response of {packet.Length} bytes, expected {ConnectResponseLength}")
            : new UdpTrackerResponse(action, transactionId)
            {
                ConnectionId = BinaryPrimitives.ReadInt64BigEndian(packet[8..]),
            };

    private static UdpTrackerResponse ParseAnnounce(
        UdpTrackerAction action, int transactionId, ReadOnlySpan<byte> packet, bool ipv6Peers)
    {
        if (packet.Length < AnnounceResponseHeaderLength)
        {
            return Invalid(action, transactionId,
                $"announce response of {packet.Length} bytes is shorter than {AnnounceResponseHeaderLength}");
        }
        var peers = new List<IPEndPoint>();
        var peerBytes = packet[AnnounceResponseHeaderLength..];
        var parsed = ipv6Peers
            ? CompactPeers.TryParseIPv6(peerBytes, peers)
            : CompactPeers.TryParseIPv4(peerBytes, peers);
        if (!parsed)
        {
            var entry = ipv6Peers ? CompactPeers.IPv6EntryLength : CompactPeers.IPv4EntryLength;
            return Invalid(action, transactionId, $"{peerBytes.Length} bytes of peers is not a multiple of {entry}");
        }
        // Signed on the wire; a negative interval or count is nonsense that the clamps absorb.
        var interval = TrackerIntervals.Clamp(BinaryPrimitives.ReadInt32BigEndian(packet[8..]));
        var leechers = BinaryPrimitives.ReadInt32BigEndian(packet[12..]);
        var seeders = BinaryPrimitives.ReadInt32BigEndian(packet[16..]);
        return new UdpTrackerResponse(action, transactionId)
        {
            Announce = new AnnounceResponse(
                interval, null, null, TrackerIntervals.Count(seeders), TrackerIntervals.Count(leechers),
                peers.Distinct().ToList(), null),
        };
    }

    private static UdpTrackerResponse ParseScrape(UdpTrackerAction action, int transactionId, ReadOnlySpan<byte> body)
    {
        if (body.Length % ScrapeEntryLength != 0)
        {
            return Invalid(action, transactionId,
                $"{body.Length} bytes of scrape data is not a multiple of {ScrapeEntryLength}");
        }
        var entries = new ScrapeCounts[body.Length / ScrapeEntryLength];
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = body.Slice(i * ScrapeEntryLength, ScrapeEntryLength);
            // Wire order is seeders, completed, leechers.
            entries[i] = new ScrapeCounts(
                Complete: Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(entry)),
                Incomplete: Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(entry[8..])),
                Downloaded: Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(entry[4..])));
        }
        return new UdpTrackerResponse(action, transactionId) { Scrape = entries };
    }

    private static UdpTrackerResponse Invalid(UdpTrackerAction action, int transactionId, string reason) =>
        new(action, transactionId) { InvalidReason = reason };

    private static void WriteHeader(Span<byte> destination, long connectionId, UdpTrackerAction action, int transactionId)
    {
        BinaryPrimitives.WriteInt64BigEndian(destination, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], (int)action);
        BinaryPrimitives.WriteInt32BigEndian(destination[12..], transactionId);
    }

    private static void EnsureLength(Span<byte> destination, int length)
    {
        if (destination.Length < length)
        {
            throw new ArgumentException($"destination is {destination.Length} bytes, needs {length}", nameof(destination));
        }
    }
}
