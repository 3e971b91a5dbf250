using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Engine.Tests.Storage.StorageTestSupport;

namespace BitTorrentActors.Engine.Tests.Storage;

/// <summary>The writer against data already on disk: resume check, disk errors, reads for seeding.</summary>
public sealed class FileWriterActorDiskTests : WriterTestKit
{
    private readonly TestProbe _peer;

    public FileWriterActorDiskTests()
    {
        _peer = CreateTestProbe("peer");
    }

    [Fact]
    public async Task Check_names_exactly_the_pieces_on_disk_and_blocks_sent_meanwhile_are_written_after_it()
    {
        // 16 KiB pieces: a = 0,1; b = 2,3; c = 4,5; d = 6 and the short last piece 7.
        var files = new Dictionary<string, byte[]>
        {
            ["t/a.bin"] = Bytes(32 * KiB, 1),
            ["t/b.bin"] = Bytes(32 * KiB, 2),
            ["t/c.bin"] = Bytes(32 * KiB, 3),
            ["t/d.bin"] = Bytes(20 * KiB, 4),
        };
        var metainfo = MakeTorrent("t", 16 * KiB, files.Select(f => (f.Key[2..], f.Value)).ToArray());
        Assert.Equal(8, metainfo.PieceCount);
        var stream = Stream(metainfo, files);
        Directory.CreateDirectory(Folder.File("t"));
        await File.WriteAllBytesAsync(Folder.File("t/a.bin"), files["t/a.bin"]);
        var corrupted = (byte[])files["t/b.bin"].Clone();
        corrupted[20 * KiB] ^= 0xFF;
        await File.WriteAllBytesAsync(Folder.File("t/b.bin"), corrupted);
        // c is missing; d stops after its first piece, so the last piece is too short to hold.
        await File.WriteAllBytesAsync(Folder.File("t/d.bin"), files["t/d.bin"][..(16 * KiB)]);
        var writer = Writer(metainfo);

        writer.Tell(FileWriterActor.CheckExistingData.Instance);
        Blocks(metainfo, stream, 3, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));

