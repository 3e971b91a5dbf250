namespace BitTorrentActors.Engine.Torrent;

/// <summary>
/// The blocks of one piece being fetched: which are free, requested (and by whom) or received. Owned by the
/// <see cref="PiecePicker"/>, which lives inside the scheduler actor, so nothing here is shared.
/// </summary>
internal sealed class PartialPiece<TPeer> where TPeer : notnull
{
    private readonly List<TPeer>?[] _requesters;
    private readonly bool[] _received;

    public PartialPiece(int piece, int pieceSize, int blockSize)
    {
        Piece = piece;
        PieceSize = pieceSize;
        BlockSize = blockSize;
        BlockCount = (pieceSize + blockSize - 1) / blockSize;
        _requesters = new List<TPeer>?[BlockCount];
        _received = new bool[BlockCount];
        FreeBlocks = BlockCount;
    }

    public int Piece { get; }
    public int PieceSize { get; }
    public int BlockSize { get; }
    public int BlockCount { get; }
    public int FreeBlocks { get; private set; }
    public int ReceivedBlocks { get; private set; }
    public bool AllReceived => ReceivedBlocks == BlockCount;

    public BlockRequest Block(int index) =>
        new(Piece, index * BlockSize, Math.Min(BlockSize, PieceSize - index * BlockSize));

    public int IndexOf(BlockRequest block) =>
        block.Begin % BlockSize == 0 && block.Begin / BlockSize < BlockCount && Block(block.Begin / BlockSize) == block
            ? block.Begin / BlockSize
            : -1;

    public bool IsFree(int index) => !_received[index] && (_requesters[index]?.Count ?? 0) == 0;

    public bool IsReceived(int index) => _received[index];

    public int RequesterCount(int index) => _requesters[index]?.Count ?? 0;

    public bool IsRequestedBy(int index, TPeer peer) => _requesters[index]?.Contains(peer) ?? false;

    public void AddRequester(int index, TPeer peer)
    {
        if (IsFree(index))
        {
            FreeBlocks--;
        }
        (_requesters[index] ??= new List<TPeer>(2)).Add(peer);
    }

    /// <summary>Drops one requester; returns true when the block became free again.</summary>
    public bool RemoveRequester(int index, TPeer peer)
    {
        var list = _requesters[index];
        if (list is null || !list.Remove(peer) || list.Count > 0 || _received[index])
        {
            return false;
        }
        FreeBlocks++;
        return true;
    }

    /// <summary>Marks a block received; returns its other requesters (to be cancelled), or null if it was
    /// already received.</summary>
    public List<TPeer>? MarkReceived(int index)
    {
        if (_received[index])
        {
            return null;
        }
        var requesters = _requesters[index];
        if (requesters is null || requesters.Count == 0)
        {
            FreeBlocks--;
        }
        _received[index] = true;
        _requesters[index] = null;
        ReceivedBlocks++;
        return requesters ?? [];
    }

    /// <summary>Forgets everything (hash failure): every block is free again. Returns the requesters that were
    /// still waiting, by block.</summary>
    public IEnumerable<(int Index, TPeer Peer)> Reset()
    {
        var pending = new List<(int, TPeer)>();
        for (var i = 0; i < BlockCount; i++)
        {
            if (_requesters[i] is { } list)
            {
                pending.AddRange(list.Select(p => (i, p)));
            }
            _requesters[i] = null;
            _received[i] = false;
        }
        FreeBlocks = BlockCount;
        ReceivedBlocks = 0;
        return pending;
    }
}
