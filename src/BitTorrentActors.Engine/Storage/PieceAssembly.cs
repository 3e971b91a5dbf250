using Akka.Actor;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// The blocks of one piece received so far, kept in block order in their own pooled buffers (never copied: they
/// are hashed and written as they are), and the peers that sent them. Owned by the writer actor only.
/// </summary>
internal sealed class PieceAssembly
{
    private readonly BlockData?[] _blocks;
    private readonly List<IActorRef> _contributors = new(2);

    public PieceAssembly(int piece, int blockCount)
    {
        Piece = piece;
        _blocks = new BlockData?[blockCount];
    }

    public int Piece { get; }

    public int Received { get; private set; }

    public bool IsComplete => Received == _blocks.Length;

    public IReadOnlyList<IActorRef> Contributors => _contributors;

    /// <summary>False for a block already held (endgame duplicate): the caller still owns and releases it.</summary>
    public bool TryAdd(int index, BlockData data, IActorRef peer)
    {
        if (_blocks[index] is not null)
        {
            return false;
        }
        _blocks[index] = data;
        Received++;
        if (!_contributors.Contains(peer))
        {
            _contributors.Add(peer);
        }
        return true;
    }

    /// <summary>Hands every block to the caller (a complete piece going to the hash/write task).</summary>
    public BlockData[] TakeBlocks()
    {
        var blocks = _blocks.Select(b => b ?? throw new InvalidOperationException($"piece {Piece} is incomplete")).ToArray();
        Array.Clear(_blocks);
        Received = 0;
        return blocks;
    }

    public void ReleaseAll()
    {
        for (var i = 0; i < _blocks.Length; i++)
        {
            _blocks[i]?.Release();
            _blocks[i] = null;
        }
        Received = 0;
    }
}
