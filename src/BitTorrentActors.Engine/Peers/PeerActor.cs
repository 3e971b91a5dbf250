using System.Net;
using Akka.Actor;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Peers;

/// <summary>
/// One TCP connection to one peer: handshake, choke/interest state, the request pipeline, keep-alives and
/// timeouts. The socket is read by <see cref="PeerConnection"/>'s loop outside the mailbox; a protocol
/// violation or socket error stops only this actor.
/// </summary>
public sealed partial class PeerActor : ReceiveActor
{
    /// <summary>From the scheduler: request these blocks.</summary>
    public sealed record AssignBlocks(IReadOnlyList<BlockRequest> Blocks);

    /// <summary>From the scheduler (endgame): these arrived from someone else; send cancel if still pending.</summary>
    public sealed record CancelBlocks(IReadOnlyList<BlockRequest> Blocks);

    /// <summary>From the scheduler: whether the peer has anything we still need.</summary>
    public sealed record SetInterest(bool Interested);

    /// <summary>From the coordinator: we verified a piece; tell the peer (have).</summary>
    public sealed record AnnounceHave(int Piece);

    /// <summary>To the coordinator once the handshake is done.</summary>
    public sealed record Connected(IActorRef Peer, IPEndPoint EndPoint, PeerId RemoteId);

    /// <summary>To the coordinator periodically: bytes moved since the previous report (batched, not per block).</summary>
    public sealed record TransferReport(IActorRef Peer, long Downloaded, long Uploaded);

    /// <summary>To the coordinator when the peer proved bad (wrong info-hash, our own id, protocol violation),
    /// so it is not dialled again.</summary>
    public sealed record Misbehaved(IPEndPoint EndPoint, string Reason);
}
