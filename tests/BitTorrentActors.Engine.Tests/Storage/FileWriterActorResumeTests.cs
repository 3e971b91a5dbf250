using System.Security.Cryptography;
using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Engine.Tests.Storage.StorageTestSupport;

namespace BitTorrentActors.Engine.Tests.Storage;

/// <summary>The writer with its resume file: saved with only written pieces, trusted when the files match it.</summary>
public sealed class FileWriterActorResumeTests : WriterTestKit
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

    public FileWriterActorResumeTests()
    {
        _peer = CreateTestProbe("peer");
        _metainfo = MakeTorrent("t", 16 * KiB, _files.Select(f => (f.Key[2..], f.Value)).ToArray());
        _stream = Stream(_metainfo, _files);
    }

    private ResumeStore Store => new(Folder.Path, _metainfo);

    [Fact]
    public async Task Stopping_saves_every_written_piece_with_the_files_stamps_as_on_disk()
    {
        await DownloadAndStopAsync([0, 1, 2, 4]);

        var resume = Store.Load().Data!;
        Assert.Equal([0, 1, 2, 4], SetIndices(resume.Verified));
        Assert.Equal(Stamp("t/a.bin"), resume.Files[0]);
        Assert.Equal(Stamp("t/b.bin"), resume.Files[1]);
        Assert.Equal([Store.FilePath], Directory.GetFiles(Store.Folder));
    }

    [Fact]
    public async Task A_matching_resume_file_is_trusted_without_reading_the_data()
    {
        await DownloadAndStopAsync(Enumerable.Range(0, 6).ToArray());
        // Corrupt piece 1 in place, keeping the length and setting the mtime back: nothing a stat can see. Trusting
        // it is the trade-off every client makes for a start without a full re-read.
        Corrupt("t/a.bin", 20 * KiB, restoreMtime: true);
        Assert.Equal(Store.Load().Data!.Files[0], Stamp("t/a.bin"));

        var check = await CheckAsync(Writer());

        Assert.Equal(6, check.VerifiedCount);
        Assert.Equal(_metainfo.TotalLength, check.VerifiedBytes);
    }

    [Fact]
    public async Task A_file_modified_since_the_save_is_re_hashed_and_its_corruption_found()
    {
        await DownloadAndStopAsync(Enumerable.Range(0, 6).ToArray());
        Corrupt("t/a.bin", 20 * KiB, restoreMtime: false);

        var check = await CheckAsync(Writer());

        // Piece 1 is bad; b.bin did not change, so its pieces are still trusted.
        Assert.Equal([0, 2, 3, 4, 5], SetIndices(Bitfield.FromWire(check.VerifiedPieces.Span, 6)!));
    }

    [Fact]
    public async Task A_truncated_file_is_re_hashed_even_with_its_mtime_set_back()
    {
        await DownloadAndStopAsync(Enumerable.Range(0, 6).ToArray());
        var path = Folder.File("t/b.bin");
        var mtime = File.GetLastWriteTimeUtc(path);
        using (var file = File.OpenWrite(path))
        {
            file.SetLength(20 * KiB);
        }
        File.SetLastWriteTimeUtc(path, mtime);

        var check = await CheckAsync(Writer());

        Assert.Equal([0, 1, 2, 3], SetIndices(Bitfield.FromWire(check.VerifiedPieces.Span, 6)!));
    }

    [Fact]
    public async Task A_corrupt_resume_file_is_a_warning_and_everything_is_re_hashed()
    {
        await DownloadAndStopAsync(Enumerable.Range(0, 6).ToArray());
        Corrupt("t/b.bin", 35 * KiB, restoreMtime: true);
        var bytes = await File.ReadAllBytesAsync(Store.FilePath);
        await File.WriteAllBytesAsync(Store.FilePath, bytes[..(bytes.Length / 2)]);

        var writer = Writer();
        var check = await EventFilter.Warning(contains: "Resume data not used").ExpectOneAsync(() => CheckAsync(writer));

        // The stamps matched, but a broken file vouches for nothing: the re-hash finds the corruption.
        Assert.Equal([0, 1, 2, 3, 4], SetIndices(Bitfield.FromWire(check.VerifiedPieces.Span, 6)!));
        // The next save replaces it with a good one.
        writer.Tell(FileWriterActor.SaveResume.Instance);
        await AwaitAssertAsync(() => Assert.Equal(5, Store.Read().Data?.Verified.Count), WaitLimit);
    }

    [Fact]
    public async Task A_piece_whose_write_failed_is_never_claimed()
    {
        // Nobody can open a directory as a file: every write to a.bin fails, b.bin's succeed.
        Directory.CreateDirectory(Folder.File("t/a.bin"));
        var writer = Writer();
        await CheckAsync(writer);
        Blocks(_metainfo, _stream, 4, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));
        Assert.Equal(4, (await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit)).Piece);
        Blocks(_metainfo, _stream, 1, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));
        await Coordinator.ExpectMsgAsync<FileWriterActor.DiskFailed>(WaitLimit);

        writer.Tell(FileWriterActor.SaveResume.Instance);
        await AwaitAssertAsync(() => Assert.Equal([4], SetIndices(Store.Read().Data!.Verified)), WaitLimit);
        Watch(writer);
        Sys.Stop(writer);
        await ExpectTerminatedAsync(writer, WaitLimit);
        Assert.Equal([4], SetIndices(Store.Read().Data!.Verified));
    }

    [Fact]
    public async Task Periodic_saves_claim_only_pieces_whose_bytes_are_already_on_disk()
    {
        var writer = Writer(saveInterval: TimeSpan.FromMilliseconds(50));
        await CheckAsync(writer);
        var seen = new HashSet<int>();
        var snapshots = 0;
        for (var piece = 0; piece < 6; piece++)
        {
            Blocks(_metainfo, _stream, piece, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));
            // Read the resume file while the piece is being hashed and written: whatever it claims is on disk.
            var deadline = DateTime.UtcNow + WaitLimit;
            while (!seen.Contains(piece) && DateTime.UtcNow < deadline)
            {
                if (Store.Read().Data is { } resume)
                {
                    snapshots++;
                    foreach (var claimed in SetIndices(resume.Verified))
                    {
                        Assert.True(PieceOnDisk(claimed), $"the resume file claims piece {claimed} before its bytes are on disk");
                        seen.Add(claimed);
                    }
                }
                await Task.Delay(5);
            }
            Assert.Contains(piece, seen);
            Assert.Equal(piece, (await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit)).Piece);
        }
        Assert.True(snapshots > 6, $"only {snapshots} snapshots read");
    }

    private IActorRef Writer(TimeSpan? saveInterval = null)
    {
        var context = Context(_metainfo, Folder.Path);
        context = context with { Settings = context.Settings with { Resume = new ResumeSettings(saveInterval ?? TimeSpan.FromMinutes(10)) } };
        return Sys.ActorOf(FileWriterActor.Props(context, Coordinator.Ref));
    }

    private async Task<FileWriterActor.CheckCompleted> CheckAsync(IActorRef writer)
    {
        writer.Tell(FileWriterActor.CheckExistingData.Instance);
        return await ExpectMsgAsync<FileWriterActor.CheckCompleted>(WaitLimit);
    }

    // Downloads the pieces through a fresh writer (after its check, as the coordinator does) and stops it.
    private async Task DownloadAndStopAsync(int[] pieces)
    {
        var writer = Writer();
        await CheckAsync(writer);
        foreach (var piece in pieces)
        {
            Blocks(_metainfo, _stream, piece, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));
        }
        foreach (var _ in pieces)
        {
            await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit);
        }
        Watch(writer);
        Sys.Stop(writer);
        await ExpectTerminatedAsync(writer, WaitLimit);
    }

    private void Corrupt(string relative, int offset, bool restoreMtime)
    {
        var path = Folder.File(relative);
        var mtime = File.GetLastWriteTimeUtc(path);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = offset;
            var original = file.ReadByte();
            file.Position = offset;
            file.WriteByte((byte)(original ^ 0xFF));
        }
        File.SetLastWriteTimeUtc(path, restoreMtime ? mtime : mtime.AddMinutes(1));
    }

    private FileStamp Stamp(string relative)
    {
        var info = new FileInfo(Folder.File(relative));
        return new FileStamp(info.Length, info.LastWriteTimeUtc.Ticks);
    }

    private bool PieceOnDisk(int piece)
    {
        using var storage = new TorrentStorage(_metainfo.Layout, Folder.Path);
        var buffer = new byte[_metainfo.GetPieceSize(piece)];
        return storage.ReadPiece(piece, buffer) && SHA1.HashData(buffer).AsSpan().SequenceEqual(_metainfo.GetPieceHash(piece));
    }

    private static int[] SetIndices(Bitfield bitfield)
    {
        var indices = new List<int>();
        foreach (var index in bitfield.GetSetIndices())
        {
            indices.Add(index);
        }
        return [.. indices];
    }
}
