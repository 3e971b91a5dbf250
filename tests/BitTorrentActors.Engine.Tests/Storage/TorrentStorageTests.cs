using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Engine.Tests.Storage.StorageTestSupport;

namespace BitTorrentActors.Engine.Tests.Storage;

public sealed class TorrentStorageTests : IDisposable
{
    private const int KiB = 1024;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_piece_spanning_three_files_is_split_at_the_file_boundaries()
    {
        var files = new Dictionary<string, byte[]>
        {
            ["t/a.bin"] = Bytes(10 * KiB, 1),
            ["t/b.bin"] = Bytes(20 * KiB, 2),
            ["t/c.bin"] = Bytes(50 * KiB, 3),
        };
        var metainfo = MakeTorrent("t", 64 * KiB, [("a.bin", files["t/a.bin"]), ("b.bin", files["t/b.bin"]), ("c.bin", files["t/c.bin"])]);
        var stream = Stream(metainfo, files);
        using var storage = new TorrentStorage(metainfo.Layout, _folder.Path);

        // 16 KiB blocks cross the 10 KiB and 30 KiB file boundaries: slices of blocks, gathered per file.
        storage.WritePiece(0, Blocks(metainfo, stream, 0, 16 * KiB).Select(b => (ReadOnlyMemory<byte>)b.Memory).ToArray());

        Assert.Equal(files["t/a.bin"], File.ReadAllBytes(_folder.File("t/a.bin")));
        Assert.Equal(files["t/b.bin"], File.ReadAllBytes(_folder.File("t/b.bin")));
        Assert.Equal(files["t/c.bin"].AsSpan(0, 34 * KiB).ToArray(), File.ReadAllBytes(_folder.File("t/c.bin")));
        var back = new byte[64 * KiB];
        Assert.True(storage.ReadPiece(0, back));
        Assert.Equal(stream.AsSpan(0, 64 * KiB).ToArray(), back);
    }

    [Fact]
    public void A_range_read_into_several_buffers_fills_them_in_order_across_files_and_is_false_when_a_file_is_short()
    {
        var files = new Dictionary<string, byte[]>
        {
            ["t/a.bin"] = Bytes(10 * KiB, 1),
            ["t/b.bin"] = Bytes(20 * KiB, 2),
            ["t/c.bin"] = Bytes(34 * KiB, 3),
        };
        var metainfo = MakeTorrent("t", 64 * KiB, [("a.bin", files["t/a.bin"]), ("b.bin", files["t/b.bin"]), ("c.bin", files["t/c.bin"])]);
        var stream = Stream(metainfo, files);
        using var storage = new TorrentStorage(metainfo.Layout, _folder.Path);
        storage.WritePiece(0, Blocks(metainfo, stream, 0, 16 * KiB).Select(b => (ReadOnlyMemory<byte>)b.Memory).ToArray());

        // Buffers of 5, 16 and 27 KiB from 2 KiB on: every one ends or starts away from the file boundaries.
        var buffers = new[] { new byte[5 * KiB], new byte[16 * KiB], new byte[27 * KiB] };
        Assert.True(storage.ReadRange(2 * KiB, buffers.Select(b => (Memory<byte>)b).ToList()));
        Assert.Equal(stream.AsSpan(2 * KiB, 48 * KiB).ToArray(), Concat(buffers.Select(b => (ReadOnlyMemory<byte>)b)));

        using (var truncate = File.OpenHandle(_folder.File("t/c.bin"), FileMode.Open, FileAccess.Write))
        {
            RandomAccess.SetLength(truncate, 10 * KiB);
        }
        Assert.False(storage.ReadRange(2 * KiB, buffers.Select(b => (Memory<byte>)b).ToList()));
    }

