using Akka.Actor;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>
/// The single owner of "who fetches which block". Peers report what they have and ask for work; the scheduler
/// answers with <see cref="Peers.PeerActor.AssignBlocks"/>, <see cref="Peers.PeerActor.CancelBlocks"/> and
/// <see cref="Peers.PeerActor.SetInterest"/>. It never sees payload bytes.
/// </summary>
public sealed partial class PieceSchedulerActor : ReceiveActor
{
    /// <summary>From the coordinator once existing data is checked: the pieces already verified on disk (wire
    /// bitfield layout). No work is handed out before it.</summary>
    public sealed record Start(ReadOnlyMemory<byte> VerifiedPieces);

    /// <summary>A peer's validated wire bitfield.</summary>
    public sealed record PeerBitfield(IActorRef Peer, ReadOnlyMemory<byte> Bits);

    /// <summary>BEP 6 have-all / have-none.</summary>
    public sealed record PeerHaveAll(IActorRef Peer);

    public sealed record PeerHaveNone(IActorRef Peer);

    public sealed record PeerHave(IActorRef Peer, int Piece);

    /// <summary>The peer choked us: its outstanding requests are void and go back to the pool.</summary>
    public sealed record PeerChoked(IActorRef Peer);

    public sealed record PeerUnchoked(IActorRef Peer);

    /// <summary>The peer has room in its pipeline for <paramref name="Count"/> more requests.</summary>
    public sealed record RequestBlocks(IActorRef Peer, int Count);

    /// <summary>A block the peer had been assigned arrived (its bytes went to the writer).</summary>
    public sealed record BlockReceived(IActorRef Peer, BlockRequest Block);

    /// <summary>Blocks the peer gives back unanswered: rejected (BEP 6), timed out, or the peer was snubbed.</summary>
    public sealed record BlocksReleased(IActorRef Peer, IReadOnlyList<BlockRequest> Blocks);

    /// <summary>From the coordinator after the writer's verdict.</summary>
    public sealed record PieceVerified(int Piece);

    /// <summary>From the coordinator: the piece failed its hash; every block of it is fetched again.</summary>
    public sealed record PieceFailed(int Piece);

    /// <summary>Reply to <see cref="GetStatus"/> (tests and diagnostics; never on the per-block path).</summary>
    public sealed record Status(int VerifiedPieces, int PiecesInProgress, int AssignedBlocks, bool Endgame, int Peers);

    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }
}
