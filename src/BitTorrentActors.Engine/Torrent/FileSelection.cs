using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>A file's download priority, with Transmission's RPC values (-1, 0, 1).</summary>
public enum FilePriority
{
    Low = -1,
    Normal = 0,
    High = 1,
}

/// <summary>
/// Which files of a torrent are wanted and at which priority (Transmission's files-wanted / files-unwanted and
/// priority-high/normal/low). Immutable: every change returns a copy. Holds only arrays of primitives, so it can
/// be sent, stored and compared as a value.
/// </summary>
/// <remarks>
/// Pieces follow libtorrent's rule: a piece is downloaded when any wanted file has a byte in it, at the highest
/// priority of those files, so a piece shared by a wanted and an unwanted file is downloaded (and the unwanted
/// file's part of it written, as Transmission does). Pad files (BEP 47) and zero-length files hold no bytes of
/// their own that anyone wants, so they never make a piece wanted; a piece made only of padding (BEP 47 pads to
/// the next piece boundary, so only a malformed torrent has one) is wanted exactly when every file is.
/// </remarks>
public sealed class FileSelection : IEquatable<FileSelection>
{
    /// <summary>Piece priority bytes, as <see cref="PiecePriorities"/> returns them.</summary>
    public const byte Skip = 0;
    public const byte LowPiece = 1;
    public const byte NormalPiece = 2;
    public const byte HighPiece = 3;

    private readonly bool[] _wanted;
    private readonly FilePriority[] _priorities;

    /// <summary>A selection of the given flags and priorities (copied), one of each per file.</summary>
    public FileSelection(IReadOnlyList<bool> wanted, IReadOnlyList<FilePriority> priorities)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        ArgumentNullException.ThrowIfNull(priorities);
        if (wanted.Count != priorities.Count)
        {
            throw new ArgumentException($"{wanted.Count} wanted flags for {priorities.Count} priorities", nameof(priorities));
        }
        _wanted = [.. wanted];
        _priorities = [.. priorities];
        foreach (var priority in _priorities)
        {
            if (!Enum.IsDefined(priority))
            {
                throw new ArgumentOutOfRangeException(nameof(priorities), priority, "not a file priority");
            }
        }
    }

    private FileSelection(bool[] wanted, FilePriority[] priorities, bool _)
    {
        _wanted = wanted;
        _priorities = priorities;
    }

    /// <summary>Every file wanted, at normal priority: what a torrent starts with.</summary>
    public static FileSelection All(int fileCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fileCount);
        var wanted = new bool[fileCount];
        Array.Fill(wanted, true);
        return new FileSelection(wanted, new FilePriority[fileCount], false);
    }

    public int FileCount => _wanted.Length;

    /// <summary>Per file, whether it is wanted (what <c>FileWriterActor.SetWantedFiles</c> takes).</summary>
    public IReadOnlyList<bool> Wanted => _wanted;

    public IReadOnlyList<FilePriority> Priorities => _priorities;

    public bool AllWanted => Array.TrueForAll(_wanted, w => w);

    public bool IsWanted(int file) => _wanted[file];

    public FilePriority PriorityOf(int file) => _priorities[file];

    /// <summary>A copy with the given files (un)wanted; an index outside the torrent throws.</summary>
    public FileSelection WithWanted(IEnumerable<int> files, bool wanted)
    {
        var copy = (bool[])_wanted.Clone();
        foreach (var file in Checked(files))
        {
            copy[file] = wanted;
        }
        return new FileSelection(copy, _priorities, false);
    }

    /// <summary>A copy with the given files at priority <paramref name="priority"/>; an index outside the torrent throws.</summary>
    public FileSelection WithPriority(IEnumerable<int> files, FilePriority priority)
    {
        if (!Enum.IsDefined(priority))
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority, "not a file priority");
        }
        var copy = (FilePriority[])_priorities.Clone();
        foreach (var file in Checked(files))
        {
            copy[file] = priority;
        }
        return new FileSelection(_wanted, copy, false);
    }

    /// <summary>
    /// One byte per piece: <see cref="Skip"/> (0, not downloaded), <see cref="LowPiece"/> (1),
    /// <see cref="NormalPiece"/> (2) or <see cref="HighPiece"/> (3): the highest priority among the wanted files
    /// with bytes in the piece.
    /// </summary>
    public byte[] PiecePriorities(TorrentMetainfo metainfo)
    {
        ArgumentNullException.ThrowIfNull(metainfo);
        var layout = metainfo.Layout;
        CheckFits(layout);
        var pieces = new byte[layout.PieceCount];
        for (var i = 0; i < _wanted.Length; i++)
        {
            var file = layout.Files[i];
            if (!_wanted[i] || file.IsPadFile || file.Length == 0)
            {
                continue;
            }
            var priority = (byte)((int)_priorities[i] + NormalPiece);
            var (first, last) = layout.GetPieceRange(i);
            for (var piece = first; piece <= last; piece++)
            {
                pieces[piece] = Math.Max(pieces[piece], priority);
            }
        }
        if (AllWanted)
        {
            // Only padding: nobody's file, but still part of the torrent when all of it is wanted.
            for (var piece = 0; piece < pieces.Length; piece++)
            {
                if (pieces[piece] == Skip)
                {
                    pieces[piece] = NormalPiece;
                }
            }
        }
        return pieces;
    }

    /// <summary>
    /// The bytes of the wanted pieces (Transmission's sizeWhenDone): what the torrent holds once every wanted piece
    /// is verified, including the unwanted files' share of the pieces they have in common with wanted ones.
    /// </summary>
    public long WantedBytes(TorrentMetainfo metainfo)
    {
        var priorities = PiecePriorities(metainfo);
        var bytes = 0L;
        for (var piece = 0; piece < priorities.Length; piece++)
        {
            if (priorities[piece] != Skip)
            {
                bytes += metainfo.GetPieceSize(piece);
            }
        }
        return bytes;
    }

    public bool Equals(FileSelection? other) =>
        other is not null && _wanted.AsSpan().SequenceEqual(other._wanted) && _priorities.AsSpan().SequenceEqual(other._priorities);

    public override bool Equals(object? obj) => Equals(obj as FileSelection);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        for (var i = 0; i < _wanted.Length; i++)
        {
            hash.Add(_wanted[i]);
            hash.Add(_priorities[i]);
        }
        return hash.ToHashCode();
    }

    public override string ToString() =>
        $"{_wanted.Count(w => w)} of {_wanted.Length} files wanted";

    private IEnumerable<int> Checked(IEnumerable<int> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        foreach (var file in files)
        {
            if ((uint)file >= (uint)_wanted.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(files), file, $"file index must be in [0, {_wanted.Length})");
            }
            yield return file;
        }
    }

    private void CheckFits(FileLayout layout)
    {
        if (layout.Files.Count != _wanted.Length)
        {
            throw new ArgumentException($"a selection of {_wanted.Length} files for a torrent of {layout.Files.Count}");
        }
    }
}
