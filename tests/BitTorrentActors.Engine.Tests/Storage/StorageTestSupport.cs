using Akka.Configuration;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.Storage;

/// <summary>Shared pieces of the storage tests: the repo's hocon.conf, in-memory torrents, temp folders.</summary>
internal static class StorageTestSupport
{
    private static readonly Lazy<Config> _hocon = new(() => TestTorrents.LoadConfig());

    /// <summary>The repository's hocon.conf: the real dispatchers and settings the writer runs with.</summary>
    public static Config Hocon => _hocon.Value;

    public static BtaSettings Settings => BtaSettings.FromConfig(Hocon);

    public static TorrentMetainfo MakeTorrent(string name, int pieceLength, IReadOnlyList<(string Path, byte[] Content)> files, bool padFiles = false)
    {
        var result = TorrentMetainfo.Parse(TorrentBuilder.Build(name, pieceLength, files, padFiles: padFiles));
        return result.Metainfo ?? throw new InvalidOperationException(result.Error);
    }

    public static TorrentContext Context(TorrentMetainfo metainfo, string folder) =>
        new(metainfo, PeerId.Generate(), folder, Settings, 6881);

    /// <summary>Deterministic, non-repeating-looking bytes so a misplaced block cannot go unnoticed.</summary>
    public static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The torrent's byte stream (pad files as zeros), in which pieces are cut.</summary>
    public static byte[] Stream(TorrentMetainfo metainfo, IReadOnlyDictionary<string, byte[]> contentByPath)
    {
        var stream = new byte[metainfo.TotalLength];
        foreach (var file in metainfo.Files.Where(f => !f.IsPadFile && f.Length > 0))
        {
            contentByPath[file.Path].CopyTo(stream, file.Offset);
        }
        return stream;
    }

    /// <summary>The blocks of a piece as the peers would deliver them, each in its own pooled buffer.</summary>
    public static List<BlockData> Blocks(TorrentMetainfo metainfo, byte[] stream, int piece, int blockSize)
    {
        var size = metainfo.GetPieceSize(piece);
        var blocks = new List<BlockData>();
        for (var begin = 0; begin < size; begin += blockSize)
        {
            blocks.Add(Block(stream, metainfo.PieceLength, new BlockRequest(piece, begin, Math.Min(blockSize, size - begin))));
        }
        return blocks;
    }

    public static BlockData Block(byte[] stream, int pieceLength, BlockRequest request)
    {
        var data = BlockData.Rent(request);
        stream.AsSpan((int)((long)request.Piece * pieceLength + request.Begin), request.Length).CopyTo(data.Memory.Span);
        return data;
    }
}

/// <summary>A folder of its own per test, deleted afterwards.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = Directory.CreateTempSubdirectory("bta-storage-").FullName;
    }

    public string Path { get; }

    public string File(string relative) => System.IO.Path.Combine(Path, relative.Replace('/', System.IO.Path.DirectorySeparatorChar));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A handle closing late must not fail the test; the OS temp cleaner gets the rest.
        }
    }
}
