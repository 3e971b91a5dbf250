using BenchmarkDotNet.Attributes;
using BitTorrentActors.Protocol.Bencode;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Benchmarks;

/// <summary>
/// Decoding a large torrent file: 10,000 files of 50,000 bytes in 100 folders, 256 KiB pieces (about 500 MB of
/// content, 1,908 piece hashes), built once with <see cref="TorrentBuilder"/>. Measures the raw bencode decode and
/// the full metainfo parse (decode, validation, path sanitising, info-hash).
/// </summary>
[MemoryDiagnoser]
public class BencodeBenchmarks
{
    private const int FileCount = 10_000;
    private const long FileLength = 50_000;
    private byte[] _torrent = [];

    [GlobalSetup]
    public void Setup()
    {
        var files = Enumerable.Range(0, FileCount)
            .Select(i => (new[] { $"folder-{i / 100:D3}", $"file-{i:D5}.bin" }, FileLength))
            .ToList();
        using var content = new ZeroStream(FileCount * FileLength);
        _torrent = TorrentBuilder.Build("large", 256 * 1024, files, content,
            announceTiers: [["http://127.0.0.1:6969/announce"]], createdBy: "bta benchmark");
        var check = TorrentMetainfo.Parse(_torrent, TorrentLimits.Default);
        if (!check.Success || check.Metainfo!.Files.Count != FileCount)
        {
            throw new InvalidOperationException($"benchmark torrent does not parse: {check}");
        }
    }

    [Benchmark]
    public BValue? Decode() => BencodeDecoder.Decode(_torrent).Value;

    [Benchmark]
    public TorrentMetainfo? ParseMetainfo() => TorrentMetainfo.Parse(_torrent, TorrentLimits.Default).Metainfo;

    /// <summary>A read-only stream of zero bytes: content for <see cref="TorrentBuilder"/> without holding it.</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - _position);
            buffer[..n].Clear();
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
