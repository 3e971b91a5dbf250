using BitTorrentActors.Protocol.Metainfo;
using Microsoft.Win32.SafeHandles;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// The open handles of a torrent's files, at most <c>maxOpen</c> idle ones (least recently used closed first), so a
/// torrent of thousands of files stays under the process's descriptor limit. A handle in use by a worker is never
/// closed under it: it is retired and closed by its last user. Only this table is locked, never the I/O itself.
/// </summary>
/// <param name="holdsData">Whether a file holds verified data of this run: such a file is never created again
/// when it has vanished (its pieces would be claimed over a hole); the write fails instead.</param>
/// <param name="directWrites">Each write handle comes with a second one for direct writes (<see cref="DirectWrites"/>),
/// where the file system takes them.</param>
internal sealed class FileHandleCache(string root, string?[] fullPaths, int maxOpen, Func<int, bool> holdsData, bool directWrites = false)
    : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<(int File, bool Write), OpenFile> _open = [];
    private long _clock;
    private bool _disposed;

    // Null only for a read of a file that does not exist: its pieces are missing, and reading creates nothing.
    public OpenFile? Acquire(int fileIndex, bool write)
    {
        OpenFile? file;
        List<OpenFile> evicted;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_open.TryGetValue((fileIndex, write), out file))
            {
                if (!write && (fullPaths[fileIndex] is not { } path || !File.Exists(path)))
                {
                    return null;
                }
                var handle = CreateHandle(fileIndex, write);
                file = new OpenFile(handle, write)
                {
                    // The main handle just created the file if it was missing, so this one only opens it.
                    Direct = write && directWrites ? DirectWrites.TryOpen(fullPaths[fileIndex]!) : null,
                };
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

    /// <summary>An open handle of the file (the write one first), without opening one; release it after use.</summary>
    public OpenFile? TryAcquireOpen(int fileIndex)
    {
        lock (_gate)
        {
            if (_disposed
                || !_open.TryGetValue((fileIndex, true), out var file) && !_open.TryGetValue((fileIndex, false), out file))
            {
                return null;
            }
            file.Users++;
            return file;
        }
    }

    public void Release(OpenFile file)
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
        while (_open.Count > maxOpen)
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

    public SafeFileHandle CreateHandle(int fileIndex, bool write)
    {
        // Resolved once at construction and checked again right before touching the disk, so that no code path
        // (including a layout built by hand rather than by the parser) can create a file outside the root.
        var path = fullPaths[fileIndex];
        if (path is null || !PathSanitizer.IsInside(root, path))
        {
            throw new UnauthorizedAccessException("the path resolves outside the download directory");
        }
        if (!write)
        {
            // No RandomAccess hint here: the check reads pieces in order and benefits from read-ahead.
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        if (holdsData(fileIndex) && !File.Exists(path))
        {
            throw new IOException(FileVanished);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Synchronous handles: the callers already run on worker tasks, and on Windows a synchronous call on an
        // Asynchronous handle is emulated (slower); on Unix the flag changes nothing for positional I/O.
        return File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, FileOptions.RandomAccess);
    }

    public const string FileVanished = "the file was deleted or replaced while in use, and the pieces written to it with it";

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
            file.Direct?.Dispose();
        }
    }

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

    public sealed class OpenFile(SafeFileHandle handle, bool write)
    {
        public SafeFileHandle Handle { get; } = handle;

        public bool Write { get; } = write;

        /// <summary>The file's O_DIRECT write handle, if it has one; its flush is the main handle's (fsync is per file).</summary>
        public SafeFileHandle? Direct { get; init; }

        /// <summary>A direct write failed on this file: the rest of its writes go through the page cache.</summary>
        public bool DirectRefused { get; set; }

        public int Users { get; set; }

        public long LastUse { get; set; }

        // Dropped from the table (evicted or disposed) while in use: closed by its last user.
        public bool Retired { get; set; }
    }
}
