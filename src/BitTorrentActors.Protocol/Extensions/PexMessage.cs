using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using BitTorrentActors.Protocol.Bencode;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Protocol.Extensions;

/// <summary>BEP 11 per-peer flags, one byte per entry of <c>added</c> in <c>added.f</c>.</summary>
[Flags]
public enum PexFlags : byte
{
    None = 0,
    PrefersEncryption = 0x01,
    Seed = 0x02,
    SupportsUtp = 0x04,
    SupportsHolepunch = 0x08,
    /// <summary>We reached it with an outgoing connection, so it accepts connections.</summary>
    Reachable = 0x10,
}

/// <summary>One peer of a PEX <c>added</c> list.</summary>
public readonly record struct PexPeer(IPEndPoint EndPoint, PexFlags Flags);

/// <summary>
/// A BEP 11 <c>ut_pex</c> message: the peers the sender connected to and dropped since its last message.
/// <code>
///   d
///     5:added   6n:&lt;compact IPv4 peers&gt;     4 address bytes + 2 port bytes each (as tracker peers)
///     7:added.f n:&lt;one flag byte per added&gt;
///     6:added6  18n:&lt;compact IPv6 peers&gt;
///     8:added6.f n:&lt;flags&gt;
///     7:dropped 6n:&lt;compact IPv4&gt;
///     8:dropped6 18n:&lt;compact IPv6&gt;
///   e
/// </code>
/// Parsing is bounded: libtorrent cuts off a PEX message over 500 KiB, and only the first
/// <c>maxPeers</c> added and dropped entries are read; a compact string of the wrong length keeps its whole
/// entries (as libtorrent reads them) and ignores the tail.
/// </summary>
public sealed record PexMessage(IReadOnlyList<PexPeer> Added, IReadOnlyList<IPEndPoint> Dropped)
{
    /// <summary>libtorrent disconnects a peer whose PEX message is larger (<c>pex_message_too_large</c>).</summary>
    public const int MaxMessageLength = 500 * 1024;

    /// <summary>BEP 11: except for the first message, at most 50 added and 50 dropped; libtorrent takes 50 per source.</summary>
    public const int MaxPeersPerMessage = 50;

    /// <summary>How many entries in the message, before the bound (for logging a flood).</summary>
    public int Offered { get; init; }

    public static bool TryParse(
        in ReadOnlySequence<byte> payload,
        int maxPeers,
        [NotNullWhen(true)] out PexMessage? message,
        [NotNullWhen(false)] out string? error)
    {
        message = null;
        if (payload.Length > MaxMessageLength)
        {
            error = $"ut_pex message of {payload.Length} bytes (at most {MaxMessageLength})";
            return false;
        }
        var decoded = BencodeDecoder.Decode(ExtensionPayload.Contiguous(payload), new BencodeLimits(MaxDepth: 4, MaxTokens: 256));
        if (!decoded.Success || decoded.Value is not BDictionary dictionary)
        {
            error = decoded.Success ? "ut_pex message is not a dictionary" : $"ut_pex message is not bencode: {decoded.Error}";
            return false;
        }

        var added = new List<PexPeer>();
        var offered = 0;
        offered += ReadAdded(dictionary, "added", "added.f", CompactPeers.IPv4EntryLength, maxPeers, added);
        offered += ReadAdded(dictionary, "added6", "added6.f", CompactPeers.IPv6EntryLength, maxPeers, added);
        var dropped = new List<IPEndPoint>();
        ReadDropped(dictionary, "dropped", CompactPeers.IPv4EntryLength, maxPeers, dropped);
        ReadDropped(dictionary, "dropped6", CompactPeers.IPv6EntryLength, maxPeers, dropped);
        message = new PexMessage(added, dropped) { Offered = offered };
        error = null;
        return true;
    }

    /// <summary>The payload (after the extended id); IPv4 and IPv6 peers go to their own keys.</summary>
    public byte[] Encode()
    {
        var added4 = Added.Where(p => IsV4(p.EndPoint)).ToArray();
        var added6 = Added.Where(p => !IsV4(p.EndPoint)).ToArray();
        var entries = new List<(string, BValue)>
        {
            ("added", new BString(CompactPeers.EncodeIPv4(added4.Select(p => V4(p.EndPoint))))),
            ("added.f", new BString(added4.Select(p => (byte)p.Flags).ToArray())),
            ("dropped", new BString(CompactPeers.EncodeIPv4(Dropped.Where(IsV4).Select(V4)))),
        };
        if (added6.Length > 0)
        {
            entries.Add(("added6", new BString(CompactPeers.EncodeIPv6(added6.Select(p => p.EndPoint)))));
            entries.Add(("added6.f", new BString(added6.Select(p => (byte)p.Flags).ToArray())));
        }
        var dropped6 = Dropped.Where(p => !IsV4(p)).ToArray();
        if (dropped6.Length > 0)
        {
            entries.Add(("dropped6", new BString(CompactPeers.EncodeIPv6(dropped6))));
        }
        return BencodeEncoder.Encode(BDictionary.From(entries.ToArray()));
    }

    private static int ReadAdded(BDictionary dictionary, string key, string flagsKey, int entryLength, int maxPeers, List<PexPeer> added)
    {
        if (dictionary.GetString(key) is not { } compact)
        {
            return 0;
        }
        var flags = dictionary.GetString(flagsKey)?.Bytes ?? ReadOnlyMemory<byte>.Empty;
        var count = compact.Bytes.Length / entryLength;
        var take = Math.Min(count, Math.Max(0, maxPeers - added.Count));
        var peers = new List<IPEndPoint>(take);
        Parse(compact.Span[..(take * entryLength)], entryLength, peers);
        for (var i = 0; i < peers.Count; i++)
        {
            // A missing or short flags string leaves the flags unknown, not the peer refused.
            added.Add(new PexPeer(peers[i], i < flags.Length ? (PexFlags)flags.Span[i] : PexFlags.None));
        }
        return count;
    }

    private static void ReadDropped(BDictionary dictionary, string key, int entryLength, int maxPeers, List<IPEndPoint> dropped)
    {
        if (dictionary.GetString(key) is not { } compact)
        {
            return;
        }
        var take = Math.Min(compact.Bytes.Length / entryLength, Math.Max(0, maxPeers - dropped.Count));
        Parse(compact.Span[..(take * entryLength)], entryLength, dropped);
    }

    private static void Parse(ReadOnlySpan<byte> whole, int entryLength, List<IPEndPoint> peers)
    {
        if (entryLength == CompactPeers.IPv4EntryLength)
        {
            CompactPeers.TryParseIPv4(whole, peers);
        }
        else
        {
            CompactPeers.TryParseIPv6(whole, peers);
        }
    }

    private static bool IsV4(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetwork || endPoint.Address.IsIPv4MappedToIPv6;

    private static IPEndPoint V4(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
}
