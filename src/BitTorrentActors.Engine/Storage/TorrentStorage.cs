using System.Runtime.InteropServices;
using BitTorrentActors.Protocol.Metainfo;
using Microsoft.Win32.SafeHandles;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// The torrent's files under the download directory, read and written with positional I/O on handles kept open
/// for the torrent's lifetime (a bounded number, see <see cref="FileHandleCache"/>). Safe for concurrent calls on
/// distinct pieces: <see cref="RandomAccess"/> has no shared file position, and only the handle table is locked.
/// Pad files (BEP 47) are never created: their bytes are skipped on write and read back as zeros.
/// Files not wanted (<see cref="SetWantedFiles"/>) are created only by the wanted pieces they share bytes with.
/// A file that holds verified data and vanishes (deleted, or replaced by another file) is never silently created
/// again: the next write to it, and <see cref="EnsureIntact"/>, fail with one line instead.
/// </summary>
public sealed class TorrentStorage : IDisposable
{
    public const int DefaultMaxOpenHandles = 128;

    /// <summary>
    /// The most one write call hands the kernel: a block, as aria2 writes. Issue 14, measured with tests/bench/run.sh
    /// (1 GiB, 1 MiB pieces, two variants interleaved in one run, on the 2-vCPU Firecracker VM the benchmark runs on):
    /// a whole piece in one pwritev made the kernel's copy into the page cache (copy_folio_from_iter_atomic: 3.0 of
    /// the 6.9 CPU-s in a perf profile) cost 2.9-4.2 s of sys time per GiB, 512 KiB runs 2.5 s, runs of 16-256 KiB
    /// 1.3-2.7 s, and 16 KiB beat 128 KiB 4 rounds in 5 (sys 2.21 against 2.65 s, 5.38 against 5.69 CPU-s per
    /// GiB). Likely why: a large write takes large page-cache folios, carved from large free blocks, which that VM
    /// hands back to its host at once (free page reporting, order 9, min_free_ms 0) and which then fault on the host
    /// page by page; small folios come from pages freed a moment ago. 64 calls per MiB cost less than that copy did.
    /// </summary>
    internal const int MaxWriteBytes = 16 * 1024;

    private readonly FileLayout _layout;
    private readonly string _root;
    // Full path per file; null for a pad file or for a path that would land outside the root.
    private readonly string?[] _fullPaths;
    private readonly FileHandleCache _handles;
    private readonly object _gate = new();
    // Per file: a verified piece of this run has bytes in it (written here, or found by the check).
    private readonly bool[] _holdsData;
    // Per file: wanted (all by default); replaced as a whole, so a worker always reads one consistent selection.
    private volatile bool[] _wanted;
    private bool _emptyFilesCreated;
    // Where direct writes get their aligned staging buffer: the session's, or this storage's own.
    private readonly StagingBuffers _staging;

    /// <param name="directWrites">Write each piece's aligned middle with O_DIRECT (<see cref="DirectWrites"/>)
    /// where the file system takes it; the rest, and every read, goes through the page cache.</param>
    /// <param name="staging">The session's staging buffers for direct writes; null: one kept for this storage.</param>
    public TorrentStorage(FileLayout layout, string downloadDirectory, int maxOpenHandles = DefaultMaxOpenHandles,
        bool directWrites = false, StagingBuffers? staging = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentException.ThrowIfNullOrEmpty(downloadDirectory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxOpenHandles);
        _layout = layout;
        _root = Path.GetFullPath(downloadDirectory);
        _fullPaths = new string?[layout.Files.Count];
        for (var i = 0; i < _fullPaths.Length; i++)
        {
            var file = layout.Files[i];
            _fullPaths[i] = file.IsPadFile ? null : PathSanitizer.ResolveUnder(_root, AvoidResumeFolder(file.Path));
        }
        _holdsData = new bool[layout.Files.Count];
        _wanted = new bool[layout.Files.Count];
        Array.Fill(_wanted, true);
        _handles = new FileHandleCache(_root, _fullPaths, maxOpenHandles, i => Volatile.Read(ref _holdsData[i]), directWrites);
        _staging = staging ?? new StagingBuffers(keep: 1);
    }