        var check = await ExpectMsgAsync<FileWriterActor.CheckCompleted>(WaitLimit);
        Assert.Equal(new byte[] { 0b1110_0010 }, check.VerifiedPieces.ToArray());
        Assert.Equal(4, check.VerifiedCount);
        Assert.Equal(64L * KiB, check.VerifiedBytes);
        var verified = await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit);
        Assert.Equal(3, verified.Piece);
        Assert.Equal(files["t/b.bin"], await File.ReadAllBytesAsync(Folder.File("t/b.bin")));
        Assert.False(File.Exists(Folder.File("t/c.bin")));

        // A block of a piece the check found on disk is not needed any more.
        var late = Blocks(metainfo, stream, 0, BlockSize)[0];
        writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, late));
        await AwaitAssertAsync(() => Assert.Throws<ObjectDisposedException>(() => late.Memory), WaitLimit);
        await Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_write_the_disk_refuses_reports_one_DiskFailed_line_and_stops_accepting_blocks()
    {
        var files = new Dictionary<string, byte[]> { ["t/a.bin"] = Bytes(32 * KiB, 1), ["t/b.bin"] = Bytes(32 * KiB, 2) };
        var metainfo = MakeTorrent("t", 16 * KiB, files.Select(f => (f.Key[2..], f.Value)).ToArray());
        var stream = Stream(metainfo, files);
        // Root is not stopped by chmod, but nobody can open a directory as a file.
        Directory.CreateDirectory(Folder.File("t/a.bin"));
        var writer = Writer(metainfo);
        Watch(writer);

        // Two pieces of the same file, possibly written concurrently: still a single report.
        Blocks(metainfo, stream, 0, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));
        Blocks(metainfo, stream, 1, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));

        var failed = await Coordinator.ExpectMsgAsync<FileWriterActor.DiskFailed>(WaitLimit);
        Assert.StartsWith("t/a.bin: ", failed.Reason);
        Assert.DoesNotContain('\n', failed.Reason);
        await Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));

        var refused = Blocks(metainfo, stream, 2, BlockSize)[0];
        writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, refused));
        await AwaitAssertAsync(() => Assert.Throws<ObjectDisposedException>(() => refused.Memory), WaitLimit);
        await Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.False(File.Exists(Folder.File("t/b.bin")));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task ReadBlock_returns_the_bytes_of_a_verified_piece_across_a_file_boundary()
    {
        var files = new Dictionary<string, byte[]> { ["t/a.bin"] = Bytes(10 * KiB, 1), ["t/b.bin"] = Bytes(30 * KiB, 2) };
        var metainfo = MakeTorrent("t", 32 * KiB, files.Select(f => (f.Key[2..], f.Value)).ToArray());
        var stream = Stream(metainfo, files);
        var writer = Writer(metainfo);
        var reader = CreateTestProbe("reader");

        var notYet = new BlockRequest(0, 0, BlockSize);
        writer.Tell(new FileWriterActor.ReadBlock(notYet, reader.Ref));
        Assert.Equal(notYet, (await reader.ExpectMsgAsync<FileWriterActor.BlockReadFailed>(WaitLimit)).Block);

        Blocks(metainfo, stream, 0, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));
        await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit);

        // 8 KiB from 6 KiB into the piece: the end of a.bin and the start of b.bin.
        var request = new BlockRequest(0, 6 * KiB, 8 * KiB);
        writer.Tell(new FileWriterActor.ReadBlock(request, reader.Ref));
        var read = await reader.ExpectMsgAsync<FileWriterActor.BlockRead>(WaitLimit);
        Assert.Equal(request, read.Block);
        Assert.Equal(stream.AsSpan(6 * KiB, 8 * KiB).ToArray(), read.Data.Memory.ToArray());
        read.Data.Release();

        var outside = new BlockRequest(0, 30 * KiB, 4 * KiB);
        writer.Tell(new FileWriterActor.ReadBlock(outside, reader.Ref));
        Assert.Equal(outside, (await reader.ExpectMsgAsync<FileWriterActor.BlockReadFailed>(WaitLimit)).Block);
    }

    [Fact]
    public async Task ReadBlocks_answers_the_readable_blocks_in_one_message_and_refuses_the_others_one_by_one()
    {
        var files = new Dictionary<string, byte[]> { ["t/a.bin"] = Bytes(10 * KiB, 3), ["t/b.bin"] = Bytes(54 * KiB, 4) };
        var metainfo = MakeTorrent("t", 32 * KiB, files.Select(f => (f.Key[2..], f.Value)).ToArray());
        var stream = Stream(metainfo, files);
        var writer = Writer(metainfo);
        var reader = CreateTestProbe("reader");
        Blocks(metainfo, stream, 0, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));
        await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit);

        // Piece 1 is not verified, and 30 KiB + 4 KiB runs past piece 0: both refused, the other three read.
        BlockRequest[] asked =
        [
            new(0, 0, BlockSize), new(1, 0, BlockSize), new(0, 6 * KiB, 8 * KiB), new(0, 30 * KiB, 4 * KiB),
            new(0, BlockSize, BlockSize),
        ];
        writer.Tell(new FileWriterActor.ReadBlocks(asked, reader.Ref));

        var refused = new[]
        {
            (await reader.ExpectMsgAsync<FileWriterActor.BlockReadFailed>(WaitLimit)).Block,
            (await reader.ExpectMsgAsync<FileWriterActor.BlockReadFailed>(WaitLimit)).Block,
        };
        Assert.Equal([asked[1], asked[3]], refused);
        var read = await reader.ExpectMsgAsync<FileWriterActor.BlocksRead>(WaitLimit);
        Assert.Equal([asked[0], asked[2], asked[4]], read.Blocks.Select(b => b.Block));
        foreach (var block in read.Blocks)
        {
            Assert.Equal(stream.AsSpan(block.Block.Begin, block.Block.Length).ToArray(), block.Data.Memory.ToArray());
            block.Data.Release();
        }
        await reader.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }
}
