using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Engine.Tests.Storage.StorageTestSupport;

namespace BitTorrentActors.Engine.Tests.Storage;

/// <summary>
/// Issue 17: no false success when the data vanishes under a download (item 2), one unusable file does not spoil
/// the start-up check (item 8), and stopping is a phase that blocks no thread and warns once (item 14).
/// </summary>
public sealed class FileWriterActorIntegrityTests : WriterTestKit
{
    private readonly TestProbe _peer;
    // 16 KiB pieces: a = 0..2; b = 3..5 (piece 5 short).
    private readonly Dictionary<string, byte[]> _files = new()
    {
        ["t/a.bin"] = Bytes(48 * KiB, 1),
        ["t/b.bin"] = Bytes(40 * KiB, 2),
    };
    private readonly TorrentMetainfo _metainfo;
    private readonly byte[] _stream;

    public FileWriterActorIntegrityTests()
    {
        _peer = CreateTestProbe("peer");
        _metainfo = MakeTorrent("t", 16 * KiB, _files.Select(f => (f.Key[2..], f.Value)).ToArray());
        _stream = Stream(_metainfo, _files);
    }

    private ResumeStore Store => new(Folder.Path, _metainfo);

    [Fact]
    public async Task Deleting_the_folder_mid_download_is_a_disk_failure_and_the_piece_is_not_verified()
    {
        var writer = await CheckedWriterAsync();
        await WriteAsync(writer, 0);
        Directory.Delete(Folder.File("t"), recursive: true);

        SendPiece(writer, 1);

        var failed = await Coordinator.ExpectMsgAsync<FileWriterActor.DiskFailed>(WaitLimit);
        Assert.StartsWith("t/a.bin: the file was deleted or replaced", failed.Reason);
        await Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_file_replaced_under_the_download_is_a_disk_failure()
    {
        var writer = await CheckedWriterAsync();
        await WriteAsync(writer, 0);
        var path = Folder.File("t/a.bin");
        File.Delete(path);
        await File.WriteAllBytesAsync(path, _files["t/a.bin"][..(16 * KiB)]);

        SendPiece(writer, 1);

        Assert.Contains("deleted or replaced", (await Coordinator.ExpectMsgAsync<FileWriterActor.DiskFailed>(WaitLimit)).Reason);
    }

    [Fact]
    public async Task A_file_deleted_after_its_pieces_were_written_stops_the_last_piece_from_completing_the_torrent()
    {
        var writer = await CheckedWriterAsync();
        foreach (var piece in new[] { 0, 1, 2, 3, 4 })
        {
            await WriteAsync(writer, piece);
        }
        File.Delete(Folder.File("t/a.bin"));

        // Piece 5 is b's and b is fine, but it would complete the torrent over a missing a.bin.
        SendPiece(writer, 5);

        Assert.StartsWith("t/a.bin: ", (await Coordinator.ExpectMsgAsync<FileWriterActor.DiskFailed>(WaitLimit)).Reason);
        await Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_resume_file_saved_after_the_data_was_deleted_is_not_trusted()
    {
        var writer = await CheckedWriterAsync();
        for (var piece = 0; piece < 6; piece++)
        {
            await WriteAsync(writer, piece);
        }
        Directory.Delete(Folder.File("t"), recursive: true);
        await StopAsync(writer);
        // The resume file claims every piece over files that are absent, as they were at its save.
        Assert.Equal(6, Store.Load().Data!.Verified.Count);

        var check = await CheckAsync(Writer(_metainfo));

        Assert.Equal(0, check.VerifiedCount);
    }

    [Fact]
    public async Task Absent_stamps_are_no_match()
    {
        // A resume file as an earlier bta wrote it after the folder was deleted under it: absent stamps, all claimed.
        Store.Save(new ResumeData(_metainfo.InfoHash, Bitfield.AllSet(6), [FileStamp.Absent, FileStamp.Absent], DateTime.UtcNow.Ticks));

        var check = await CheckAsync(Writer(_metainfo));

        Assert.Equal(0, check.VerifiedCount);
    }

    [Fact]
    public async Task A_vanished_file_whose_handle_was_closed_is_not_created_again_by_the_next_write()
    {
        using var storage = new TorrentStorage(_metainfo.Layout, Folder.Path, maxOpenHandles: 1);
        storage.WritePiece(0, PieceBlocks(0));
        // b's handle pushes a's out of the cache.
        storage.WritePiece(3, PieceBlocks(3));
        File.Delete(Folder.File("t/a.bin"));

        var error = Assert.Throws<StorageIOException>(() => storage.WritePiece(1, PieceBlocks(1)));

        Assert.Equal("t/a.bin", error.RelativePath);
        Assert.False(File.Exists(Folder.File("t/a.bin")));
    }

    [Fact]
    public async Task An_empty_file_that_cannot_be_created_leaves_the_rest_of_the_check_intact()
    {
        var files = new Dictionary<string, byte[]>(_files) { ["t/sub/empty"] = [] };
        var metainfo = MakeTorrent("t", 16 * KiB, files.Select(f => (f.Key[2..], f.Value)).ToArray());
        await WriteContentAsync(files);
        // A file where the empty file's folder should be: nobody, not even root, can create t/sub/empty.
        await File.WriteAllBytesAsync(Folder.File("t/sub"), [1]);
        var writer = Writer(metainfo);

        var check = await EventFilter.Warning(contains: "Could not create an empty file").ExpectOneAsync(() => CheckAsync(writer));

        Assert.Equal(6, check.VerifiedCount);
    }

    [Fact]
    public async Task Read_only_content_is_checked_file_by_file_and_its_resume_saves_warn_nothing()
    {
        var files = new Dictionary<string, byte[]>(_files) { ["t/empty"] = [] };
        var metainfo = MakeTorrent("t", 16 * KiB, files.Select(f => (f.Key[2..], f.Value)).ToArray());
        await WriteContentAsync(files);
        await File.WriteAllBytesAsync(Folder.File("t/empty"), []);
        await using var immutable = await ImmutableFiles.MakeAsync(Folder.File("t/empty"), Folder.File("t/a.bin"), Folder.File("t/b.bin"));
        var writer = Writer(metainfo);

        await EventFilter.Warning().ExpectAsync(0, async () =>
        {
            Assert.Equal(6, (await CheckAsync(writer)).VerifiedCount);
            writer.Tell(FileWriterActor.SaveResume.Instance);
            await AwaitAssertAsync(() => Assert.Equal(6, new ResumeStore(Folder.Path, metainfo).Read().Data?.Verified.Count), WaitLimit);
            await StopAsync(writer);
        });
    }

    [Fact]
    public async Task A_read_only_single_file_warns_at_most_once_however_often_the_resume_file_fails()
    {
        var content = Bytes(40 * KiB, 7);
        var metainfo = TestSupport.TestTorrents.Metainfo(16 * KiB, ("single.bin", content));
        await File.WriteAllBytesAsync(Folder.File(metainfo.Files[0].Path), content);
        // The resume folder is a file: every save fails, the way a read-only download folder fails them.
        await File.WriteAllBytesAsync(Folder.File(ResumeStore.FolderName), [1]);
        var writer = Writer(metainfo);

        await EventFilter.Warning(contains: "Could not save the resume file").ExpectOneAsync(async () =>
        {
            Assert.Equal(3, (await CheckAsync(writer)).VerifiedCount);
            for (var i = 0; i < 3; i++)
            {
                writer.Tell(FileWriterActor.SaveResume.Instance);
                await Task.Delay(100);
            }
            await StopAsync(writer);
        });
    }

    [Fact]
    public async Task StopAfterSave_finishes_the_running_writes_claims_them_and_then_stops()
    {
        var writer = await CheckedWriterAsync();
        Watch(writer);
        for (var piece = 0; piece < 6; piece++)
        {
            SendPiece(writer, piece);
        }

        writer.Tell(FileWriterActor.StopAfterSave.Instance);

        await ExpectTerminatedAsync(writer, WaitLimit);
        var reported = new List<int>();
        while (Coordinator.HasMessages)
        {
            reported.Add((await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit)).Piece);
        }
        // Every write that had started is finished and claimed; complete pieces still queued were dropped.
        Assert.NotEmpty(reported);
        var claimed = new List<int>();
        foreach (var piece in Store.Load().Data!.Verified.GetSetIndices())
        {
            claimed.Add(piece);
        }
        Assert.Equal(reported.Order(), claimed);
    }

    [Fact]
    public async Task StopAfterSave_during_the_check_stops_at_once_and_keeps_the_resume_file()
    {
        Store.Save(new ResumeData(_metainfo.InfoHash, Bitfield.None(6), [FileStamp.Absent, FileStamp.Absent], 42));
        var before = await File.ReadAllBytesAsync(Store.FilePath);
        var writer = Writer(_metainfo);
        Watch(writer);
        writer.Tell(FileWriterActor.CheckExistingData.Instance);
        writer.Tell(FileWriterActor.StopAfterSave.Instance);
        await ExpectTerminatedAsync(writer, WaitLimit);
        Assert.Equal(before, await File.ReadAllBytesAsync(Store.FilePath));
    }

    private async Task<IActorRef> CheckedWriterAsync()
    {
        var writer = Writer(_metainfo);
        await CheckAsync(writer);
        return writer;
    }

    private async Task<FileWriterActor.CheckCompleted> CheckAsync(IActorRef writer)
    {
        writer.Tell(FileWriterActor.CheckExistingData.Instance);
        return await ExpectMsgAsync<FileWriterActor.CheckCompleted>(WaitLimit);
    }

    private void SendPiece(IActorRef writer, int piece) =>
        Blocks(_metainfo, _stream, piece, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));

    private async Task WriteAsync(IActorRef writer, int piece)
    {
        SendPiece(writer, piece);
        Assert.Equal(piece, (await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit)).Piece);
    }

    private ReadOnlyMemory<byte>[] PieceBlocks(int piece) =>
        [_stream.AsMemory(piece * 16 * KiB, _metainfo.GetPieceSize(piece))];

    private async Task WriteContentAsync(Dictionary<string, byte[]> files)
    {
        // Empty files are left to each test: the writer is expected to create them, or not.
        foreach (var (path, content) in files.Where(f => f.Value.Length > 0))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Folder.File(path))!);
            await File.WriteAllBytesAsync(Folder.File(path), content);
        }
    }

    private async Task StopAsync(IActorRef writer)
    {
        Watch(writer);
        Sys.Stop(writer);
        await ExpectTerminatedAsync(writer, WaitLimit);
    }
}
