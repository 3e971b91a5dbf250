using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Benchmarks;

/// <summary>
/// Verifying one 1 MiB piece held as 64 pooled 16 KiB <see cref="BlockData"/> buffers, as the file writer did
/// before issue 14 (a fresh <see cref="IncrementalHash"/> per piece, one append per block; now per block on arrival,
/// see <see cref="BlockArrivalHashBenchmarks"/>),
/// against a reused hasher and against the floor, one-shot SHA-1 over a contiguous 1 MiB buffer.
/// </summary>
[MemoryDiagnoser]
public class PieceVerifyBenchmarks
{
    private const int BlockLength = 16 * 1024;
    private const int BlockCount = 64;

    private readonly IncrementalHash _reused = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
    private BlockData[] _blocks = [];
    private byte[] _contiguous = [];
    private byte[] _expected = [];

    [GlobalSetup]
    public void Setup()
    {
        _contiguous = new byte[BlockLength * BlockCount];
        new Random(7).NextBytes(_contiguous);
        _expected = SHA1.HashData(_contiguous);
        _blocks = new BlockData[BlockCount];
        for (var i = 0; i < BlockCount; i++)
        {
            _blocks[i] = BlockData.Rent(new BlockRequest(0, i * BlockLength, BlockLength));
            _contiguous.AsSpan(i * BlockLength, BlockLength).CopyTo(_blocks[i].Memory.Span);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var block in _blocks)
        {
            block.Release();
        }
        _reused.Dispose();
    }

    /// <summary>What the engine did per piece before issue 14.</summary>
    [Benchmark(Baseline = true)]
    public bool IncrementalPerPiece()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        foreach (var block in _blocks)
        {
            hash.AppendData(block.Memory.Span);
        }
        Span<byte> actual = stackalloc byte[SHA1.HashSizeInBytes];
        hash.GetHashAndReset(actual);
        return actual.SequenceEqual(_expected);
    }

    /// <summary>The same with one hasher kept per worker thread.</summary>
    [Benchmark]
    public bool IncrementalReused()
    {
        foreach (var block in _blocks)
        {
            _reused.AppendData(block.Memory.Span);
        }
        Span<byte> actual = stackalloc byte[SHA1.HashSizeInBytes];
        _reused.GetHashAndReset(actual);
        return actual.SequenceEqual(_expected);
    }

    /// <summary>The floor: one SHA-1 call over the piece in one buffer.</summary>
    [Benchmark]
    public bool OneShotContiguous()
    {
        Span<byte> actual = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(_contiguous, actual);
        return actual.SequenceEqual(_expected);
    }
}