    [Fact]
    public void A_megabyte_piece_goes_to_disk_one_16_KiB_block_per_write_and_reads_back_whole()
    {
        var blocks = Enumerable.Range(0, 64).Select(i => (ReadOnlyMemory<byte>)Bytes(16 * KiB, (byte)i)).ToArray();

        var runs = TorrentStorage.SplitIntoRuns(blocks, TorrentStorage.MaxWriteBytes);

        Assert.Equal(16 * KiB, TorrentStorage.MaxWriteBytes);
        Assert.Equal(64, runs.Count);
        Assert.All(runs, run => Assert.Equal(16 * KiB, Assert.Single(run).Length));
        Assert.Equal(Concat(blocks), Concat(runs.SelectMany(r => r)));

        var files = new Dictionary<string, byte[]> { ["t/a.bin"] = Bytes(1024 * KiB + 5 * KiB, 7) };
        var metainfo = MakeTorrent("t", 1024 * KiB, [("a.bin", files["t/a.bin"])]);
        var stream = Stream(metainfo, files);
        using var storage = new TorrentStorage(metainfo.Layout, _folder.Path);
        storage.WritePiece(0, Blocks(metainfo, stream, 0, 16 * KiB).Select(b => (ReadOnlyMemory<byte>)b.Memory).ToArray());
        storage.WritePiece(1, Blocks(metainfo, stream, 1, 16 * KiB).Select(b => (ReadOnlyMemory<byte>)b.Memory).ToArray());
        Assert.Equal(files["t/a.bin"], File.ReadAllBytes(_folder.File("t/a.bin")));
    }

