using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Engine.Tests.Storage.StorageTestSupport;

namespace BitTorrentActors.Engine.Tests.Storage;

public sealed class FileWriterActorTests : WriterTestKit
{
    private readonly TestProbe _peer1;
    private readonly TestProbe _peer2;

    public FileWriterActorTests()
    {
        _peer1 = CreateTestProbe("peer1");
        _peer2 = CreateTestProbe("peer2");
    }

    [Fact]
    public async Task Pieces_over_three_files_arriving_out_of_order_are_written_byte_identical()
    {
        // Piece 0 (64 KiB) covers all of a and b and the start of c; piece 1 is the short last piece (19 KiB + 123,
        // so its last block is short too).
        var files = new Dictionary<string, byte[]>
        {
            ["t/a.bin"] = Bytes(10 * KiB, 1),
            ["t/b.bin"] = Bytes(20 * KiB, 2),
            ["t/c.bin"] = Bytes(53 * KiB + 123, 3),
        };
        var metainfo = MakeTorrent("t", 64 * KiB, [("a.bin", files["t/a.bin"]), ("b.bin", files["t/b.bin"]), ("c.bin", files["t/c.bin"])]);
        Assert.Equal(2, metainfo.PieceCount);
        var stream = Stream(metainfo, files);
        var writer = Writer(metainfo);

        // Blocks of both pieces interleaved and reversed, from two peers.
        var blocks = Blocks(metainfo, stream, 0, BlockSize).Concat(Blocks(metainfo, stream, 1, BlockSize)).Reverse().ToList();
        for (var i = 0; i < blocks.Count; i++)
        {
            writer.Tell(new FileWriterActor.WriteBlock(i % 2 == 0 ? _peer1.Ref : _peer2.Ref, blocks[i]));
        }

        var verdicts = new[]
        {
            await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit),
            await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit),
        };
        Assert.Equal(new[] { 0, 1 }, verdicts.Select(v => v.Piece).Order());
        Assert.All(verdicts, v => Assert.Equal(new[] { _peer1.Ref, _peer2.Ref }.ToHashSet(), v.Contributors.ToHashSet()));
        foreach (var (path, content) in files)
        {
            Assert.Equal(content, await File.ReadAllBytesAsync(Folder.File(path)));
        }
    }

    [Fact]
    public async Task A_piece_with_one_flipped_byte_fails_with_its_contributors_and_writes_nothing()
    {
        var files = new Dictionary<string, byte[]> { ["t/a.bin"] = Bytes(20 * KiB, 1), ["t/b.bin"] = Bytes(40 * KiB, 2) };
        var metainfo = MakeTorrent("t", 64 * KiB, [("a.bin", files["t/a.bin"]), ("b.bin", files["t/b.bin"])]);
        var stream = Stream(metainfo, files);
        var writer = Writer(metainfo);

        var blocks = Blocks(metainfo, stream, 0, BlockSize);
        Assert.Equal(4, blocks.Count);
        blocks[2].Memory.Span[100] ^= 0x01;
        writer.Tell(new FileWriterActor.WriteBlock(_peer1.Ref, blocks[0]));
        writer.Tell(new FileWriterActor.WriteBlock(_peer2.Ref, blocks[1]));
        writer.Tell(new FileWriterActor.WriteBlock(_peer2.Ref, blocks[2]));
        writer.Tell(new FileWriterActor.WriteBlock(_peer1.Ref, blocks[3]));

        var failed = await Coordinator.ExpectMsgAsync<FileWriterActor.PieceFailed>(WaitLimit);
        Assert.Equal(0, failed.Piece);
        Assert.Equal(new[] { _peer1.Ref, _peer2.Ref }, failed.Contributors);
        Assert.False(File.Exists(Folder.File("t/a.bin")));
        Assert.False(File.Exists(Folder.File("t/b.bin")));

        // The piece can be downloaded again and then succeeds.
        foreach (var block in Blocks(metainfo, stream, 0, BlockSize))
        {
            writer.Tell(new FileWriterActor.WriteBlock(_peer1.Ref, block));
        }
        var verified = await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit);
        Assert.Equal(new[] { _peer1.Ref }, verified.Contributors);
        Assert.Equal(files["t/b.bin"], await File.ReadAllBytesAsync(Folder.File("t/b.bin")));
    }

    [Fact]
    public async Task Duplicate_misshapen_and_late_blocks_are_released_and_ignored()
    {
        var content = Bytes(64 * KiB, 5);
        var metainfo = MakeTorrent("t", 32 * KiB, [("a.bin", content)]);
        var writer = Writer(metainfo);
        var blocks = Blocks(metainfo, content, 0, BlockSize);
        var duplicate = Block(content, metainfo.PieceLength, blocks[0].Block);
        var misshapen = Block(content, metainfo.PieceLength, new BlockRequest(0, 100, 1000));
        var foreign = Block(content, metainfo.PieceLength, new BlockRequest(1, BlockSize, 8 * KiB));

        writer.Tell(new FileWriterActor.WriteBlock(_peer1.Ref, blocks[0]));
        writer.Tell(new FileWriterActor.WriteBlock(_peer2.Ref, duplicate));
        writer.Tell(new FileWriterActor.WriteBlock(_peer2.Ref, misshapen));
        writer.Tell(new FileWriterActor.WriteBlock(_peer2.Ref, foreign));
        await AwaitAssertAsync(() =>
        {
            AssertReleased(duplicate);
            AssertReleased(misshapen);
            AssertReleased(foreign);
        }, WaitLimit);
        await Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));

        writer.Tell(new FileWriterActor.WriteBlock(_peer1.Ref, blocks[1]));
        var verified = await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit);
        Assert.Equal(new[] { _peer1.Ref }, verified.Contributors);

        // Endgame: the same block again after the piece is on disk.
        var late = Block(content, metainfo.PieceLength, blocks[1].Block);
        writer.Tell(new FileWriterActor.WriteBlock(_peer2.Ref, late));
        await AwaitAssertAsync(() => AssertReleased(late), WaitLimit);
        await Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Zero_length_files_are_created_and_pad_files_are_not()
    {
        var files = new Dictionary<string, byte[]> { ["t/a.bin"] = Bytes(10 * KiB, 1), ["t/b.bin"] = Bytes(16 * KiB, 2) };
        var metainfo = MakeTorrent("t", 16 * KiB, [("a.bin", files["t/a.bin"]), ("empty.txt", []), ("b.bin", files["t/b.bin"])], padFiles: true);
        Assert.Contains(metainfo.Files, f => f.IsPadFile);
        var stream = Stream(metainfo, files);
        var writer = Writer(metainfo);

        for (var piece = 0; piece < metainfo.PieceCount; piece++)
        {
            Blocks(metainfo, stream, piece, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer1.Ref, b)));
            await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit);
        }

        var onDisk = Directory.GetFiles(Folder.Path, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Folder.Path, p).Replace('\\', '/')).Order().ToArray();
        Assert.Equal(new[] { "t/a.bin", "t/b.bin", "t/empty.txt" }, onDisk);
        Assert.Equal(0, new FileInfo(Folder.File("t/empty.txt")).Length);
    }

    [Fact]
    public async Task Stopping_releases_the_blocks_of_unfinished_pieces()
    {
        var content = Bytes(64 * KiB, 9);
        var metainfo = MakeTorrent("t", 32 * KiB, [("a.bin", content)]);
        var writer = Writer(metainfo);
        var held = Blocks(metainfo, content, 1, BlockSize)[0];
        writer.Tell(new FileWriterActor.WriteBlock(_peer1.Ref, held));
        Watch(writer);

        writer.Tell(PoisonPill.Instance);

        await ExpectTerminatedAsync(writer, WaitLimit);
        AssertReleased(held);
        Assert.False(File.Exists(Folder.File("t/a.bin")));
    }

    private static void AssertReleased(BlockData data) => Assert.Throws<ObjectDisposedException>(() => data.Memory);

}
