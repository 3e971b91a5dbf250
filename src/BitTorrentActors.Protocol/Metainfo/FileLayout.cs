namespace BitTorrentActors.Protocol.Metainfo;

/// <summary>
/// Maps torrent byte ranges (a piece, a block, any range of the concatenated file stream) to the file parts they
/// cover. Zero-length files never appear in a mapping (they cover no bytes) but stay in <see cref="Files"/> so a
/// writer still creates them. Lookup is a binary search over file start offsets.
/// </summary>
public sealed class FileLayout
{
    // Start offsets and indexes of the non-empty files only: strictly increasing, so binary search is exact.
    private readonly long[] _starts;
    private readonly int[] _indexes;

    public FileLayout(IReadOnlyList<TorrentFile> files, int pieceLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        Files = files;
        PieceLength = pieceLength;
        var starts = new List<long>();
        var indexes = new List<int>();
        long offset = 0;
        for (var i = 0; i < files.Count; i++)
        {
            if (files[i].Offset != offset || files[i].Length < 0)
            {
                throw new ArgumentException($"file {i} does not start where file {i - 1} ends", nameof(files));
            }
            if (files[i].Length > 0)
            {
                starts.Add(offset);
                indexes.Add(i);
            }
            offset += files[i].Length;
        }
        _starts = starts.ToArray();
        _indexes = indexes.ToArray();
        TotalLength = offset;
        var pieces = (TotalLength + pieceLength - 1) / pieceLength;
        if (pieces > int.MaxValue)
        {
            throw new ArgumentException($"{TotalLength} bytes in {pieceLength}-byte pieces is too many pieces", nameof(pieceLength));
        }
        PieceCount = (int)pieces;
    }

    public IReadOnlyList<TorrentFile> Files { get; }

    public int PieceLength { get; }

    public long TotalLength { get; }

    public int PieceCount { get; }

    /// <summary>Bytes in a piece: <see cref="PieceLength"/> except for a shorter last piece.</summary>
    public int GetPieceSize(int piece)
    {
        if ((uint)piece >= (uint)PieceCount)
        {
            throw new ArgumentOutOfRangeException(nameof(piece), piece, $"piece must be in [0, {PieceCount})");
        }
        var start = (long)piece * PieceLength;
        return (int)Math.Min(PieceLength, TotalLength - start);
    }

    /// <summary>The file parts of a whole piece, in order; buffer offsets are within the piece.</summary>
    public IReadOnlyList<FileSpan> MapPiece(int piece) => MapRange((long)piece * PieceLength, GetPieceSize(piece));

    /// <summary>The file parts of a block inside a piece; buffer offsets are within the block.</summary>
    public IReadOnlyList<FileSpan> Map(int piece, int begin, int length)
    {
        var size = GetPieceSize(piece);
        if (begin < 0 || length < 0 || begin > size - length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"block {begin}+{length} is outside piece {piece} of {size} bytes");
        }
        return MapRange((long)piece * PieceLength + begin, length);
    }

    /// <summary>The file parts of any range of the torrent's byte stream; buffer offsets start at 0.</summary>
    public IReadOnlyList<FileSpan> MapRange(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > TotalLength - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"range {offset}+{length} is outside {TotalLength} bytes");
        }
        var spans = new List<FileSpan>(2);
        if (length == 0)
        {
            return spans;
        }
        var slot = Array.BinarySearch(_starts, offset);
        // Not found: the complement is the first start after offset, so the file holding offset is the one before.
        if (slot < 0)
        {
            slot = ~slot - 1;
        }
        var position = offset;
        var end = offset + length;
        for (; slot < _starts.Length && position < end; slot++)
        {
            var file = Files[_indexes[slot]];
            var take = (int)Math.Min(end - position, file.End - position);
            spans.Add(new FileSpan(_indexes[slot], position - file.Offset, take, (int)(position - offset), file.IsPadFile));
            position += take;
        }
        return spans;
    }

    /// <summary>The inclusive range of pieces that hold any byte of a file; empty (-1, -1) for a zero-length file.</summary>
    public (int First, int Last) GetPieceRange(int fileIndex)
    {
        var file = Files[fileIndex];
        if (file.Length == 0)
        {
            return (-1, -1);
        }
        return ((int)(file.Offset / PieceLength), (int)((file.End - 1) / PieceLength));
    }
}
