using BenchmarkDotNet.Attributes;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Benchmarks;

/// <summary>
/// The scheduler's <see cref="PiecePicker{TPeer}"/> for a torrent of 10,000 pieces of 256 KiB (16 blocks each) and
/// 50 peers, each with a random bitfield holding about half the pieces (seed 42, so every run sees the same swarm).
/// </summary>
[MemoryDiagnoser]
public class PiecePickerBenchmarks
{
    private const int Pieces = 10_000;
    private const int PieceLength = 256 * 1024;
    private const int BlockSize = 16 * 1024;
    private const int BlocksPerPiece = PieceLength / BlockSize;
    private const int Peers = 50;
    private const int PickSize = 16;

    private Bitfield[] _bitfields = [];
    private PiecePicker<int> _steady = null!;
    private PiecePicker<int> _download = null!;
    private int _nextPeer;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _bitfields = new Bitfield[Peers];
        for (var p = 0; p < Peers; p++)
        {
            var bits = new Bitfield(Pieces);
            for (var i = 0; i < Pieces; i++)
            {
                if (random.Next(2) == 0)
                {
                    bits.Set(i);
                }
            }
            _bitfields[p] = bits;
        }
        _steady = NewPicker();
    }

    /// <summary>One pick of 16 blocks for the next peer (round robin) that are then handed back: the cost of a
    /// request top-up in steady state, with started pieces in progress.</summary>
    [Benchmark]
    public int PickAndRelease()
    {
        var peer = _nextPeer++ % Peers;
        var picked = _steady.Pick(peer, PickSize);
        _steady.Release(peer, picked);
        return picked.Count;
    }

    [IterationSetup(Target = nameof(DownloadWholeTorrent))]
    public void NewDownload() => _download = NewPicker();

    /// <summary>A whole download through the picker: peers in turn ask for 16 blocks, every block arrives, every
    /// completed piece is verified, until the picker is complete. Per block: OperationsPerInvoke is the block count.</summary>
    [Benchmark(OperationsPerInvoke = Pieces * BlocksPerPiece)]
    public int DownloadWholeTorrent()
    {
        var picker = _download;
        var received = new int[Pieces];
        var rounds = 0;
        while (!picker.IsComplete)
        {
            for (var peer = 0; peer < Peers && !picker.IsComplete; peer++)
            {
                foreach (var block in picker.Pick(peer, PickSize))
                {
                    picker.BlockReceived(peer, block);
                    if (++received[block.Piece] == BlocksPerPiece)
                    {
                        picker.PieceVerified(block.Piece);
                    }
                }
            }
            if (++rounds > 1_000_000)
            {
                throw new InvalidOperationException("the download through the picker does not finish");
            }
        }
        return rounds;
    }

    private PiecePicker<int> NewPicker()
    {
        var picker = new PiecePicker<int>(Pieces, _ => PieceLength, BlockSize, new Random(42));
        for (var p = 0; p < Peers; p++)
        {
            picker.SetPeerPieces(p, _bitfields[p].Clone());
        }
        return picker;
    }
}
