using System.IO.Pipelines;
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

    /// <summary>From the coordinator's choker: choke (true) or unchoke (false) the peer.</summary>
    public sealed record SetChoke(bool Choke);

    /// <summary>To the coordinator periodically: bytes moved since the previous report (batched, not per block),
    /// and the current rates both ways, which the choker ranks peers by.</summary>
    public sealed record TransferReport(IActorRef Peer, long Downloaded, long Uploaded, long DownloadRate = 0, long UploadRate = 0);

    /// <summary>To the coordinator when the peer says it is (not) interested in our pieces, so the choker can
    /// unchoke a newly interested peer at once when a slot is free.</summary>
    public sealed record InterestChanged(IActorRef Peer, bool Interested);

    /// <summary>To the coordinator before closing a connection where both sides have everything: nothing
    /// can flow, so the address is not worth dialling again.</summary>
    public sealed record BothSeeds(IPEndPoint EndPoint);

    /// <summary>To the coordinator when the peer proved bad (wrong info-hash, our own id, protocol violation),
    /// so it is not dialled again.</summary>
    public sealed record Misbehaved(IPEndPoint EndPoint, string Reason);

    // ---- From PeerConnection's read loop (internal: only the connection produces them). Each is immutable or,
    // for BlockArrived, carries a buffer whose ownership moves to the actor.

    /// <summary>A message of the read loop's that costs it one credit, handed back once processed
    /// (PeerConnection.Consumed): the loop stops reading while too many are unprocessed. Local to the peer's
    /// node (pooled buffers among them): never checked for serialisation.</summary>
    internal interface IFromReadLoop : INoSerializationVerificationNeeded
    {
        /// <summary>The credits it costs: one, or one per block it carries (the bound is on buffers held).</summary>
        int Credits => 1;
    }

    /// <summary>The remote handshake, read before any other frame.</summary>
    internal sealed record HandshakeReceived(Handshake Handshake) : IFromReadLoop;

    /// <summary>One frame other than have, piece and keep-alive. Index/Begin/Length as on the wire; Payload is a
    /// private copy (bitfield, extended, unknown), null for fixed-size messages; ExtendedId is an extended
    /// message's id byte (BEP 10: 0 for the extension handshake).</summary>
    internal sealed record WireMessage(PeerMessageKind Kind, uint Index = 0, uint Begin = 0, uint Length = 0, byte[]? Payload = null, byte ExtendedId = 0) : IFromReadLoop;

    /// <summary>The pieces of consecutive have frames, in wire order, batched by the read loop.</summary>
    internal sealed record HavesArrived(uint[] Pieces) : IFromReadLoop;

    /// <summary>The blocks of consecutive request frames from one read, in wire order (validated by the actor).</summary>
    internal sealed record RequestsArrived(BlockRequest[] Blocks) : IFromReadLoop;

    /// <summary>The blocks of consecutive piece frames cut from one read, in wire order, each copied once off the
    /// socket into a pooled buffer the actor now owns. One message for a read's blocks, not one each: a 64 KiB
    /// read holds up to four, and every message is a mailbox wake-up on the peer, writer and scheduler.</summary>
    internal sealed record BlocksArrived(BlockData[] Blocks) : IFromReadLoop
    {
        public int Credits => Blocks.Length;

        public void ReleaseAll()
        {
            foreach (var block in Blocks)
            {
                block.Release();
            }
        }
    }

    /// <summary>The peer broke the protocol (bad handshake, bad frame); the loop stopped reading.</summary>
    internal sealed record ConnectionFailed(string Reason);

    /// <summary>End of stream or a socket error; the loop stopped.</summary>
    internal sealed record ConnectionClosed(string Reason);

    /// <summary>Diagnostics (tests, stall reports): answered with <see cref="UploadState"/>.</summary>
    internal sealed record GetUploadState
    {
        public static readonly GetUploadState Instance = new();
    }

    /// <summary>The upload pump's state: requests queued and being read, bytes unsent in the outbox, and how
    /// often the send loop woke the pump (it must only wake it when the outbox held the send bound).</summary>
    internal sealed record UploadState(int Queued, int Reading, long UnsentBytes, long DrainWakeups);

    // ---- The actor's own messages.

    /// <summary>The dialer finished: the transport the connection runs on.</summary>
    internal sealed record TransportReady(IDuplexPipe Transport) : INoSerializationVerificationNeeded;

    /// <summary>The dialer failed.</summary>
    internal sealed record ConnectFailed(string Reason);

    /// <summary>From the connection's send loop: the outbox drained after we held back reading blocks.</summary>
    internal sealed record OutboxDrained
    {
        public static readonly OutboxDrained Instance = new();
    }
}
