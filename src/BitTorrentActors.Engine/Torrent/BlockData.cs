using System.Buffers;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>
/// A received block's bytes in a buffer rented from <see cref="ArrayPool{T}.Shared"/>. The read loop copies the
/// payload off the socket into it once; from then on the buffer only changes hands. Ownership moves with the
/// message that carries it, and whoever holds it last calls <see cref="Release"/> exactly once.
/// </summary>
public sealed class BlockData
{
    private byte[]? _buffer;

    private BlockData(BlockRequest block, byte[] buffer)
    {
        Block = block;
        _buffer = buffer;
    }

    public BlockRequest Block { get; }

    public int Piece => Block.Piece;

    public int Begin => Block.Begin;

    public int Length => Block.Length;

    /// <summary>The block's bytes; throws once the buffer went back to the pool, which would be a bug.</summary>
    public Memory<byte> Memory => (_buffer ?? throw new ObjectDisposedException(nameof(BlockData))).AsMemory(0, Length);

    public static BlockData Rent(BlockRequest block) => new(block, ArrayPool<byte>.Shared.Rent(block.Length));

    public void Release()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override string ToString() => $"BlockData({Block})";
}
