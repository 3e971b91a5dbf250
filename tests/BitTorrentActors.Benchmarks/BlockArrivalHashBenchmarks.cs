using System.Security.Cryptography;
using Akka.Actor;
using BenchmarkDotNet.Attributes;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Benchmarks;

/// <summary>
/// Issue 14: hashing each block as it arrives (<see cref="PieceAssembly"/>, the writer since then) against the
/// earlier second pass over the whole piece once complete. A block "arrives" as a copy into its pooled buffer (what
/// the socket read does); <see cref="PiecesInFlight"/> pieces are assembled side by side, as with several peers, so
/// by the time a piece is complete its first blocks have been pushed out of the nearer caches. Per op: that many
/// 1 MiB pieces of 64 blocks each, received and verified.
/// </summary>
[MemoryDiagnoser]
public class BlockArrivalHashBenchmarks
{
    private const int BlockLength = 16 * 1024;
    private const int BlockCount = 64;

    private readonly Sha1Pool _hashers = new();
    private byte[] _source = [];
    private byte[][] _expected = [];
    private BlockData[][] _blocks = [];

    [Params(1, 8)]
    public int PiecesInFlight { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _source = new byte[BlockLength * BlockCount * PiecesInFlight];
        new Random(11).NextBytes(_source);
        _expected = Enumerable.Range(0, PiecesInFlight)
            .Select(p => SHA1.HashData(_source.AsSpan(p * BlockLength * BlockCount, BlockLength * BlockCount)))
            .ToArray();
        _blocks = Enumerable.Range(0, PiecesInFlight)
            .Select(p => Enumerable.Range(0, BlockCount)
                .Select(b => BlockData.Rent(new BlockRequest(p, b * BlockLength, BlockLength))).ToArray())
            .ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var block in _blocks.SelectMany(b => b))
        {
            block.Release();
        }
        _hashers.Dispose();
    }

    /// <summary>Before: blocks copied in round robin over the pieces, then each complete piece hashed again.</summary>
    [Benchmark(Baseline = true)]
    public int SecondPassWhenComplete()
    {
        Receive();
        var ok = 0;
        Span<byte> actual = stackalloc byte[SHA1.HashSizeInBytes];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        for (var p = 0; p < PiecesInFlight; p++)
        {
            foreach (var block in _blocks[p])
            {
                hash.AppendData(block.Memory.Span);
            }
            hash.GetHashAndReset(actual);
            ok += actual.SequenceEqual(_expected[p]) ? 1 : 0;
        }
        return ok;
    }

    /// <summary>Now: each block fed to its piece's hasher right after its copy, while it is hot.</summary>
    [Benchmark]
    public int HashedOnArrival()
    {
        var assemblies = new PieceAssembly[PiecesInFlight];
        for (var p = 0; p < PiecesInFlight; p++)
        {
            assemblies[p] = new PieceAssembly(p, BlockCount, _hashers);
        }
        for (var b = 0; b < BlockCount; b++)
        {
            for (var p = 0; p < PiecesInFlight; p++)
            {
                Arrive(p, b);
                assemblies[p].TryAdd(b, _blocks[p][b], ActorRefs.Nobody);
            }
        }
        var ok = 0;
        for (var p = 0; p < PiecesInFlight; p++)
        {
            ok += assemblies[p].HashMatches(_expected[p]) ? 1 : 0;
            // The blocks stay the benchmark's: hand them back out without releasing them.
            assemblies[p].TakeBlocks();
        }
        return ok;
    }

    private void Receive()
    {
        for (var b = 0; b < BlockCount; b++)
        {
            for (var p = 0; p < PiecesInFlight; p++)
            {
                Arrive(p, b);
            }
        }
    }

    private void Arrive(int piece, int block) =>
        _source.AsSpan((piece * BlockCount + block) * BlockLength, BlockLength).CopyTo(_blocks[piece][block].Memory.Span);
}
