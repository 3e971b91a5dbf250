using System.Collections;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// Complete pieces waiting for a hash-and-write slot, in arrival order, with an O(1) "is this piece queued"
/// (asked for every incoming block, so a linear scan would grow with the queue).
/// </summary>
internal sealed class ReadyPieces : IEnumerable<PieceAssembly>
{
    private readonly Queue<PieceAssembly> _queue = new();
    private readonly HashSet<int> _pieces = [];

    public int Count => _queue.Count;

    public bool Contains(int piece) => _pieces.Contains(piece);

    public void Enqueue(PieceAssembly assembly)
    {
        _queue.Enqueue(assembly);
        _pieces.Add(assembly.Piece);
    }

    public bool TryDequeue(out PieceAssembly assembly)
    {
        if (!_queue.TryDequeue(out assembly!))
        {
            return false;
        }
        _pieces.Remove(assembly.Piece);
        return true;
    }

    public void Clear()
    {
        _queue.Clear();
        _pieces.Clear();
    }

    public IEnumerator<PieceAssembly> GetEnumerator() => _queue.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
