using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>Transmission's file priorities (-1, 0, 1 on the wire).</summary>
public enum FilePriority
{
    Low = -1,
    Normal = 0,
    High = 1,
}

/// <summary>
/// Which files of a torrent to fetch and at what priority (Transmission's files-wanted / priority-*). Immutable:
/// every change returns a copy, so it can travel in messages. Pieces follow libtorrent's rule: a piece is fetched
/// when any wanted file touches it, at the highest priority among those files.
/// </summary>
public sealed class FileSelection
{
    private readonly bool[] _wanted;
    private readonly FilePriority[] _priorities;

    public FileSelection(IReadOnlyList<bool> wanted, IReadOnlyList<FilePriority> priorities)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        ArgumentNullException.ThrowIfNull(priorities);
        if (wanted.Count != priorities.Count)
        {
            throw new ArgumentException("one wanted flag and one priority per file", nameof(priorities));
        }
        _wanted = [.. wanted];
        _priorities = [.. priorities];
    }

    public int FileCount => _wanted.Length;

    public IReadOnlyList<bool> Wanted => _wanted;

    public IReadOnlyList<FilePriority> Priorities => _priorities;

    public bool AllWanted => Array.TrueForAll(_wanted, w => w);

    public static FileSelection All(int fileCount) =>
        new(Enumerable.Repeat(true, fileCount).ToArray(), new FilePriority[fileCount]);

    public bool IsWanted(int file) => _wanted[file];

    public FilePriority PriorityOf(int file) => _priorities[file];

    /// <summary>A copy with <paramref name="files"/> (indices; out-of-range ones are the caller's error) set.</summary>
    public FileSelection WithWanted(IEnumerable<int> files, bool wanted)
    {
        var copy = (bool[])_wanted.Clone();
        foreach (var file in files)
        {
            copy[file] = wanted;
        }
        return new FileSelection(copy, _priorities);
    }

    public FileSelection WithPriority(IEnumerable<int> files, FilePriority priority)
    {
        var copy = (FilePriority[])_priorities.Clone();
        foreach (var file in files)
        {
            copy[file] = priority;
        }
        return new FileSelection(_wanted, copy);
    }

    /// <summary>One byte per piece: 0 do not fetch, 1 low, 2 normal, 3 high.</summary>
    public byte[] PiecePriorities(TorrentMetainfo metainfo)
    {
        ArgumentNullException.ThrowIfNull(metainfo);
        var layout = metainfo.Layout;
        var pieces = new byte[layout.PieceCount];
        for (var file = 0; file < layout.Files.Count && file < _wanted.Length; file++)
        {
            var entry = layout.Files[file];
            if (!_wanted[file] || entry.Length == 0 || entry.IsPadFile)
            {
                continue;
            }
            var value = (byte)((int)_priorities[file] + 2);
            var first = (int)(entry.Offset / layout.PieceLength);
            var last = (int)((entry.End - 1) / layout.PieceLength);
            for (var piece = first; piece <= last; piece++)
            {
                pieces[piece] = Math.Max(pieces[piece], value);
            }
        }
        return pieces;
    }

    /// <summary>Bytes of the pieces that are fetched (Transmission's sizeWhenDone).</summary>
    public long WantedBytes(TorrentMetainfo metainfo)
    {
        ArgumentNullException.ThrowIfNull(metainfo);
        var priorities = PiecePriorities(metainfo);
        long total = 0;
        for (var piece = 0; piece < priorities.Length; piece++)
        {
            if (priorities[piece] != 0)
            {
                total += metainfo.GetPieceSize(piece);
            }
        }
        return total;
    }
}
