using System.Security.Cryptography;
using Akka.Actor;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// The blocks of one piece received so far, kept in block order in their own pooled buffers (never copied: they
/// are hashed and written as they are), and the peers that sent them. Owned by the writer actor only.
/// </summary>
/// <remarks>
/// SHA-1 runs as the blocks arrive (issue 14), while their bytes are still in the cache from the socket read: each
/// block that extends the hashed prefix is fed at once, and a block that arrived early is fed when the gap before
/// it fills. A complete piece then needs only the final digest instead of a second pass over its megabyte, and the
/// hash work spreads over the download rather than coming in a burst per piece. The writer task still writes, and
/// the piece is claimed only after its bytes are written, as before.
/// </remarks>
internal sealed class PieceAssembly
{
    private readonly BlockData?[] _blocks;
    private readonly List<IActorRef> _contributors = new(2);
    private readonly Sha1Pool _hashers;
    private IncrementalHash? _hash;

    public PieceAssembly(int piece, int blockCount, Sha1Pool hashers)
    {
        Piece = piece;
        _blocks = new BlockData?[blockCount];
        _hashers = hashers;
    }

    public int Piece { get; }

    public int Received { get; private set; }

    /// <summary>How many blocks, from the first on, are already fed to the hash.</summary>
    public int Hashed { get; private set; }

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
        while (Hashed < _blocks.Length && _blocks[Hashed] is { } next)
        {
            _hash ??= _hashers.Rent();
            _hash.AppendData(next.Memory.Span);
            Hashed++;
        }
        return true;
    }

    /// <summary>
    /// Whether the complete piece matches <paramref name="expected"/>; gives the hasher back either way (once).
    /// </summary>
    public bool HashMatches(ReadOnlySpan<byte> expected)
    {
        if (!IsComplete)
        {
            throw new InvalidOperationException($"piece {Piece} is incomplete");
        }
        Span<byte> actual = stackalloc byte[SHA1.HashSizeInBytes];
        var hash = _hash ?? _hashers.Rent();
        _hash = null;
        hash.GetHashAndReset(actual);
        _hashers.Return(hash);
        return actual.SequenceEqual(expected);
    }

    /// <summary>Hands every block to the caller (a verified piece going to the write task).</summary>
    public BlockData[] TakeBlocks()
    {
        var blocks = _blocks.Select(b => b ?? throw new InvalidOperationException($"piece {Piece} is incomplete")).ToArray();
        Array.Clear(_blocks);
        Received = 0;
        Hashed = 0;
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
        Hashed = 0;
        if (_hash is { } hash)
        {
            // A partly fed hasher goes back reset.
            _hash = null;
            Span<byte> discard = stackalloc byte[SHA1.HashSizeInBytes];
            hash.GetHashAndReset(discard);
            _hashers.Return(hash);
        }
    }
}
