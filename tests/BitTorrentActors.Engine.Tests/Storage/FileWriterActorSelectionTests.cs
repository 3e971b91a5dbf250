using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Engine.Tests.Storage.StorageTestSupport;

namespace BitTorrentActors.Engine.Tests.Storage;

/// <summary>The writer with files deselected: unwanted files are never created, except for shared piece bytes.</summary>
public sealed class FileWriterActorSelectionTests : WriterTestKit
{
    // 16 KiB pieces: a = 0..24 KiB (pieces 0, 1), b = 24..48 KiB (pieces 1, 2), c = 48..64 KiB (piece 3), then two
    // empty files. Wanted: a, c and the empty f; so piece 1 is shared by wanted a and unwanted b, piece 2 is b's alone.
    private readonly Dictionary<string, byte[]> _files = new()
    {
        ["t/a.bin"] = Bytes(24 * KiB, 1),
        ["t/b.bin"] = Bytes(24 * KiB, 2),
        ["t/c.bin"] = Bytes(16 * KiB, 3),
        ["t/e.empty"] = [],
        ["t/f.empty"] = [],
    };
    private readonly TorrentMetainfo _metainfo;
    private readonly byte[] _stream;
    private readonly TestProbe _peer;
    private readonly bool[] _wanted = [true, false, true, false, true];

    public FileWriterActorSelectionTests()
    {
        _peer = CreateTestProbe("peer");
        _metainfo = MakeTorrent("t", 16 * KiB, _files.Select(f => (f.Key[2..], f.Value)).ToArray());
        _stream = Stream(_metainfo, _files);
    }

    [Fact]
    public async Task An_unwanted_file_gets_only_the_bytes_it_shares_with_a_wanted_piece()
    {
        var writer = Writer(_metainfo);
        writer.Tell(new FileWriterActor.SetWantedFiles(_wanted));
        var check = await CheckAsync(writer);
        Assert.Equal(0, check.VerifiedCount);
        Assert.False(Directory.Exists(Folder.File("t")), "the start-up check created files");

        // Piece 2 is b's alone: requested before b was deselected, its blocks are dropped and nothing is written.
        var dropped = Blocks(_metainfo, _stream, 2, BlockSize);
        dropped.ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));
        await AwaitAssertAsync(() => Assert.All(dropped, b => Assert.Throws<ObjectDisposedException>(() => b.Memory)), WaitLimit);
        foreach (var piece in new[] { 0, 1, 3 })
        {
            Blocks(_metainfo, _stream, piece, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));
            Assert.Equal(piece, (await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit)).Piece);
        }

        Assert.Equal(_files["t/a.bin"], await File.ReadAllBytesAsync(Folder.File("t/a.bin")));
        Assert.Equal(_files["t/c.bin"], await File.ReadAllBytesAsync(Folder.File("t/c.bin")));
        // Piece 1's last 8 KiB are b's first 8 KiB: written, and nothing more of b.
        Assert.Equal(_files["t/b.bin"][..(8 * KiB)], await File.ReadAllBytesAsync(Folder.File("t/b.bin")));
        Assert.True(File.Exists(Folder.File("t/f.empty")));
        Assert.False(File.Exists(Folder.File("t/e.empty")));
        await Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_check_over_wanted_data_with_unwanted_files_absent_finds_it_complete_and_fails_nothing()
    {
        Directory.CreateDirectory(Folder.File("t"));
        await File.WriteAllBytesAsync(Folder.File("t/a.bin"), _files["t/a.bin"]);
        await File.WriteAllBytesAsync(Folder.File("t/b.bin"), _files["t/b.bin"][..(8 * KiB)]);
        await File.WriteAllBytesAsync(Folder.File("t/c.bin"), _files["t/c.bin"]);
        var writer = Writer(_metainfo);
        writer.Tell(new FileWriterActor.SetWantedFiles(_wanted));

        var check = await CheckAsync(writer);

        Assert.Equal([0, 1, 3], SetIndices(check));
        // Every wanted piece is there: the wanted empty file is created, the unwanted one is not.
        Assert.True(File.Exists(Folder.File("t/f.empty")));
        Assert.False(File.Exists(Folder.File("t/e.empty")));
        Assert.Equal(8 * KiB, new FileInfo(Folder.File("t/b.bin")).Length);
        await Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Deselecting_a_file_drops_the_blocks_waiting_for_its_pieces_and_reselecting_takes_them_again()
    {
        var writer = Writer(_metainfo);
        await CheckAsync(writer);
        var waiting = Blocks(_metainfo, _stream, 2, BlockSize)[0];
        writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, waiting));

        writer.Tell(new FileWriterActor.SetWantedFiles(_wanted));
        await AwaitAssertAsync(() => Assert.Throws<ObjectDisposedException>(() => waiting.Memory), WaitLimit);

        writer.Tell(new FileWriterActor.SetWantedFiles([true, true, true, true, true]));
        Blocks(_metainfo, _stream, 2, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));
        Assert.Equal(2, (await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit)).Piece);
        Assert.Equal(_files["t/b.bin"].AsSpan(8 * KiB).ToArray(), (await File.ReadAllBytesAsync(Folder.File("t/b.bin")))[(8 * KiB)..]);
    }

    [Fact]
    public async Task A_selection_of_the_wrong_length_is_ignored_with_a_warning()
    {
        var writer = Writer(_metainfo);
        await EventFilter.Warning(contains: "Ignoring a file selection").ExpectOneAsync(() =>
        {
            writer.Tell(new FileWriterActor.SetWantedFiles([false]));
            return Task.CompletedTask;
        });
        Blocks(_metainfo, _stream, 2, BlockSize).ForEach(b => writer.Tell(new FileWriterActor.WriteBlock(_peer.Ref, b)));
        Assert.Equal(2, (await Coordinator.ExpectMsgAsync<FileWriterActor.PieceVerified>(WaitLimit)).Piece);
    }

    private async Task<FileWriterActor.CheckCompleted> CheckAsync(IActorRef writer)
    {
        writer.Tell(FileWriterActor.CheckExistingData.Instance);
        return await ExpectMsgAsync<FileWriterActor.CheckCompleted>(WaitLimit);
    }

    private int[] SetIndices(FileWriterActor.CheckCompleted check)
    {
        var bits = Bitfield.FromWire(check.VerifiedPieces.Span, _metainfo.PieceCount)!;
        var indices = new List<int>();
        foreach (var index in bits.GetSetIndices())
        {
            indices.Add(index);
        }
        return [.. indices];
    }
}
