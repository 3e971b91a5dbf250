using System.Buffers;
using BenchmarkDotNet.Attributes;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Benchmarks;

/// <summary>
/// Peer-wire parsing: a receive buffer holding many <c>piece</c> frames (16 KiB blocks) with a <c>have</c> after
/// every fourth one, cut frame by frame through <see cref="PeerWireReader.TryRead"/>. Results are per frame.
/// <see cref="Segmented"/> splits the buffer into 4 KiB segments, as a socket pipe delivers it, so frames straddle
/// segment boundaries.
/// </summary>
[MemoryDiagnoser]
public class WireParseBenchmarks
{
    private const int Blocks = 1024;
    private const int BlockLength = 16 * 1024;
    private const int Frames = Blocks + Blocks / 4;

    private readonly PeerWireReader _reader = new(pieceCount: 10_000);
    private ReadOnlySequence<byte> _buffer;

    [Params(false, true)]
    public bool Segmented { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var block = new byte[BlockLength];
        new Random(1).NextBytes(block);
        var bytes = new byte[(Blocks * PeerWireWriter.PieceSize(BlockLength)) + (Blocks / 4 * 9)];
        var at = 0;
        for (var i = 0; i < Blocks; i++)
        {
            at += PeerWireWriter.WritePiece(bytes.AsSpan(at), (uint)(i / 64), (uint)(i % 64 * BlockLength), block);
            if (i % 4 == 3)
            {
                at += PeerWireWriter.WriteHave(bytes.AsSpan(at), (uint)i);
            }
        }
        if (at != bytes.Length)
        {
            throw new InvalidOperationException($"wrote {at} of {bytes.Length} bytes");
        }
        _buffer = Segmented ? SegmentedSequence.Create(bytes, 4096) : new ReadOnlySequence<byte>(bytes);
    }

    /// <summary>Framing alone: what every received byte goes through.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public long Parse()
    {
        var buffer = _buffer;
        long sum = 0;
        while (_reader.TryRead(ref buffer, out var frame, out _) == PeerWireReadStatus.Complete)
        {
            sum += frame.Index + frame.Payload.Length;
        }
        return sum;
    }

    /// <summary>Framing plus what <c>PeerConnection</c> does with a piece frame: rent a <see cref="BlockData"/> and
    /// copy the block into it (released right away here; the engine releases it after the disk write).</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public long ParseAndCopyBlocks()
    {
        var buffer = _buffer;
        long sum = 0;
        while (_reader.TryRead(ref buffer, out var frame, out _) == PeerWireReadStatus.Complete)
        {
            if (frame.Kind == PeerMessageKind.Piece)
            {
                var data = BlockData.Rent(new BlockRequest((int)frame.Index, (int)frame.Begin, (int)frame.Length));
                frame.Payload.CopyTo(data.Memory.Span);
                sum += data.Length;
                data.Release();
            }
            else
            {
                sum += frame.Index;
            }
        }
        return sum;
    }
}

/// <summary>Builds a multi-segment <see cref="ReadOnlySequence{T}"/> over copies of fixed-size chunks.</summary>
internal sealed class SegmentedSequence : ReadOnlySequenceSegment<byte>
{
    private SegmentedSequence(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Create(byte[] bytes, int segmentSize)
    {
        SegmentedSequence? first = null, last = null;
        for (var at = 0; at < bytes.Length; at += segmentSize)
        {
            var chunk = bytes.AsSpan(at, Math.Min(segmentSize, bytes.Length - at)).ToArray();
            var segment = new SegmentedSequence(chunk, at);
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.Next = segment;
            }
            last = segment;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }
}
