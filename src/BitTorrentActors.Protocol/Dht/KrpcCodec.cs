using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;
using BitTorrentActors.Protocol.Bencode;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Text;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Protocol.Dht;

/// <summary>
/// Encodes and decodes KRPC (BEP 5) datagrams. Encoding is canonical bencode (keys sorted), so the BEP's examples
/// come out byte for byte. Decoding is for hostile input: it never throws, refuses a datagram over
/// <see cref="MaxDatagramLength"/> and decodes with libtorrent's bencode bounds (depth 10, 500 tokens), so a
/// datagram costs at most a few microseconds and a bounded allocation.
/// <code>
///   query:    d 1:a d 2:id 20:... [6:target 20:...] [9:info_hash 20:...] [4:port i..e 12:implied_port i1e 5:token ..] e
///               1:q &lt;method&gt; 1:t &lt;tid&gt; [1:v &lt;version&gt;] 1:y 1:q e
///   response: d [2:ip 6:...] 1:r d 2:id 20:... [5:nodes 26n:...] [6:nodes6 38n:...] [5:token ..] [6:values l 6:.. e] e
///               1:t &lt;tid&gt; 1:y 1:r e
///   error:    d 1:e l i203e &lt;message&gt; e 1:t &lt;tid&gt; 1:y 1:e e
/// </code>
/// </summary>
public static class KrpcCodec
{
    /// <summary>
    /// Largest datagram decoded: libtorrent reads UDP into a 1,500-byte buffer (<c>aux_/udp_socket.hpp</c>), so
    /// nothing it sends is longer, and a longer datagram is not a DHT message.
    /// </summary>
    public const int MaxDatagramLength = 1500;

    /// <summary>libtorrent's <c>bdecode(..., depth 10, 500 tokens)</c> for incoming DHT packets (<c>dht_tracker.cpp</c>).</summary>
    public static BencodeLimits Limits { get; } = new(MaxDepth: 10, MaxTokens: 500);

    /// <summary>How many peers an answer's <c>values</c> may carry before the rest are ignored (libtorrent sends at most 100).</summary>
    public const int MaxValues = 200;

    /// <summary>
    /// The session's UDP demultiplexer test, as libtorrent's (<c>dht_tracker::incoming_packet</c>): more than 20
    /// bytes, starting with 'd' and ending with 'e'. UDP tracker answers and uTP packets never look like that.
    /// </summary>
    public static bool LooksLikeKrpc(ReadOnlySpan<byte> datagram) =>
        datagram.Length > 20 && datagram[0] == (byte)'d' && datagram[^1] == (byte)'e';

    public static byte[] Encode(KrpcMessage message)
    {
        var entries = new List<(string, BValue)> { ("t", new BString(message.TransactionId)) };
        switch (message)
        {
            case KrpcQuery query:
                entries.Add(("y", new BString("q")));
                entries.Add(("q", new BString(query.Method)));
                entries.Add(("a", Arguments(query)));
                if (query.ReadOnlyNode)
                {
                    entries.Add(("ro", new BInteger(1)));
                }
                break;
            case KrpcResponse response:
                entries.Add(("y", new BString("r")));
                entries.Add(("r", ResponseBody(response)));
                break;
            case KrpcError error:
                entries.Add(("y", new BString("e")));
                entries.Add(("e", new BList([new BInteger(error.Code), new BString(error.Message)])));
                break;
            default:
                throw new ArgumentException($"unknown KRPC message {message.GetType().Name}", nameof(message));
        }
        if (message.ClientVersion is { } version)
        {
            entries.Add(("v", new BString(version)));
        }
        if (message.ExternalAddress is { } external)
        {
            entries.Add(("ip", new BString(CompactEndPoint(external))));
        }
        return BencodeEncoder.Encode(BDictionary.From(entries.ToArray()));
    }

    public static bool TryDecode(
        ReadOnlyMemory<byte> datagram,
        [NotNullWhen(true)] out KrpcMessage? message,
        [NotNullWhen(false)] out KrpcDecodeError? error)
    {
        message = null;
        if (datagram.Length > MaxDatagramLength)
        {
            error = new KrpcDecodeError($"datagram of {datagram.Length} bytes (at most {MaxDatagramLength})", null);
            return false;
        }
        var decoded = BencodeDecoder.Decode(datagram, Limits);
        if (!decoded.Success || decoded.Value is not BDictionary top)
        {
            error = new KrpcDecodeError(
                decoded.Success ? "message is not a dictionary" : $"message is not bencode: {decoded.Error}", null);
            return false;
        }
        if (top.GetString("t") is not { } tid)
        {
            error = new KrpcDecodeError("message has no transaction id 't'", null);
            return false;
        }
        var type = top.GetString("y");
        string? reason;
        switch (type is { Bytes.Length: 1 } ? (char)type.Span[0] : '\0')
        {
            case 'q':
                message = DecodeQuery(top, tid.Bytes, out reason);
                if (message is null)
                {
                    error = new KrpcDecodeError(reason!, tid.Bytes);
                    return false;
                }
                break;
            case 'r':
                message = DecodeResponse(top, tid.Bytes, out reason);
                break;
            case 'e':
                message = DecodeError(top, tid.Bytes, out reason);
                break;
            default:
                reason = type is null ? "message has no type 'y'" : $"unknown message type '{Printable(type.Span)}'";
                break;
        }
        if (message is null)
        {
            error = new KrpcDecodeError(reason!, null);
            return false;
        }
        message = message with
        {
            ClientVersion = top.GetString("v")?.Bytes,
            ExternalAddress = top.GetString("ip") is { } ip ? ReadCompactEndPoint(ip.Span) : null,
        };
        error = null;
        return true;
    }

