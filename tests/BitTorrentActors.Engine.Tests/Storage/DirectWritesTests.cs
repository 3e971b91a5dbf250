using BitTorrentActors.Engine.Storage;
using static BitTorrentActors.Engine.Tests.Storage.StorageTestSupport;

namespace BitTorrentActors.Engine.Tests.Storage;

/// <summary>Issue 14: pieces written past the page cache (O_DIRECT) land byte for byte, the unaligned edges buffered.</summary>
public sealed class DirectWritesTests : IDisposable
{
    private const int KiB = 1024;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void The_direct_part_runs_from_the_first_page_boundary_to_the_last_and_is_empty_when_short()
    {
        Assert.Equal((0L, 1024L * KiB), DirectWrites.AlignedPart(0, 1024 * KiB));
        // 5000 rounds up to 8192; 5000 + 1 MiB rounds down to 1 MiB + 4096.
        Assert.Equal((8192L, 1024L * KiB + 4096), DirectWrites.AlignedPart(5000, 1024 * KiB));
        var (start, end) = DirectWrites.AlignedPart(100, DirectWrites.MinBytes);
        Assert.Equal(start, end);
        Assert.Equal((long)DirectWrites.MinBytes, DirectWrites.AlignedPart(4096, DirectWrites.MinBytes).End - 4096);
    }

    [Fact]
    public void An_aligned_buffer_starts_on_a_page()
    {
        for (var i = 0; i < 8; i++)
        {
            var buffer = new AlignedBuffer(DirectWrites.MaxBytes);
            Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(buffer.Memory, out var segment));
            var pin = System.Runtime.InteropServices.GCHandle.Alloc(segment.Array, System.Runtime.InteropServices.GCHandleType.Pinned);
            try
            {
                Assert.Equal(0L, (pin.AddrOfPinnedObject() + segment.Offset) % DirectWrites.Alignment);
            }
            finally
            {
                pin.Free();
            }
            Assert.Equal(DirectWrites.MaxBytes, buffer.Memory.Length);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Pieces_in_any_order_over_unaligned_file_boundaries_land_byte_for_byte(bool direct)
    {
        // Boundaries off every page, a file shorter than the minimum direct run, and a short last piece.
        var files = new Dictionary<string, byte[]>
        {
            ["t/a.bin"] = Bytes(300 * KiB + 123, 1),
            ["t/b.bin"] = Bytes(1024 * KiB + 7, 2),
            ["t/c.bin"] = Bytes(3 * KiB, 3),
            ["t/d.bin"] = Bytes(2100 * KiB + 999, 4),
        };
        var metainfo = MakeTorrent("t", 1024 * KiB,
            [.. files.Select(f => (f.Key["t/".Length..], f.Value))]);
        var stream = Stream(metainfo, files);
        using var storage = new TorrentStorage(metainfo.Layout, _folder.Path, directWrites: direct);

        foreach (var piece in Enumerable.Range(0, metainfo.PieceCount).Reverse())
        {
            var blocks = Blocks(metainfo, stream, piece, 16 * KiB);
            storage.WritePiece(piece, blocks.Select(b => (ReadOnlyMemory<byte>)b.Memory).ToArray());
            blocks.ForEach(b => b.Release());
        }

        // While the storage is open: the big files have a handle with O_DIRECT set exactly when asked for.
        Assert.Equal(direct, HasDirectHandle(_folder.File("t/d.bin")));
        Assert.Equal(direct, HasDirectHandle(_folder.File("t/b.bin")));
        foreach (var (path, content) in files)
        {
            Assert.Equal(content, File.ReadAllBytes(_folder.File(path)));
        }
        var back = new byte[metainfo.Layout.GetPieceSize(1)];
        Assert.True(storage.ReadPiece(1, back));
        Assert.Equal(stream.AsSpan(1024 * KiB, back.Length).ToArray(), back);
    }

    [Fact]
    public void A_piece_rewritten_directly_replaces_what_the_page_cache_held()
    {
        var content = Bytes(2048 * KiB, 5);
        var metainfo = MakeTorrent("t", 1024 * KiB, [("a.bin", content)]);
        var stream = Stream(metainfo, new Dictionary<string, byte[]> { ["t/a.bin"] = content });
        var path = _folder.File("t/a.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Stale bytes in the page cache (written buffered, not yet on disk) must not survive a direct write.
        File.WriteAllBytes(path, new byte[2048 * KiB]);
        using var storage = new TorrentStorage(metainfo.Layout, _folder.Path, directWrites: true);

        for (var piece = 0; piece < 2; piece++)
        {
            storage.WritePiece(piece, Blocks(metainfo, stream, piece, 16 * KiB).Select(b => (ReadOnlyMemory<byte>)b.Memory).ToArray());
        }

        Assert.True(HasDirectHandle(path));
        Assert.Equal(content, File.ReadAllBytes(path));
    }

    // An open descriptor of this process on the file with O_DIRECT among its flags (/proc/self/fdinfo, octal).
    private static bool HasDirectHandle(string path)
    {
        var oDirect = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture
            is System.Runtime.InteropServices.Architecture.Arm64 ? 0x10000 : 0x4000;
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue;
            }
            if (target != path)
            {
                continue;
            }
            var flags = File.ReadLines($"/proc/self/fdinfo/{Path.GetFileName(fd)}")
                .First(l => l.StartsWith("flags:", StringComparison.Ordinal))["flags:".Length..].Trim();
            if ((Convert.ToInt32(flags, 8) & oDirect) != 0)
            {
                return true;
            }
        }
        return false;
    }
}
