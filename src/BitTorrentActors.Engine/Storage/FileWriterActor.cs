using Akka.Actor;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// Owns the torrent's files and which pieces are verified on disk. Assembles blocks into pieces, verifies SHA-1
/// as the blocks arrive (<see cref="PieceAssembly"/>) and writes verified pieces, with disk I/O off the routing
/// dispatcher. Verdicts go to the
/// coordinator given at creation. Keeps the torrent's resume file (<see cref="ResumeStore"/>) on its own: saved
/// every <c>bta.resume.save-interval</c> when pieces were written since, and once more when it stops.
/// </summary>
public sealed partial class FileWriterActor : ReceiveActor, IWithTimers
{
    /// <summary>
    /// Which files are wanted, one flag per file (<see cref="FileSelection.Wanted"/>). Taken before
    /// <see cref="CheckExistingData"/> (the coordinator sends it first) and at any time later. A piece is wanted when
    /// a wanted file has bytes in it (<see cref="FileSelection.PiecePriorities"/>); blocks of other pieces are
    /// dropped, so an unwanted file is created only for the bytes it shares with a wanted piece, and a zero-length
    /// file only when wanted. Send it to the writer before the scheduler hears the matching
    /// <see cref="PieceSchedulerActor.SetPiecePriorities"/>, so no block of a newly wanted piece finds it unaware.
    /// A list of another length than the torrent's files is ignored with a warning.
    /// </summary>
    public sealed record SetWantedFiles(IReadOnlyList<bool> Wanted);

    /// <summary>
    /// Stop as a phase, blocking no thread: blocks are no longer accepted, the piece writes under way finish (for
    /// at most 2 s), the resume file is saved with every piece written, then the writer stops itself (watch it for
    /// <see cref="Terminated"/>). Stopping it outright also saves, but cannot wait for writes still running.
    /// </summary>
    public sealed record StopAfterSave
    {
        public static readonly StopAfterSave Instance = new();
    }

    /// <summary>Check data already on disk (re-hash what exists) and reply <see cref="CheckCompleted"/>.</summary>
    public sealed record CheckExistingData
    {
        public static readonly CheckExistingData Instance = new();
    }

    /// <summary>Verified pieces on disk, in wire bitfield layout.</summary>
    /// <remarks>Between a coordinator and its own writer, always one node: not checked for serialisation.</remarks>
    public sealed record CheckCompleted(ReadOnlyMemory<byte> VerifiedPieces, int VerifiedCount, long VerifiedBytes)
        : INoSerializationVerificationNeeded;

    /// <summary>A block from <paramref name="Peer"/>; its buffer now belongs to the writer.</summary>
    public sealed record WriteBlock(IActorRef Peer, BlockData Data) : INoSerializationVerificationNeeded;

    /// <summary>Blocks of one peer's read, in arrival order, each as a <see cref="WriteBlock"/>: the peer sends one
    /// message for them, not one each. Ownership of every buffer moves to the writer.</summary>
    public sealed record WriteBlocks(IActorRef Peer, BlockData[] Blocks) : INoSerializationVerificationNeeded;

    /// <summary>The piece's bytes are on disk and match its hash.</summary>
    public sealed record PieceVerified(int Piece, IReadOnlyList<IActorRef> Contributors);

    /// <summary>The assembled piece did not match its hash; nothing of it was written.</summary>
    public sealed record PieceFailed(int Piece, IReadOnlyList<IActorRef> Contributors);

    /// <summary>A disk error the torrent cannot go on after (no space, permission denied, ...).</summary>
    public sealed record DiskFailed(string Reason);

    /// <summary>Read a block of a verified piece (seeding); the reply goes to <paramref name="ReplyTo"/>.</summary>
    public sealed record ReadBlock(BlockRequest Block, IActorRef ReplyTo);

    /// <summary>Read these blocks of verified pieces (seeding), in one task: the reply is one <see cref="BlocksRead"/>
    /// with those read, and a <see cref="BlockReadFailed"/> for each that could not be.</summary>
    public sealed record ReadBlocks(BlockRequest[] Blocks, IActorRef ReplyTo);

    /// <summary>The blocks of one <see cref="ReadBlocks"/> that were read, in its order; the receiver releases them.</summary>
    public sealed record BlocksRead(BlockRead[] Blocks) : INoSerializationVerificationNeeded;

    /// <summary>The block's bytes; the buffer belongs to the receiver, who releases it.</summary>
    public sealed record BlockRead(BlockRequest Block, BlockData Data) : INoSerializationVerificationNeeded;

    /// <summary>The block could not be read (piece not verified, bad range, disk error).</summary>
    public sealed record BlockReadFailed(BlockRequest Block, string Reason);

    /// <summary>
    /// Save the resume file now if anything changed since the last save. The writer sends itself one every
    /// <c>bta.resume.save-interval</c> and saves once more as it stops; anyone may send one earlier.
    /// </summary>
    public sealed record SaveResume
    {
        public static readonly SaveResume Instance = new();
    }

    // Internal: results of the background tasks, piped back to the actor.
    private sealed record CheckFinished(ResumeCheck.Outcome? Outcome, IReadOnlyList<string> Problems, Exception? Error) : INoSerializationVerificationNeeded;

    private sealed record FinalSaved(int Pieces, Exception? Error) : INoSerializationVerificationNeeded;

    private sealed record StopWaitElapsed
    {
        public static readonly StopWaitElapsed Instance = new();
    }

    private sealed record ResumeSaved(int[] FlushedFiles, TimeSpan FlushTime, Exception? Error) : INoSerializationVerificationNeeded;

    private sealed record PieceWritten(int Piece);

    private sealed record PieceWriteFailed(int Piece, string Reason);
}
