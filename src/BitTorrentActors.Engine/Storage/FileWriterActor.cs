using Akka.Actor;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// Owns the torrent's files and which pieces are verified on disk. Assembles blocks into pieces, verifies SHA-1
/// and writes verified pieces, with hashing and disk I/O off the routing dispatcher. Verdicts go to the
/// coordinator given at creation.
/// </summary>
public sealed partial class FileWriterActor : ReceiveActor
{
    /// <summary>Check data already on disk (re-hash what exists) and reply <see cref="CheckCompleted"/>.</summary>
    public sealed record CheckExistingData
    {
        public static readonly CheckExistingData Instance = new();
    }

    /// <summary>Verified pieces on disk, in wire bitfield layout.</summary>
    public sealed record CheckCompleted(ReadOnlyMemory<byte> VerifiedPieces, int VerifiedCount, long VerifiedBytes);

    /// <summary>A block from <paramref name="Peer"/>; its buffer now belongs to the writer.</summary>
    public sealed record WriteBlock(IActorRef Peer, BlockData Data);

    /// <summary>The piece's bytes are on disk and match its hash.</summary>
    public sealed record PieceVerified(int Piece, IReadOnlyList<IActorRef> Contributors);

    /// <summary>The assembled piece did not match its hash; nothing of it was written.</summary>
    public sealed record PieceFailed(int Piece, IReadOnlyList<IActorRef> Contributors);

    /// <summary>A disk error the torrent cannot go on after (no space, permission denied, ...).</summary>
    public sealed record DiskFailed(string Reason);
}
