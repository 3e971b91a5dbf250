using System.Buffers;
using System.Security.Cryptography;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// Re-hashes the pieces already on disk (all of them, or those a resume file cannot vouch for). A piece whose files are absent or too short is missing without
/// a read, so checking a fresh download costs one stat per file. Runs on the caller's thread and spreads the
/// hashing over every core; call it from a worker task.
/// </summary>
internal static class PieceChecker
{
    public static Bitfield Check(TorrentStorage storage, TorrentMetainfo metainfo, CancellationToken cancellation) =>
        Check(storage, metainfo, Enumerable.Range(0, metainfo.PieceCount), cancellation);

    /// <summary>Re-hashes only <paramref name="pieces"/> (those a resume file could not vouch for).</summary>
    public static Bitfield Check(
        TorrentStorage storage, TorrentMetainfo metainfo, IEnumerable<int> pieces, CancellationToken cancellation)
    {
        var lengths = storage.GetFileLengths();
        var candidates = pieces
            .Where(piece => storage.CouldHoldPiece(piece, lengths))
            .ToArray();
        // One slot per piece written by exactly one worker: no sharing, so no locking.
        var verified = new bool[metainfo.PieceCount];
        var options = new ParallelOptions
        {
            MaxDegreeOfParallelism = Environment.ProcessorCount,
            CancellationToken = cancellation,
        };
        Parallel.For(
            0,
            candidates.Length,
            options,
            () => ArrayPool<byte>.Shared.Rent(metainfo.PieceLength),
            (i, _, buffer) =>
            {
                verified[candidates[i]] = Verify(storage, metainfo, candidates[i], buffer);
                return buffer;
            },
            buffer => ArrayPool<byte>.Shared.Return(buffer));

        var bitfield = new Bitfield(metainfo.PieceCount);
        for (var piece = 0; piece < verified.Length; piece++)
        {
            if (verified[piece])
            {
                bitfield.Set(piece);
            }
        }
        return bitfield;
    }

    private static bool Verify(TorrentStorage storage, TorrentMetainfo metainfo, int piece, byte[] buffer)
    {
        var size = metainfo.GetPieceSize(piece);
        try
        {
            if (!storage.ReadPiece(piece, buffer.AsMemory(0, size)))
            {
                return false;
            }
        }
        catch (IOException)
        {
            // An unreadable file holds no usable data: the piece is downloaded again (and a real disk problem
            // surfaces on the first write).
            return false;
        }
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(buffer.AsSpan(0, size), hash);
        return hash.SequenceEqual(metainfo.GetPieceHash(piece));
    }
}
