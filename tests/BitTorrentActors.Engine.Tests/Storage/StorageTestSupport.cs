using Akka.Configuration;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Tests.Interop;
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

/// <summary>
/// Files made immutable with <c>chattr +i</c> for the life of the object: the one read-only a test running as root
/// cannot write through (chmod does not stop root). Fails the test saying so when the kernel or file system refuses.
/// </summary>
public sealed class ImmutableFiles : IAsyncDisposable
{
    private readonly string[] _paths;

    private ImmutableFiles(string[] paths)
    {
        _paths = paths;
    }

    public static async Task<ImmutableFiles> MakeAsync(params string[] paths)
    {
        var result = await RealTools.RunAsync("chattr", ["+i", .. paths], timeout: TimeSpan.FromSeconds(10));
        Assert.True(result.ExitCode == 0,
            $"the kernel refused chattr +i here (needs CAP_LINUX_IMMUTABLE and ext4/xfs/btrfs), so read-only content cannot be tested: {result.Stderr}");
        var immutable = new ImmutableFiles(paths);
        // Prove it holds, so the test cannot pass on a file system that ignores the flag.
        Assert.ThrowsAny<Exception>(() => File.OpenHandle(paths[0], FileMode.Open, FileAccess.ReadWrite).Dispose());
        return immutable;
    }

    public async ValueTask DisposeAsync() =>
        await RealTools.RunAsync("chattr", ["-i", .. _paths], timeout: TimeSpan.FromSeconds(10));
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