    private static KrpcQuery? DecodeQuery(BDictionary top, ReadOnlyMemory<byte> tid, out string? reason)
    {
        reason = null;
        if (top.GetString("q") is not { } methodBytes)
        {
            reason = "query has no method 'q'";
            return null;
        }
        if (top.GetDictionary("a") is not { } args)
        {
            reason = "query has no arguments 'a'";
            return null;
        }
        if (!TryReadId(args, "id", out var sender))
        {
            reason = "query has no 20-byte 'id'";
            return null;
        }
        var method = methodBytes.Span;
        KrpcQuery? query;
        if (method.SequenceEqual("ping"u8))
        {
            query = new PingQuery(tid, sender);
        }
        else if (method.SequenceEqual("find_node"u8))
        {
            query = TryReadId(args, "target", out var target)
                ? new FindNodeQuery(tid, sender, target) { Want = ReadWant(args) }
                : Refuse("find_node has no 20-byte 'target'", out reason);
        }
        else if (method.SequenceEqual("get_peers"u8))
        {
            query = TryReadId(args, "info_hash", out var hash)
                ? new GetPeersQuery(tid, sender, hash.ToInfoHash()) { Want = ReadWant(args) }
                : Refuse("get_peers has no 20-byte 'info_hash'", out reason);
        }
        else if (method.SequenceEqual("announce_peer"u8))
        {
            query = DecodeAnnounce(args, tid, sender, out reason);
        }
        else
        {
            NodeId? target = TryReadId(args, "target", out var t) ? t
                : TryReadId(args, "info_hash", out var h) ? h
                : null;
            query = new UnknownQuery(tid, sender, Printable(method), target);
        }
        return query is null ? null : query with { ReadOnlyNode = args.GetInteger("ro")?.Value == 1 || top.GetInteger("ro")?.Value == 1 };
    }

    private static AnnouncePeerQuery? DecodeAnnounce(BDictionary args, ReadOnlyMemory<byte> tid, NodeId sender, out string? reason)
    {
        reason = null;
        if (!TryReadId(args, "info_hash", out var hash))
        {
            return Refuse<AnnouncePeerQuery>("announce_peer has no 20-byte 'info_hash'", out reason);
        }
        if (args.GetString("token") is not { } token)
        {
            return Refuse<AnnouncePeerQuery>("announce_peer has no 'token'", out reason);
        }
        var implied = args.GetInteger("implied_port") is { Value: not 0 };
        var port = args.GetInteger("port")?.Value;
        // With implied_port the source port counts, so 'port' may be absent or anything (uTorrent sends 0 or junk).
        if (!implied && port is not (>= 1 and <= ushort.MaxValue))
        {
            return Refuse<AnnouncePeerQuery>(
                port is null ? "announce_peer has no 'port'" : $"announce_peer port {port} is not 1..65535", out reason);
        }
        var kept = port is >= 0 and <= ushort.MaxValue ? (int)port.Value : 0;
        return new AnnouncePeerQuery(tid, sender, hash.ToInfoHash(), kept, implied, token.Bytes);
    }

    private static KrpcResponse? DecodeResponse(BDictionary top, ReadOnlyMemory<byte> tid, out string? reason)
    {
        reason = null;
        if (top.GetDictionary("r") is not { } body)
        {
            reason = "response has no body 'r'";
            return null;
        }
        if (!TryReadId(body, "id", out var sender))
        {
            reason = "response has no 20-byte 'id'";
            return null;
        }
        var values = new List<IPEndPoint>();
        if (body.GetList("values") is { } list)
        {
            foreach (var item in list)
            {
                if (values.Count >= MaxValues)
                {
                    break;
                }
                // One peer per string; a string of another length is skipped, not the whole answer.
                if (item is BString { Bytes.Length: CompactPeers.IPv4EntryLength or CompactPeers.IPv6EntryLength } peer
                    && ReadCompactEndPoint(peer.Span) is { Port: not 0 } endPoint)
                {
                    values.Add(endPoint);
                }
            }
        }
        return new KrpcResponse(tid, sender)
        {
            Nodes = body.GetString("nodes") is { } nodes ? CompactNodeInfo.ParseIPv4(nodes.Span) : [],
            Nodes6 = body.GetString("nodes6") is { } nodes6 ? CompactNodeInfo.ParseIPv6(nodes6.Span) : [],
            Values = values,
            Token = body.GetString("token")?.Bytes,
        };
    }