    /// <summary>Which files are wanted, one flag per file (copied); decides which empty files get created.</summary>
    public void SetWantedFiles(IReadOnlyList<bool> wanted)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        if (wanted.Count != _wanted.Length)
        {
            throw new ArgumentException($"{wanted.Count} flags for {_wanted.Length} files", nameof(wanted));
        }
        _wanted = [.. wanted];
        lock (_gate)
        {
            // A zero-length file wanted now must be created by the next piece written (or the check).
            _emptyFilesCreated = false;
        }
    }

    public bool IsWanted(int fileIndex) => _wanted[fileIndex];

    /// <summary>The piece is verified on disk (found by the check): its files must not vanish from now on.</summary>
    public void NoteVerified(int piece)
    {
        foreach (var span in _layout.MapPiece(piece))
        {
            if (!span.IsPadding)
            {
                Volatile.Write(ref _holdsData[span.FileIndex], true);
            }
        }
    }

    /// <summary>
    /// Whether the file still is the one its verified pieces were written to or found in: true for a file that
    /// holds none; for one that does, its open handle must still be the file at its path (not deleted, moved or
    /// replaced), or with no handle open the file must exist.
    /// </summary>
    public bool IsIntact(int fileIndex)
    {
        if (_fullPaths[fileIndex] is not { } path || !Volatile.Read(ref _holdsData[fileIndex]))
        {
            return true;
        }
        var open = _handles.TryAcquireOpen(fileIndex);
        if (open is null)
        {
            return File.Exists(path);
        }
        try
        {
            return FileIdentity.IsAt(open.Handle, path);
        }
        finally
        {
            _handles.Release(open);
        }
    }

    /// <summary>Throws a one-line <see cref="StorageIOException"/> for the first of the files that is not intact.</summary>
    public void EnsureIntact(IEnumerable<int> fileIndices)
    {
        foreach (var fileIndex in fileIndices)
        {
            if (!IsIntact(fileIndex))
            {
                throw new StorageIOException(_layout.Files[fileIndex].Path, new IOException(FileHandleCache.FileVanished));
            }
        }
    }

    /// <summary>Every file that holds verified data is intact (<see cref="IsIntact"/>).</summary>
    public void EnsureAllIntact() => EnsureIntact(Enumerable.Range(0, _fullPaths.Length));

    /// <summary>
    /// A torrent whose top-level name is the resume folder's (<c>.bta</c>, in any case, for case-insensitive file
    /// systems) lands in <c>_.bta</c> instead, as the sanitiser renames reserved device names: otherwise a torrent
    /// could overwrite, or be overwritten by, another torrent's resume file in the same download directory.
    /// </summary>
    public static string AvoidResumeFolder(string relativePath)
    {
        var slash = relativePath.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? relativePath : relativePath[..slash];
        return string.Equals(first, ResumeStore.FolderName, StringComparison.OrdinalIgnoreCase)
            ? "_" + relativePath
            : relativePath;
    }

    /// <summary>Where file <paramref name="fileIndex"/> lives; null for a pad file or a path outside the root.</summary>
    public string? GetFullPath(int fileIndex) => _fullPaths[fileIndex];

    /// <summary>Writes a whole piece given as its blocks in order (their lengths must add up to the piece).</summary>
    public void WritePiece(int piece, IReadOnlyList<ReadOnlyMemory<byte>> blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        var size = _layout.GetPieceSize(piece);
        var total = 0L;
        foreach (var block in blocks)
        {
            total += block.Length;
        }
        if (total != size)
        {
            throw new ArgumentException($"piece {piece} has {size} bytes, the blocks {total}", nameof(blocks));
        }
        foreach (var span in _layout.MapPiece(piece))
        {
            if (!span.IsPadding)
            {
                Write(span.FileIndex, span.FileOffset, Gather(blocks, span.BufferOffset, span.Length));
            }
        }
        // Only after every write returned: a file found gone now lost this piece too, and says so.
        EnsureIntact(FilesOfPiece(piece));
        NoteVerified(piece);
    }

    /// <summary>Reads a whole piece; false when a file is missing or too short.</summary>
    public bool ReadPiece(int piece, Memory<byte> destination)
    {
        var size = _layout.GetPieceSize(piece);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, size);
        return ReadRange((long)piece * _layout.PieceLength, destination[..size]);
    }

    /// <summary>Reads any range of the torrent's byte stream; false when a file is missing or too short.</summary>
    public bool ReadRange(long torrentOffset, Memory<byte> destination) => ReadRange(torrentOffset, [destination]);

    /// <summary>
    /// Reads a range of the torrent's byte stream into <paramref name="destinations"/>, filled in order, with one
    /// scatter read (preadv) per file the range spans; false when a file is missing or too short.
    /// </summary>
    public bool ReadRange(long torrentOffset, IReadOnlyList<Memory<byte>> destinations)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        var all = destinations.Select(d => (ReadOnlyMemory<byte>)d).ToList();
        foreach (var span in _layout.MapRange(torrentOffset, all.Sum(d => d.Length)))
        {
            // The destinations are writable: Gather slices them as read-only only to share the slicing.
            var parts = Gather(all, span.BufferOffset, span.Length).Select(MemoryMarshal.AsMemory).ToList();
            if (span.IsPadding)
            {
                parts.ForEach(p => p.Span.Clear());
            }
            else if (!Read(span.FileIndex, span.FileOffset, parts))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Each file's length on disk now: -1 when absent, its torrent length for a pad file.</summary>
    public long[] GetFileLengths()
    {
        var lengths = new long[_fullPaths.Length];
        for (var i = 0; i < lengths.Length; i++)
        {
            var path = _fullPaths[i];
            lengths[i] = _layout.Files[i].IsPadFile ? _layout.Files[i].Length
                : path is not null && File.Exists(path) ? new FileInfo(path).Length
                : -1;
        }
        return lengths;
    }

    /// <summary>
    /// Each file's stamp now (length and last-write time), for the resume file and for checking it: absent for a
    /// missing file or a path outside the root, and for a file that is not intact (<see cref="IsIntact"/>: another
    /// file at its path does not hold what was written), a constant one for a pad file (never on disk).
    /// </summary>
    public FileStamp[] GetFileStamps()
    {
        var stamps = new FileStamp[_fullPaths.Length];
        for (var i = 0; i < stamps.Length; i++)
        {
            var file = _layout.Files[i];
            stamps[i] = file.IsPadFile ? new FileStamp(file.Length, 0)
                : _fullPaths[i] is { } path && new FileInfo(path) is { Exists: true } info && IsIntact(i)
                    ? new FileStamp(info.Length, info.LastWriteTimeUtc.Ticks)
                    : FileStamp.Absent;
        }
        return stamps;
    }

    /// <summary>The files holding part of the piece (pad files excluded).</summary>
    public IEnumerable<int> FilesOfPiece(int piece) =>
        _layout.MapPiece(piece).Where(s => !s.IsPadding).Select(s => s.FileIndex).Distinct();

    /// <summary>
    /// Flushes the given files' bytes to the disk (fsync), so a resume file saved afterwards never claims data a
    /// power cut could lose: written by us, or by an earlier run killed before the OS wrote them back. Files that do
    /// not exist are skipped (nothing to flush, and nothing is created). A file without an open handle is flushed
    /// through a read-only one: fsync needs no write access, so read-only content (seeding) saves its resume file.
    /// </summary>
    public void FlushToDisk(IEnumerable<int> fileIndices)
    {
        foreach (var fileIndex in fileIndices)
        {
            if (_fullPaths[fileIndex] is not { } path || !File.Exists(path))
            {
                continue;
            }
            Guard(fileIndex, () =>
            {
                var open = _handles.TryAcquireOpen(fileIndex);
                if (open is not null)
                {
                    try
                    {
                        RandomAccess.FlushToDisk(open.Handle);
                    }
                    finally
                    {
                        _handles.Release(open);
                    }
                    return;
                }
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                RandomAccess.FlushToDisk(handle);
            });
        }
    }

    /// <summary>True when every file the piece touches is at least long enough to hold its part.</summary>
    public bool CouldHoldPiece(int piece, long[] fileLengths)
    {
        foreach (var span in _layout.MapPiece(piece))
        {
            if (fileLengths[span.FileIndex] < span.FileOffset + span.Length)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Creates the wanted zero-length files that do not exist yet (no piece ever writes them); once per storage
    /// and selection. Each file on its own: returns one line per file that could not be created (a read-only
    /// folder), so one of them never spoils the others. One that exists is left alone, even if read-only.
    /// </summary>
    public IReadOnlyList<string> EnsureEmptyFiles()
    {
        lock (_gate)
        {
            if (_emptyFilesCreated)
            {
                return [];
            }
            _emptyFilesCreated = true;
        }
        var wanted = _wanted;
        var problems = new List<string>();
        for (var i = 0; i < _fullPaths.Length; i++)
        {
            if (_layout.Files[i] is not { Length: 0, IsPadFile: false } || !wanted[i]
                || _fullPaths[i] is { } path && File.Exists(path))
            {
                continue;
            }
            try
            {
                var index = i;
                Guard(i, () => _handles.CreateHandle(index, write: true).Dispose());
            }
            catch (IOException ex)
            {
                problems.Add(ex.Message);
            }
        }
        return problems;
    }

    /// <summary>Flushes and closes the files; those in use by a worker close when it is done.</summary>
    public void Dispose() => _handles.Dispose();

    private void Write(int fileIndex, long fileOffset, IReadOnlyList<ReadOnlyMemory<byte>> segments) =>
        Guard(fileIndex, () =>
        {
            var file = _handles.Acquire(fileIndex, write: true)!;
            try
            {
                var length = segments.Sum(s => s.Length);
                var (start, end) = file.Direct is null || file.DirectRefused
                    ? (fileOffset, fileOffset)
                    : DirectWrites.AlignedPart(fileOffset, length);
                if (start == end)
                {
                    WriteBuffered(file.Handle, fileOffset, segments);
                    return;
                }
                var head = (int)(start - fileOffset);
                var middle = (int)(end - start);
                WriteBuffered(file.Handle, fileOffset, Gather(segments, 0, head));
                var aligned = Gather(segments, head, middle);
                if (!TryWriteDirect(file, start, aligned))
                {
                    WriteBuffered(file.Handle, start, aligned);
                }
                WriteBuffered(file.Handle, end, Gather(segments, head + middle, length - head - middle));
            }
            finally
            {
                _handles.Release(file);
            }
        });

    private static void WriteBuffered(SafeFileHandle handle, long offset, IReadOnlyList<ReadOnlyMemory<byte>> segments)
    {
        foreach (var run in SplitIntoRuns(segments, MaxWriteBytes))
        {
            if (run.Length == 1)
            {
                RandomAccess.Write(handle, run[0].Span, offset);
            }
            else
            {
                RandomAccess.Write(handle, run, offset);
            }
            foreach (var part in run)
            {
                offset += part.Length;
            }
        }
    }

    /// <summary>
    /// Writes the aligned segments through the file's direct handle, copied into the page-aligned staging buffer a
    /// megabyte at a time (blocks live in managed arrays, which have no such alignment). False when the file system
    /// refused (O_DIRECT accepted at open but not for this write): nothing is lost, the caller writes the same bytes
    /// buffered, and so do all later writes to this file. A real failure (a full disk) fails that write too.
    /// </summary>
    private bool TryWriteDirect(FileHandleCache.OpenFile file, long offset, List<ReadOnlyMemory<byte>> segments)
    {
        var staging = _staging.Rent();
        try
        {
            var buffer = staging.Memory.Span;
            var filled = 0;
            foreach (var segment in segments)
            {
                var rest = segment.Span;
                while (!rest.IsEmpty)
                {
                    var take = Math.Min(rest.Length, buffer.Length - filled);
                    rest[..take].CopyTo(buffer[filled..]);
                    filled += take;
                    rest = rest[take..];
                    if (filled == buffer.Length)
                    {
                        RandomAccess.Write(file.Direct!, buffer, offset);
                        offset += filled;
                        filled = 0;
                    }
                }
            }
            if (filled > 0)
            {
                RandomAccess.Write(file.Direct!, buffer[..filled], offset);
            }
            return true;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            file.DirectRefused = true;
            return false;
        }
        finally
        {
            _staging.Return(staging);
        }
    }

    private bool Read(int fileIndex, long fileOffset, List<Memory<byte>> destinations)
    {
        try
        {
            var file = _handles.Acquire(fileIndex, write: false);
            if (file is null)
            {
                return false;
            }
            try
            {
                while (destinations.Count > 0)
                {
                    var read = RandomAccess.Read(file.Handle, destinations, fileOffset);
                    if (read == 0)
                    {
                        return false;
                    }
                    fileOffset += read;
                    // A short read: drop what was filled and ask for the rest.
                    while (read > 0)
                    {
                        var first = destinations[0];
                        if (read >= first.Length)
                        {
                            read -= first.Length;
                            destinations.RemoveAt(0);
                        }
                        else
                        {
                            destinations[0] = first[(int)read..];
                            read = 0;
                        }
                    }
                }
                return true;
            }
            finally
            {
                _handles.Release(file);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && ex is not StorageIOException)
        {
            throw new StorageIOException(_layout.Files[fileIndex].Path, ex);
        }
    }

    /// <summary>
    /// The segments, in order, as runs of at most <paramref name="maxBytes"/> bytes each (a segment longer than that
    /// is cut), every run to be written with one call at the offset where the previous one ended.
    /// </summary>
    internal static List<ReadOnlyMemory<byte>[]> SplitIntoRuns(IReadOnlyList<ReadOnlyMemory<byte>> segments, int maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        var runs = new List<ReadOnlyMemory<byte>[]>();
        var run = new List<ReadOnlyMemory<byte>>();
        var runBytes = 0;
        foreach (var segment in segments)
        {
            var rest = segment;
            while (!rest.IsEmpty)
            {
                var take = Math.Min(rest.Length, maxBytes - runBytes);
                run.Add(rest[..take]);
                runBytes += take;
                rest = rest[take..];
                if (runBytes == maxBytes)
                {
                    runs.Add([.. run]);
                    run.Clear();
                    runBytes = 0;
                }
            }
        }
        if (runBytes > 0)
        {
            runs.Add([.. run]);
        }
        return runs;
    }

    // The blocks' slices covering [offset, offset + length) of the piece, without copying.
    private static List<ReadOnlyMemory<byte>> Gather(IReadOnlyList<ReadOnlyMemory<byte>> blocks, int offset, int length)
    {
        var segments = new List<ReadOnlyMemory<byte>>();
        var end = offset + length;
        var blockStart = 0;
        foreach (var block in blocks)
        {
            var blockEnd = blockStart + block.Length;
            if (blockEnd > offset && blockStart < end)
            {
                var from = Math.Max(offset, blockStart) - blockStart;
                var to = Math.Min(end, blockEnd) - blockStart;
                segments.Add(block[from..to]);
            }
            blockStart = blockEnd;
        }
        return segments;
    }

    private void Guard(int fileIndex, Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && ex is not StorageIOException)
        {
            throw new StorageIOException(_layout.Files[fileIndex].Path, ex);
        }
    }
}
