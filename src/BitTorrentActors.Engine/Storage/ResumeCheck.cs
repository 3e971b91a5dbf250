using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// Decides which pieces are on disk at start: a piece the resume file claims is trusted without a read when every
/// file it touches exists and still has the length and last-write time recorded when the claim was saved; every
/// piece touching an absent file, or one that changed since (written after the save, truncated, edited, replaced),
/// is re-hashed; with no usable resume file, everything is re-hashed. Runs on a worker task.
/// </summary>
/// <remarks>
/// The trade-off every client makes (libtorrent, Transmission, qBittorrent): a file rewritten in place with its
/// length kept and its modification time set back is trusted. Re-hashing always would cost a full read of the
/// content on every start; the stamps catch every ordinary change, and a bad piece still fails the peers' checks.
/// </remarks>
internal static class ResumeCheck
{
    /// <summary>The pieces found, how they were found, and a line for the log.</summary>
    /// <param name="Trusted">Pieces taken from the resume file without a read.</param>
    /// <param name="Hashed">Pieces found on disk by reading and hashing them.</param>
    /// <param name="Note">What happened to the resume file, for the log.</param>
    /// <param name="Warn">The resume file exists but could not be used: worth a warning.</param>
    /// <param name="UpToDate">The resume file already says exactly what is on disk: no need to save it again.</param>
    public sealed record Outcome(Bitfield Verified, int Trusted, int Hashed, string Note, bool Warn, bool UpToDate);

    public static Outcome Run(
        TorrentStorage storage, ResumeStore store, TorrentMetainfo metainfo, CancellationToken cancellation)
    {
        var loaded = store.Load();
        if (loaded.Data is not { } resume)
        {
            var all = Enumerable.Range(0, metainfo.PieceCount).ToList();
            var hashed = PieceChecker.Check(storage, metainfo, all, cancellation);
            return loaded.Problem is { } problem
                ? new Outcome(hashed, 0, hashed.Count, $"resume file {store.FilePath} ignored ({problem}); re-checked every piece", true, false)
                : new Outcome(hashed, 0, hashed.Count, "no resume file; re-checked every piece", false, false);
        }

        var stamps = storage.GetFileStamps();
        var changed = new bool[stamps.Length];
        for (var i = 0; i < stamps.Length; i++)
        {
            // An absent file vouches for nothing, even if it was absent at the save too: a resume file saved after
            // the data was deleted under a running download claims pieces no disk holds (issue 17, item 2).
            changed[i] = stamps[i] != resume.Files[i] || stamps[i] == FileStamp.Absent;
        }
        var verified = new Bitfield(metainfo.PieceCount);
        var toHash = new List<int>();
        for (var piece = 0; piece < metainfo.PieceCount; piece++)
        {
            if (storage.FilesOfPiece(piece).Any(file => changed[file]))
            {
                toHash.Add(piece);
            }
            else if (resume.Verified[piece])
            {
                verified.Set(piece);
            }
        }
        var trusted = verified.Count;
        var found = toHash.Count == 0 ? new Bitfield(metainfo.PieceCount) : PieceChecker.Check(storage, metainfo, toHash, cancellation);
        foreach (var piece in found.GetSetIndices())
        {
            verified.Set(piece);
        }
        var changedFiles = changed.Count(c => c);
        var note = changedFiles == 0
            ? $"resume file trusted: {trusted} pieces, no file changed since it was saved"
            : $"resume file trusted for {trusted} pieces; {changedFiles} files changed since it was saved, so {toHash.Count} pieces touching them were re-checked";
        return new Outcome(verified, trusted, found.Count, note, false, changedFiles == 0);
    }
}
