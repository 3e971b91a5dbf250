using BitTorrentActors.Protocol.Metainfo;
using Microsoft.Win32.SafeHandles;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// The torrent's files under the download directory, read and written with positional I/O on handles kept open
/// for the torrent's lifetime (at most <see cref="MaxOpenHandles"/> idle ones). Safe for concurrent calls on
/// distinct pieces: <see cref="RandomAccess"/> has no shared file position, and only the handle table is locked.
/// Pad files (BEP 47) are never created: their bytes are skipped on write and read back as zeros.
/// </summary>
public sealed class TorrentStorage : IDisposable
{
    public const int DefaultMaxOpenHandles = 128;

    private readonly FileLayout _layout;
    private readonly string _root;
    // Full path per file; null for a pad file or for a path that would land outside the root.
    private readonly string?[] _fullPaths;
    private readonly object _gate = new();
    private readonly Dictionary<(int File, bool Write), OpenFile> _open = [];
    private long _clock;
    private bool _emptyFilesCreated;
    private bool _disposed;

    public TorrentStorage(FileLayout layout, string downloadDirectory, int maxOpenHandles = DefaultMaxOpenHandles)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentException.ThrowIfNullOrEmpty(downloadDirectory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxOpenHandles);
        _layout = layout;
        _root = Path.GetFullPath(downloadDirectory);
        MaxOpenHandles = maxOpenHandles;
        _fullPaths = new string?[layout.Files.Count];
        for (var i = 0; i < _fullPaths.Length; i++)
        {
            var file = layout.Files[i];
            _fullPaths[i] = file.IsPadFile ? null : PathSanitizer.ResolveUnder(_root, file.Path);
        }
    }

    public int MaxOpenHandles { get; }

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
    }

    /// <summary>Reads a whole piece; false when a file is missing or too short.</summary>
    public bool ReadPiece(int piece, Memory<byte> destination)
    {
        var size = _layout.GetPieceSize(piece);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, size);
        return ReadRange((long)piece * _layout.PieceLength, destination[..size]);
    }

    /// <summary>Reads any range of the torrent's byte stream; false when a file is missing or too short.</summary>
    public bool ReadRange(long torrentOffset, Memory<byte> destination)
    {
        foreach (var span in _layout.MapRange(torrentOffset, destination.Length))
        {
            var part = destination.Slice(span.BufferOffset, span.Length);
            if (span.IsPadding)
            {
                part.Span.Clear();
            }
            else if (!Read(span.FileIndex, span.FileOffset, part.Span))
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

    /// <summary>Creates the zero-length files (no piece ever writes them); once per storage.</summary>
    public void EnsureEmptyFiles()
    {
        lock (_gate)
        {
            if (_emptyFilesCreated)
            {
                return;
            }
            _emptyFilesCreated = true;
        }
        for (var i = 0; i < _fullPaths.Length; i++)
        {
            if (_layout.Files[i] is { Length: 0, IsPadFile: false })
            {
                Guard(i, () => CreateHandle(i, write: true).Dispose());
            }
        }
    }

    /// <summary>Flushes and closes every idle handle; handles in use close when their last user is done.</summary>
    public void Dispose()
    {
        List<OpenFile> idle;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            idle = _open.Values.Where(f => f.Users == 0).ToList();
            foreach (var file in _open.Values)
            {
                file.Retired = true;
            }
            _open.Clear();
        }
        idle.ForEach(Close);
    }

    private void Write(int fileIndex, long fileOffset, IReadOnlyList<ReadOnlyMemory<byte>> segments) =>
        Guard(fileIndex, () =>
        {
            var file = Acquire(fileIndex, write: true)!;
            try
            {
                if (segments.Count == 1)
                {
                    RandomAccess.Write(file.Handle, segments[0].Span, fileOffset);
                }
                else
                {
                    RandomAccess.Write(file.Handle, segments, fileOffset);
                }
            }
            finally
            {
                Release(file);
            }
        });

    private bool Read(int fileIndex, long fileOffset, Span<byte> destination)
    {
        try
        {
            var file = Acquire(fileIndex, write: false);
            if (file is null)
            {
                return false;
            }
            try
            {
                while (!destination.IsEmpty)
                {
                    var read = RandomAccess.Read(file.Handle, destination, fileOffset);
                    if (read == 0)
                    {
                        return false;
                    }
                    destination = destination[read..];
                    fileOffset += read;
                }
                return true;
            }
            finally
            {
                Release(file);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && ex is not StorageIOException)
        {
            throw new StorageIOException(_layout.Files[fileIndex].Path, ex);
        }
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

    // Null only for a read of a file that does not exist: its pieces are missing, and reading creates nothing.
    private OpenFile? Acquire(int fileIndex, bool write)
    {
        OpenFile? file;
        List<OpenFile> evicted;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_open.TryGetValue((fileIndex, write), out file))
            {
                if (!write && (_fullPaths[fileIndex] is not { } path || !File.Exists(path)))
                {
                    return null;
                }
                file = new OpenFile(CreateHandle(fileIndex, write), write);
                _open[(fileIndex, write)] = file;
            }
            file.Users++;
            file.LastUse = ++_clock;
            evicted = EvictIdle();
        }
        // Flushing can take a while: never under the lock other workers need.
        evicted.ForEach(Close);
        return file;
    }

    private void Release(OpenFile file)
    {
        bool close;
        lock (_gate)
        {
            file.Users--;
            close = file.Retired && file.Users == 0;
        }
        if (close)
        {
            Close(file);
        }
    }

    // Called under the lock: drops the least recently used idle handles above the bound, for closing outside it.
    private List<OpenFile> EvictIdle()
    {
        var evicted = new List<OpenFile>();
        while (_open.Count > MaxOpenHandles)
        {
            var idle = _open.Where(e => e.Value.Users == 0).ToList();
            if (idle.Count == 0)
            {
                break;
            }
            var oldest = idle.MinBy(e => e.Value.LastUse);
            _open.Remove(oldest.Key);
            evicted.Add(oldest.Value);
        }
        return evicted;
    }

    private SafeFileHandle CreateHandle(int fileIndex, bool write)
    {
        // Resolved once at construction and checked again right before touching the disk, so that no code path
        // (including a layout built by hand rather than by the parser) can create a file outside the root.
        var path = _fullPaths[fileIndex];
        if (path is null || !PathSanitizer.IsInside(_root, path))
        {
            throw new UnauthorizedAccessException("the path resolves outside the download directory");
        }
        if (!write)
        {
            // No RandomAccess hint here: the check reads pieces in order and benefits from read-ahead.
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Synchronous handles: the callers already run on worker tasks, and on Windows a synchronous call on an
        // Asynchronous handle is emulated (slower); on Unix the flag changes nothing for positional I/O.
        return File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, FileOptions.RandomAccess);
    }

    private static void Close(OpenFile file)
    {
        try
        {
            if (file.Write)
            {
                RandomAccess.FlushToDisk(file.Handle);
            }
        }
        catch (IOException)
        {
            // Nobody is left to tell at close; the handle must still be released, and the bytes were written.
        }
        finally
        {
            file.Handle.Dispose();
        }
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

    private sealed class OpenFile(SafeFileHandle handle, bool write)
    {
        public SafeFileHandle Handle { get; } = handle;

        public bool Write { get; } = write;

        public int Users { get; set; }

        public long LastUse { get; set; }

        // Dropped from the table (evicted or disposed) while in use: closed by its last user.
        public bool Retired { get; set; }
    }
}
