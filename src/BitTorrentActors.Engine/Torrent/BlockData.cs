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

    public static BlockData Rent(BlockRequest block) =>
        new(block, block.Length <= BlockBuffers.BufferSize ? BlockBuffers.Rent() : ArrayPool<byte>.Shared.Rent(block.Length));

    public void Release()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is null)
        {
            return;
        }
        if (buffer.Length == BlockBuffers.BufferSize)
        {
            BlockBuffers.Return(buffer);
        }
        else
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override string ToString() => $"BlockData({Block})";
}

/// <summary>
/// The 16 KiB buffers blocks travel in, kept for reuse. ArrayPool.Shared keeps 32 arrays a size per core, and the
/// writer gives back a piece's 64 at once when its write completes, so most were dropped and the next blocks
/// allocated anew: 250 KiB allocated per MiB downloaded, 16 gen1 and 7 gen2 collections for 1 GiB (issue 14,
/// the "Runtime:" log line of tests/bench/run.sh). This pool keeps up to <see cref="MaxKept"/> free buffers, the
/// blocks a few pieces in flight hold, and lets the GC have the rest.
/// </summary>
internal static class BlockBuffers
{
    public const int BufferSize = 16 * 1024;

    /// <summary>Free buffers kept at most: 16 MiB, about what the writer holds while pieces are written.</summary>
    public const int MaxKept = 1024;

    private static readonly System.Collections.Concurrent.ConcurrentQueue<byte[]> Free = new();
    private static int _kept;

    public static byte[] Rent()
    {
        if (Free.TryDequeue(out var buffer))
        {
            Interlocked.Decrement(ref _kept);
            return buffer;
        }
        return GC.AllocateUninitializedArray<byte>(BufferSize);
    }

    public static void Return(byte[] buffer)
    {
        // Over the bound the buffer is left to the GC; the count may overshoot by a racing return or two.
        if (Interlocked.Increment(ref _kept) <= MaxKept)
        {
            Free.Enqueue(buffer);
        }
        else
        {
            Interlocked.Decrement(ref _kept);
        }
    }
}
