using System.Net;
using BitTorrentActors.Protocol.Dht;

namespace BitTorrentActors.Engine.Dht;

/// <summary>
/// How our node answers other nodes' queries as a full node (BEP 5), in one pure place the DHT actor calls for
/// every query it decodes: the querier is noted in the routing table (unless it says it is read-only, BEP 43),
/// and the answer is built from the table, the write tokens and the peer store.
/// <list type="bullet">
/// <item><c>ping</c>: our id.</item>
/// <item><c>find_node</c>: the 8 closest nodes to the target that have answered us (<c>nodes</c> for an IPv4
/// querier, <c>nodes6</c> for IPv6, or what BEP 32 <c>want</c> asks).</item>
/// <item><c>get_peers</c>: a write token, the closest nodes, and up to <see cref="MaxPeersReply"/> announced peers
/// of the querier's address family.</item>
/// <item><c>announce_peer</c>: stored only with a valid token from the querier's address; otherwise error 203.</item>
/// <item>an unknown method: answered as <c>find_node</c> when it carries a target (as libtorrent does), else 204.</item>
/// </list>
/// Every answer carries <c>ip</c>, the querier's address as we saw it (BEP 42), so nodes learn their external address.
/// </summary>
public sealed class DhtResponder(NodeId ownId, RoutingTable table, TokenSecrets tokens, PeerStore peers, Random random)
{
    /// <summary>libtorrent's <c>dht_max_peers_reply</c>; 100 compact IPv4 peers keep an answer under 1,500 bytes.</summary>
    public const int MaxPeersReply = 100;

    /// <summary>IPv6 peers take 18 bytes each: fewer fit in one datagram.</summary>
    public const int MaxPeersReplyIPv6 = 40;

    public const int ClosestNodes = 8;

    /// <summary>The answer to <paramref name="query"/> from <paramref name="source"/>.</summary>
    public KrpcMessage Answer(KrpcQuery query, IPEndPoint source, TimeSpan now)
    {
        source = CompactNodeInfo.Normalise(source);
        if (!query.ReadOnlyNode)
        {
            table.Queried(query.Sender, source, now);
        }
        var ipv4 = CompactNodeInfo.IsIPv4(source);
        KrpcMessage answer = query switch
        {
            PingQuery => new KrpcResponse(query.TransactionId, ownId),
            FindNodeQuery find => WithNodes(new KrpcResponse(query.TransactionId, ownId), find.Target, find.Want, ipv4, now),
            GetPeersQuery get => WithNodes(
                new KrpcResponse(query.TransactionId, ownId)
                {
                    Token = tokens.Issue(source.Address, get.InfoHash, now),
                    Values = peers.Peers(get.InfoHash, ipv4 ? MaxPeersReply : MaxPeersReplyIPv6, ipv4, now, random),
                },
                NodeId.FromInfoHash(get.InfoHash), get.Want, ipv4, now),
            AnnouncePeerQuery announce => Announce(announce, source, now),
            UnknownQuery { Target: { } target } => WithNodes(new KrpcResponse(query.TransactionId, ownId), target, KrpcWant.Unspecified, ipv4, now),
            _ => new KrpcError(query.TransactionId, KrpcErrorCode.MethodUnknown, "unknown method"),
        };
        return answer with { ExternalAddress = source };
    }

    /// <summary>Error 203 for a query we could not read but whose transaction id we have; null when nothing should be sent.</summary>
    public static KrpcError? ErrorFor(KrpcDecodeError error, IPEndPoint source) =>
        error.QueryTransactionId is { } tid
            ? new KrpcError(tid, KrpcErrorCode.Protocol, error.Reason) { ExternalAddress = CompactNodeInfo.Normalise(source) }
            : null;

    private KrpcMessage Announce(AnnouncePeerQuery announce, IPEndPoint source, TimeSpan now)
    {
        if (!tokens.IsValid(announce.Token.Span, source.Address, announce.InfoHash, now))
        {
            return new KrpcError(announce.TransactionId, KrpcErrorCode.Protocol, "invalid token");
        }
        var port = announce.EffectivePort(source);
        if (port is < 1 or > ushort.MaxValue)
        {
            return new KrpcError(announce.TransactionId, KrpcErrorCode.Protocol, "invalid port");
        }
        peers.Announce(announce.InfoHash, new IPEndPoint(source.Address, port), now);
        return new KrpcResponse(announce.TransactionId, ownId);
    }

    private KrpcResponse WithNodes(KrpcResponse response, NodeId target, KrpcWant want, bool ipv4, TimeSpan now)
    {
        var wantV4 = want == KrpcWant.Unspecified ? ipv4 : want.HasFlag(KrpcWant.IPv4);
        var wantV6 = want == KrpcWant.Unspecified ? !ipv4 : want.HasFlag(KrpcWant.IPv6);
        var closest = table.Closest(target, int.MaxValue, now, confirmedOnly: true);
        return response with
        {
            Nodes = wantV4 ? closest.Where(n => CompactNodeInfo.IsIPv4(n.EndPoint)).Take(ClosestNodes).ToList() : [],
            Nodes6 = wantV6 ? closest.Where(n => !CompactNodeInfo.IsIPv4(n.EndPoint)).Take(ClosestNodes).ToList() : [],
        };
    }
}
