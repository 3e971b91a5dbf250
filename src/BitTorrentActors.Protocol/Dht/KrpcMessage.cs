using System.Net;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Dht;

/// <summary>BEP 5 error codes (the first element of the <c>e</c> list).</summary>
public enum KrpcErrorCode
{
    Generic = 201,
    Server = 202,
    /// <summary>A malformed packet, invalid arguments or a bad token.</summary>
    Protocol = 203,
    MethodUnknown = 204,
}

/// <summary>BEP 32 <c>want</c>: which address families of nodes a querier asks for.</summary>
[Flags]
public enum KrpcWant
{
    /// <summary>No <c>want</c> key: the family the query came in on.</summary>
    Unspecified = 0,
    IPv4 = 1,
    IPv6 = 2,
}

/// <summary>
/// One KRPC message (BEP 5): a bencoded dictionary with a transaction id <c>t</c> (opaque bytes the querier chose
/// and the answer echoes), a type <c>y</c> (<c>q</c>, <c>r</c> or <c>e</c>), and optional keys shared by all
/// types: <c>v</c> (the sender's client version, opaque bytes) and <c>ip</c> (BEP 42: the address the sender saw
/// the receiver at, in answers).
/// </summary>
public abstract record KrpcMessage(ReadOnlyMemory<byte> TransactionId)
{
    /// <summary><c>v</c>: usually two letters and two version bytes (libtorrent sends "LT" 0x02 0x00).</summary>
    public ReadOnlyMemory<byte>? ClientVersion { get; init; }

    /// <summary><c>ip</c>: the receiver's address as the sender saw it, compact (6 or 18 bytes on the wire).</summary>
    public IPEndPoint? ExternalAddress { get; init; }
}

/// <summary>A query (<c>y</c> = <c>q</c>): the method <c>q</c> and its arguments <c>a</c>, always with the sender's <c>id</c>.</summary>
public abstract record KrpcQuery(ReadOnlyMemory<byte> TransactionId, NodeId Sender) : KrpcMessage(TransactionId)
{
    /// <summary>The method name on the wire.</summary>
    public abstract string Method { get; }

    /// <summary>BEP 43 <c>ro</c>: the sender is read-only and must not be put in a routing table.</summary>
    public bool ReadOnlyNode { get; init; }
}

public sealed record PingQuery(ReadOnlyMemory<byte> TransactionId, NodeId Sender) : KrpcQuery(TransactionId, Sender)
{
    public override string Method => "ping";
}

public sealed record FindNodeQuery(ReadOnlyMemory<byte> TransactionId, NodeId Sender, NodeId Target)
    : KrpcQuery(TransactionId, Sender)
{
    public override string Method => "find_node";

    public KrpcWant Want { get; init; }
}

public sealed record GetPeersQuery(ReadOnlyMemory<byte> TransactionId, NodeId Sender, InfoHash InfoHash)
    : KrpcQuery(TransactionId, Sender)
{
    public override string Method => "get_peers";

    public KrpcWant Want { get; init; }
}

/// <summary>
/// <c>announce_peer</c>: the sender is a peer of <see cref="InfoHash"/> on <see cref="Port"/>, or, with
/// <see cref="ImpliedPort"/>, on the UDP source port of the query (for peers behind NAT using uTP).
/// <see cref="Token"/> is what our <c>get_peers</c> answer gave it.
/// </summary>
public sealed record AnnouncePeerQuery(
    ReadOnlyMemory<byte> TransactionId,
    NodeId Sender,
    InfoHash InfoHash,
    int Port,
    bool ImpliedPort,
    ReadOnlyMemory<byte> Token) : KrpcQuery(TransactionId, Sender)
{
    public override string Method => "announce_peer";

    /// <summary>The port to record: the query's source port when implied, <see cref="Port"/> otherwise.</summary>
    public int EffectivePort(IPEndPoint source) => ImpliedPort ? source.Port : Port;
}

/// <summary>
/// A well-formed query with a method we do not know. BEP 5 answers 204; libtorrent answers one that carries a
/// <c>target</c> or <c>info_hash</c> as a <c>find_node</c> (forward compatibility), so that is kept in <see cref="Target"/>.
/// </summary>
public sealed record UnknownQuery(ReadOnlyMemory<byte> TransactionId, NodeId Sender, string MethodName, NodeId? Target)
    : KrpcQuery(TransactionId, Sender)
{
    public override string Method => MethodName;
}

/// <summary>
/// An answer (<c>y</c> = <c>r</c>). KRPC answers do not name their method: the querier matches them by transaction
/// id, so one record holds every key an answer may carry. <see cref="Token"/> and <see cref="Values"/> come only
/// with <c>get_peers</c>.
/// </summary>
public sealed record KrpcResponse(ReadOnlyMemory<byte> TransactionId, NodeId Sender) : KrpcMessage(TransactionId)
{
    public IReadOnlyList<DhtNode> Nodes { get; init; } = [];

    /// <summary>BEP 32 <c>nodes6</c>.</summary>
    public IReadOnlyList<DhtNode> Nodes6 { get; init; } = [];

    /// <summary>Peers of the info-hash, each a compact 6-byte (or 18-byte) string in the <c>values</c> list.</summary>
    public IReadOnlyList<IPEndPoint> Values { get; init; } = [];

    public ReadOnlyMemory<byte>? Token { get; init; }
}

/// <summary>An error (<c>y</c> = <c>e</c>): <c>e</c> is a list of the code and a message.</summary>
public sealed record KrpcError(ReadOnlyMemory<byte> TransactionId, int Code, string Message) : KrpcMessage(TransactionId)
{
    public KrpcError(ReadOnlyMemory<byte> transactionId, KrpcErrorCode code, string message)
        : this(transactionId, (int)code, message) { }
}

/// <summary>
/// Why a datagram is not a KRPC message we can use. When it was a query whose transaction id could be read,
/// <see cref="QueryTransactionId"/> is set, so the node can answer with error 203 (as libtorrent does); otherwise
/// the datagram is dropped.
/// </summary>
public sealed record KrpcDecodeError(string Reason, ReadOnlyMemory<byte>? QueryTransactionId)
{
    public override string ToString() => Reason;
}