    [Fact]
    public void Runs_cut_long_segments_keep_the_order_and_never_exceed_the_limit()
    {
        var segments = new[] { 300, 10, 20, 5, 100, 1, 64 }
            .Select((size, i) => (ReadOnlyMemory<byte>)Bytes(size, (byte)(i + 1))).ToArray();

        var runs = TorrentStorage.SplitIntoRuns(segments, 64);

        Assert.Equal(new[] { 64, 64, 64, 64, 64, 64, 64, 52 }, runs.Select(r => r.Sum(p => p.Length)).ToArray());
        Assert.Equal(Concat(segments), Concat(runs.SelectMany(r => r)));
        Assert.Single(TorrentStorage.SplitIntoRuns(segments[1..2], 64));
        Assert.Empty(TorrentStorage.SplitIntoRuns([], 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => TorrentStorage.SplitIntoRuns(segments, 0));
    }

    private static byte[] Concat(IEnumerable<ReadOnlyMemory<byte>> parts) => parts.SelectMany(p => p.ToArray()).ToArray();

    [Fact]
    public void Reading_a_missing_or_short_file_is_false_and_creates_nothing()
    {
        var metainfo = MakeTorrent("t", 16 * KiB, [("a.bin", Bytes(16 * KiB, 1)), ("b.bin", Bytes(16 * KiB, 2))]);
        Directory.CreateDirectory(_folder.File("t"));
        File.WriteAllBytes(_folder.File("t/a.bin"), new byte[100]);
        using var storage = new TorrentStorage(metainfo.Layout, _folder.Path);

        Assert.False(storage.ReadPiece(0, new byte[16 * KiB]));
        Assert.False(storage.ReadPiece(1, new byte[16 * KiB]));
        Assert.False(File.Exists(_folder.File("t/b.bin")));
        Assert.Equal(new[] { 100L, -1L }, storage.GetFileLengths());
    }

    [Fact]
    public void Pad_files_are_never_created_and_read_back_as_zeros()
    {
        var files = new Dictionary<string, byte[]> { ["t/a.bin"] = Bytes(10 * KiB, 1), ["t/b.bin"] = Bytes(16 * KiB, 2) };
        var metainfo = MakeTorrent("t", 16 * KiB, [("a.bin", files["t/a.bin"]), ("b.bin", files["t/b.bin"])], padFiles: true);
        Assert.Contains(metainfo.Files, f => f.IsPadFile);
        var stream = Stream(metainfo, files);
        using var storage = new TorrentStorage(metainfo.Layout, _folder.Path);

        for (var piece = 0; piece < metainfo.PieceCount; piece++)
        {
            storage.WritePiece(piece, [stream.AsMemory(piece * 16 * KiB, metainfo.GetPieceSize(piece))]);
        }

        var onDisk = Directory.GetFiles(_folder.Path, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(_folder.Path, p).Replace('\\', '/')).Order().ToArray();
        Assert.Equal(new[] { "t/a.bin", "t/b.bin" }, onDisk);
        Assert.Equal(files["t/b.bin"], File.ReadAllBytes(_folder.File("t/b.bin")));
        var first = new byte[16 * KiB];
        Assert.True(storage.ReadPiece(0, first));
        Assert.Equal(stream.AsSpan(0, 16 * KiB).ToArray(), first);
        Assert.All(first.AsSpan(10 * KiB).ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Zero_length_files_are_created()
    {
        var metainfo = MakeTorrent("t", 16 * KiB, [("a.bin", Bytes(KiB, 1)), ("empty/none.txt", [])]);
        using var storage = new TorrentStorage(metainfo.Layout, _folder.Path);

        storage.EnsureEmptyFiles();

        Assert.True(File.Exists(_folder.File("t/empty/none.txt")));
        Assert.Equal(0, new FileInfo(_folder.File("t/empty/none.txt")).Length);
    }

    [Fact]
    public void Hostile_paths_from_a_torrent_resolve_inside_the_download_folder()
    {
        var root = Path.Combine(_folder.Path, "downloads");
        var content = Bytes(3 * KiB, 7);
        var metainfo = MakeTorrent("../up", 16 * KiB,
            [("../../escape.bin", content[..KiB]), ("/abs/x.bin", content[KiB..(2 * KiB)]), ("a/../../../y.bin", content[(2 * KiB)..])]);
        using var storage = new TorrentStorage(metainfo.Layout, root);

        for (var i = 0; i < metainfo.Files.Count; i++)
        {
            var full = storage.GetFullPath(i);
            Assert.NotNull(full);
            Assert.True(PathSanitizer.IsInside(root, full), full);
        }
        storage.WritePiece(0, [content]);

        // Everything written is under downloads/, nothing next to it or above it.
        Assert.Equal(new[] { root }, Directory.GetFileSystemEntries(_folder.Path));
        Assert.Equal(3, Directory.GetFiles(root, "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void A_layout_whose_path_escapes_is_refused_at_write_time_and_nothing_is_created()
    {
        var root = Path.Combine(_folder.Path, "downloads");
        var escaping = new TorrentFile("../outside.bin", ["..", "outside.bin"], KiB, 0, false);
        using var storage = new TorrentStorage(new FileLayout([escaping], 16 * KiB), root);

        Assert.Null(storage.GetFullPath(0));
        var error = Assert.Throws<StorageIOException>(() => storage.WritePiece(0, [new byte[KiB]]));

        Assert.StartsWith("../outside.bin: ", error.Message);
        Assert.False(File.Exists(Path.Combine(_folder.Path, "outside.bin")));
        Assert.Empty(Directory.GetFileSystemEntries(_folder.Path));
    }

    [Fact]
    public void Handles_beyond_the_bound_are_closed_and_reopened_transparently()
    {
        var contents = Enumerable.Range(0, 6).Select(i => Bytes(KiB, i)).ToArray();
        var metainfo = MakeTorrent("t", KiB, contents.Select((c, i) => ($"f{i}.bin", c)).ToArray());
        using var storage = new TorrentStorage(metainfo.Layout, _folder.Path, maxOpenHandles: 2);

        for (var round = 0; round < 2; round++)
        {
            for (var piece = 0; piece < 6; piece++)
            {
                storage.WritePiece(piece, [contents[piece]]);
            }
        }

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(contents[i], File.ReadAllBytes(_folder.File($"t/f{i}.bin")));
        }
    }
}
