using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Engine.Tests.Storage.StorageTestSupport;

namespace BitTorrentActors.Engine.Tests.Torrent;

public class FileSelectionTests
{
    private const int KiB = 1024;

    // 16 KiB pieces: a = 0..20 KiB (pieces 0, 1), empty, b = 20..40 KiB (pieces 1, 2), c = 40..64 KiB (pieces 2, 3).
    private static readonly TorrentMetainfo _metainfo = MakeTorrent("t", 16 * KiB,
        [("a", Bytes(20 * KiB, 1)), ("empty", []), ("b", Bytes(20 * KiB, 2)), ("c", Bytes(24 * KiB, 3))]);

    [Fact]
    public void All_wants_every_file_at_normal_priority_and_every_piece()
    {
        var all = FileSelection.All(4);
        Assert.True(all.AllWanted);
        Assert.All(Enumerable.Range(0, 4), f => Assert.True(all.IsWanted(f)));
        Assert.All(Enumerable.Range(0, 4), f => Assert.Equal(FilePriority.Normal, all.PriorityOf(f)));
        Assert.Equal([2, 2, 2, 2], all.PiecePriorities(_metainfo));
        Assert.Equal(_metainfo.TotalLength, all.WantedBytes(_metainfo));
    }

    [Fact]
    public void A_piece_shared_with_a_wanted_file_is_downloaded_at_the_highest_priority_touching_it()
    {
        var selection = FileSelection.All(4)
            .WithWanted([0, 3], false)
            .WithPriority([2], FilePriority.High);

        Assert.False(selection.AllWanted);
        Assert.Equal([0, 3, 3, 0], selection.PiecePriorities(_metainfo));
        Assert.Equal(32L * KiB, selection.WantedBytes(_metainfo));

        var lowB = selection.WithPriority([2], FilePriority.Low).WithWanted([3], true);
        Assert.Equal([0, 1, 2, 2], lowB.PiecePriorities(_metainfo));
    }

    [Fact]
    public void Copies_leave_the_original_alone_and_compare_by_value()
    {
        var all = FileSelection.All(4);
        var changed = all.WithWanted([1], false);
        Assert.True(all.IsWanted(1));
        Assert.False(changed.IsWanted(1));
        Assert.NotEqual(all, changed);
        Assert.Equal(changed, all.WithWanted([1], false));
        Assert.Equal(changed.GetHashCode(), all.WithWanted([1], false).GetHashCode());
        Assert.Equal(all, new FileSelection(all.Wanted, all.Priorities));
    }

    [Fact]
    public void Only_the_empty_file_unwanted_changes_no_piece()
    {
        var selection = FileSelection.All(4).WithWanted([1], false);
        Assert.Equal([2, 2, 2, 2], selection.PiecePriorities(_metainfo));
        Assert.Equal(_metainfo.TotalLength, selection.WantedBytes(_metainfo));
    }

    [Fact]
    public void Pad_files_make_no_piece_wanted()
    {
        // With pad files every real file starts on a piece boundary: a = pieces 0, 1 (then padding), b = piece 2.
        var padded = MakeTorrent("p", 16 * KiB, [("a", Bytes(20 * KiB, 1)), ("b", Bytes(8 * KiB, 2))], padFiles: true);
        Assert.Contains(padded.Files, f => f.IsPadFile);
        var b = padded.Files.Select((f, i) => (f, i)).Single(x => x.f.Path.EndsWith('b')).i;
        var onlyB = FileSelection.All(padded.Files.Count)
            .WithWanted(Enumerable.Range(0, padded.Files.Count), false)
            .WithWanted([b], true);
        Assert.Equal([0, 0, 2], onlyB.PiecePriorities(padded));
        Assert.Equal(8L * KiB, onlyB.WantedBytes(padded));
    }

    [Fact]
    public void Bad_indexes_and_sizes_throw()
    {
        var all = FileSelection.All(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => all.WithWanted([4], false));
        Assert.Throws<ArgumentOutOfRangeException>(() => all.WithPriority([-1], FilePriority.High));
        Assert.Throws<ArgumentOutOfRangeException>(() => all.WithPriority([0], (FilePriority)5));
        Assert.Throws<ArgumentException>(() => FileSelection.All(3).PiecePriorities(_metainfo));
    }
}
