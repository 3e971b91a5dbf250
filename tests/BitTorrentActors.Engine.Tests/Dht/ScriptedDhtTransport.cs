using System.Collections.Concurrent;
using System.Net;
using Akka.Actor;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Protocol.Dht;

namespace BitTorrentActors.Engine.Tests.Dht;

/// <summary>
/// An <see cref="IDhtTransport"/> with no socket: every datagram the node sends is decoded and kept in
/// <see cref="Sent"/>, and handed to <see cref="Network"/> (a simulated DHT) whose answer, if any, comes back to the
/// node as a received datagram. Tests also deliver datagrams themselves with <see cref="Deliver"/>.
/// </summary>
internal sealed class ScriptedDhtTransport(IPEndPoint? local = null) : IDhtTransport
{
    private IActorRef _node = ActorRefs.Nobody;

    public IPEndPoint LocalEndPoint { get; } = local ?? IPEndPoint.Parse("127.0.0.1:6881");

    public ConcurrentQueue<(KrpcMessage Message, IPEndPoint To)> Sent { get; } = new();

    /// <summary>Answers a datagram sent to an endpoint; null: nobody there (the query times out).</summary>
    public Func<KrpcMessage, IPEndPoint, KrpcMessage?>? Network { get; set; }

    public bool Disposed { get; private set; }

    /// <summary>False: sent datagrams are counted, not kept (a test that sends thousands).</summary>
    public bool Record { get; set; } = true;

    public int SentCount => Volatile.Read(ref _sentCount);

    private int _sentCount;

    /// <summary>True once the node started it (a datagram delivered before that would be lost).</summary>
    public bool Started => !_node.IsNobody();

    public void Start(IActorRef receiver) => _node = receiver;

    public bool Send(ReadOnlyMemory<byte> datagram, IPEndPoint destination)
    {
        Assert.True(KrpcCodec.TryDecode(datagram, out var message, out var error), error?.Reason);
        Interlocked.Increment(ref _sentCount);
        if (Record)
        {
            Sent.Enqueue((message, destination));
        }
        if (Network?.Invoke(message, destination) is { } answer)
        {
            Deliver(answer, destination);
        }
        return true;
    }

    public void Deliver(KrpcMessage message, IPEndPoint from) => Deliver(KrpcCodec.Encode(message), from);

    public void Deliver(byte[] datagram, IPEndPoint from) => _node.Tell(new DhtNodeActor.DatagramReceived(datagram, from));

    /// <summary>Sent messages of one type, in order.</summary>
    public List<(T Message, IPEndPoint To)> SentOf<T>() where T : KrpcMessage =>
        Sent.Where(s => s.Message is T).Select(s => ((T)s.Message, s.To)).ToList();

    public void Dispose() => Disposed = true;
}

/// <summary>
/// A simulated DHT of <paramref name="count"/> nodes on distinct loopback endpoints for <see cref="ScriptedDhtTransport.Network"/>:
/// each node knows only a slice of the others (so a lookup has to iterate to converge), answers find_node and
/// get_peers with its 8 known nodes closest to the target, gives a token naming itself, and holds the peers
/// put in <see cref="Peers"/>. announce_peer with its own token is answered; any other token gets 203.
/// </summary>
internal sealed class SimulatedDht
{
    private readonly Dictionary<IPEndPoint, (NodeId Id, List<DhtNode> Known)> _nodes = [];

    public SimulatedDht(int count, int seed)
    {
        var random = new Random(seed);
        var all = Enumerable.Range(0, count).Select(i => new DhtNode(NodeId.Random(random), DhtIds.EndPoint(1000 + i))).ToList();
        AllNodes = all;
        foreach (var node in all)
        {
            // Each knows its own neighbourhood and a few random far nodes, like a real routing table.
            var known = all.Where(n => n != node).OrderBy(n => n.Id ^ node.Id).Take(8)
                .Concat(all.Where(n => n != node).OrderBy(_ => random.Next()).Take(4)).Distinct().ToList();
            _nodes[node.EndPoint] = (node.Id, known);
        }
    }

    public IReadOnlyList<DhtNode> AllNodes { get; }

    public Dictionary<NodeId, List<IPEndPoint>> Peers { get; } = [];

    public List<(AnnouncePeerQuery Query, IPEndPoint To)> Announced { get; } = [];

    public int Queries { get; private set; }

    /// <summary>Nodes whose get_peers answers carry no token (they take no announces).</summary>
    public HashSet<IPEndPoint> WithoutToken { get; } = [];

    /// <summary>Nodes whose get_peers answers carry an empty token.</summary>
    public HashSet<IPEndPoint> EmptyToken { get; } = [];

    public static byte[] TokenOf(IPEndPoint node) => System.Text.Encoding.ASCII.GetBytes("tk" + node.Address);

    public IReadOnlyList<DhtNode> ClosestTo(NodeId target, int count) => AllNodes.OrderBy(n => n.Id ^ target).Take(count).ToList();

    public KrpcMessage? Answer(KrpcMessage message, IPEndPoint to)
    {
        if (message is not KrpcQuery query || !_nodes.TryGetValue(to, out var node))
        {
            return null;
        }
        Queries++;
        IReadOnlyList<DhtNode> Closest(NodeId target) => node.Known.OrderBy(n => n.Id ^ target).Take(8).ToList();
        return query switch
        {
            PingQuery => new KrpcResponse(query.TransactionId, node.Id),
            FindNodeQuery find => new KrpcResponse(query.TransactionId, node.Id) { Nodes = Closest(find.Target) },
            GetPeersQuery get => new KrpcResponse(query.TransactionId, node.Id)
            {
                Nodes = Closest(NodeId.FromInfoHash(get.InfoHash)),
                Token = WithoutToken.Contains(to) ? null
                    : EmptyToken.Contains(to) ? ReadOnlyMemory<byte>.Empty
                    : TokenOf(to),
                Values = Peers.GetValueOrDefault(node.Id) ?? [],
            },
            AnnouncePeerQuery announce when announce.Token.Span.SequenceEqual(TokenOf(to)) => Record(announce, to, node.Id),
            AnnouncePeerQuery => new KrpcError(query.TransactionId, KrpcErrorCode.Protocol, "bad token"),
            _ => new KrpcError(query.TransactionId, KrpcErrorCode.MethodUnknown, "unknown"),
        };
    }

    private KrpcResponse Record(AnnouncePeerQuery announce, IPEndPoint to, NodeId id)
    {
        Announced.Add((announce, to));
        return new KrpcResponse(announce.TransactionId, id);
    }
}