    private static KrpcError? DecodeError(BDictionary top, ReadOnlyMemory<byte> tid, out string? reason)
    {
        reason = null;
        if (top.GetList("e") is not { Count: >= 1 } list || list[0] is not BInteger code)
        {
            reason = "error has no [code, message] list 'e'";
            return null;
        }
        var text = list.Count > 1 && list[1] is BString message ? RemoteText.Sanitize(message.Text) : string.Empty;
        var clamped = (int)Math.Clamp(code.Value, int.MinValue, int.MaxValue);
        return new KrpcError(tid, clamped, text);
    }

    private static BDictionary Arguments(KrpcQuery query)
    {
        var args = new List<(string, BValue)> { ("id", Id(query.Sender)) };
        switch (query)
        {
            case PingQuery:
                break;
            case FindNodeQuery find:
                args.Add(("target", Id(find.Target)));
                AddWant(args, find.Want);
                break;
            case GetPeersQuery get:
                args.Add(("info_hash", new BString(get.InfoHash.ToArray())));
                AddWant(args, get.Want);
                break;
            case AnnouncePeerQuery announce:
                args.Add(("info_hash", new BString(announce.InfoHash.ToArray())));
                if (announce.ImpliedPort)
                {
                    args.Add(("implied_port", new BInteger(1)));
                }
                args.Add(("port", new BInteger(announce.Port)));
                args.Add(("token", new BString(announce.Token)));
                break;
            case UnknownQuery unknown:
                if (unknown.Target is { } target)
                {
                    args.Add(("target", Id(target)));
                }
                break;
        }
        return BDictionary.From(args.ToArray());
    }

    private static BDictionary ResponseBody(KrpcResponse response)
    {
        var body = new List<(string, BValue)> { ("id", Id(response.Sender)) };
        if (response.Nodes.Count > 0)
        {
            body.Add(("nodes", new BString(CompactNodeInfo.EncodeIPv4(response.Nodes))));
        }
        if (response.Nodes6.Count > 0)
        {
            body.Add(("nodes6", new BString(CompactNodeInfo.EncodeIPv6(response.Nodes6))));
        }
        if (response.Token is { } token)
        {
            body.Add(("token", new BString(token)));
        }
        if (response.Values.Count > 0)
        {
            body.Add(("values", new BList(response.Values.Select(v => (BValue)new BString(CompactEndPoint(v))))));
        }
        return BDictionary.From(body.ToArray());
    }

    private static void AddWant(List<(string, BValue)> args, KrpcWant want)
    {
        if (want == KrpcWant.Unspecified)
        {
            return;
        }
        var items = new List<BValue>();
        if (want.HasFlag(KrpcWant.IPv4))
        {
            items.Add(new BString("n4"));
        }
        if (want.HasFlag(KrpcWant.IPv6))
        {
            items.Add(new BString("n6"));
        }
        args.Add(("want", new BList(items)));
    }

    private static KrpcWant ReadWant(BDictionary args)
    {
        var want = KrpcWant.Unspecified;
        if (args.GetList("want") is not { } list)
        {
            return want;
        }
        foreach (var item in list)
        {
            if (item is BString s)
            {
                want |= s.Span.SequenceEqual("n4"u8) ? KrpcWant.IPv4 : s.Span.SequenceEqual("n6"u8) ? KrpcWant.IPv6 : 0;
            }
        }
        return want;
    }

    private static bool TryReadId(BDictionary dictionary, string key, out NodeId id)
    {
        id = default;
        return dictionary.GetString(key) is { } value && NodeId.TryRead(value.Span, out id);
    }

    private static BString Id(NodeId id) => new(id.ToArray());

    /// <summary>A compact address and port, 6 bytes for IPv4 (IPv4-mapped included) and 18 for IPv6.</summary>
    public static byte[] CompactEndPoint(IPEndPoint endPoint)
    {
        var normal = CompactNodeInfo.Normalise(endPoint);
        var bytes = new byte[CompactNodeInfo.IsIPv4(normal) ? CompactPeers.IPv4EntryLength : CompactPeers.IPv6EntryLength];
        normal.Address.TryWriteBytes(bytes, out var written);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(written), (ushort)normal.Port);
        return bytes;
    }

    /// <summary>Reads a 6- or 18-byte compact endpoint; null for any other length.</summary>
    public static IPEndPoint? ReadCompactEndPoint(ReadOnlySpan<byte> bytes)
    {
        var addressLength = bytes.Length switch
        {
            CompactPeers.IPv4EntryLength => 4,
            CompactPeers.IPv6EntryLength => 16,
            _ => 0,
        };
        return addressLength == 0
            ? null
            : new IPEndPoint(new IPAddress(bytes[..addressLength]), BinaryPrimitives.ReadUInt16BigEndian(bytes[addressLength..]));
    }

    private static T? Refuse<T>(string why, out string? reason) where T : class
    {
        reason = why;
        return null;
    }

    private static KrpcQuery? Refuse(string why, out string? reason) => Refuse<KrpcQuery>(why, out reason);

    /// <summary>Remote bytes for a log line or an error message: UTF-8 if it is, escaped and cut short either way.</summary>
    private static string Printable(ReadOnlySpan<byte> bytes) =>
        RemoteText.Sanitize(Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 64)]), 64);
}
