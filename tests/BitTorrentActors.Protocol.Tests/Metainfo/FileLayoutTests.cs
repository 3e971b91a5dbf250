using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Tests.Metainfo;

public class FileLayoutTests
{
    private static FileLayout Layout(int pieceLength, params (long Length, bool Pad)[] files)
    {
        var list = new List<TorrentFile>();
        long offset = 0;
        for (var i = 0; i < files.Length; i++)
        {
            list.Add(new TorrentFile($"t/f{i}", ["t", $"f{i}"], files[i].Length, offset, files[i].Pad));
            offset += files[i].Length;
        }
        return new FileLayout(list, pieceLength);
    }

    private static FileLayout Layout(int pieceLength, params long[] lengths) =>
        Layout(pieceLength, lengths.Select(l => (l, false)).ToArray());

    [Fact]
    public void A_piece_spanning_three_files()
    {
        var layout = Layout(16, 3, 2, 4, 20);

        Assert.Equal(
            [new(0, 0, 3, 0, false), new(1, 0, 2, 3, false), new(2, 0, 4, 5, false), new FileSpan(3, 0, 7, 9, false)],
            layout.MapPiece(0));
        Assert.Equal([new FileSpan(3, 7, 13, 0, false)], layout.MapPiece(1));
    }

    [Fact]
    public void A_block_crossing_a_file_boundary_skips_zero_length_files()
    {
        var layout = Layout(8, 5, 0, 3, 10, 2);

        Assert.Equal([new(0, 4, 1, 0, false), new FileSpan(2, 0, 2, 1, false)], layout.Map(0, 4, 3));
        Assert.Equal([new FileSpan(0, 0, 5, 0, false), new FileSpan(2, 0, 3, 5, false)], layout.MapPiece(0));
        Assert.Equal([new FileSpan(3, 0, 8, 0, false)], layout.MapPiece(1));
        Assert.Equal([new FileSpan(3, 3, 2, 0, false)], layout.Map(1, 3, 2));
    }

    [Fact]
    public void Zero_length_files_are_never_mapped_even_at_the_edges()
    {
        var layout = Layout(4, 0, 0, 4, 0, 4, 0);
        Assert.Equal([new FileSpan(2, 0, 4, 0, false)], layout.MapPiece(0));
        Assert.Equal([new FileSpan(4, 0, 4, 0, false)], layout.MapPiece(1));
        Assert.Equal([new FileSpan(2, 3, 1, 0, false), new FileSpan(4, 0, 1, 1, false)], layout.MapRange(3, 2));
        Assert.Equal(6, layout.Files.Count);
        Assert.Equal((-1, -1), layout.GetPieceRange(3));
        Assert.Equal((1, 1), layout.GetPieceRange(4));
    }

    [Fact]
    public void The_last_piece_is_shorter()
    {
        var layout = Layout(8, 5, 0, 3, 10, 2);

        Assert.Equal(20, layout.TotalLength);
        Assert.Equal(3, layout.PieceCount);
        Assert.Equal(4, layout.GetPieceSize(2));
        Assert.Equal([new FileSpan(3, 8, 2, 0, false), new FileSpan(4, 0, 2, 2, false)], layout.MapPiece(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.Map(2, 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.MapPiece(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.Map(0, -1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.MapRange(19, 2));
    }

    [Fact]
    public void Pad_spans_are_flagged()
    {
        var layout = Layout(8, (5, false), (3, true), (8, false));
        var spans = layout.MapRange(0, 16);
        Assert.Equal([false, true, false], spans.Select(s => s.IsPadding));
        Assert.Equal([new FileSpan(0, 0, 5, 0, false), new FileSpan(1, 0, 3, 5, true)], layout.MapPiece(0));
    }

    [Fact]
    public void Mapping_agrees_with_a_byte_by_byte_reference()
    {
        var random = new Random(1234);
        var lengths = Enumerable.Range(0, 60).Select(_ => (long)(random.Next(4) == 0 ? 0 : random.Next(1, 50))).ToArray();
        var layout = Layout(7, lengths);
        // Reference: the owning file of each byte.
        var owner = new List<(int File, long Offset)>();
        for (var f = 0; f < lengths.Length; f++)
        {
            for (long b = 0; b < lengths[f]; b++)
            {
                owner.Add((f, b));
            }
        }
        for (var trial = 0; trial < 2000; trial++)
        {
            var start = random.Next(owner.Count);
            var length = random.Next(0, owner.Count - start + 1);
            var position = 0;
            foreach (var span in layout.MapRange(start, length))
            {
                Assert.Equal(position, span.BufferOffset);
                Assert.True(span.Length > 0);
                for (var i = 0; i < span.Length; i++)
                {
                    Assert.Equal(owner[start + position + i], (span.FileIndex, span.FileOffset + i));
                }
                position += span.Length;
            }
            Assert.Equal(length, position);
        }
    }

    [Fact]
    public void Files_that_do_not_follow_each_other_are_refused()
    {
        TorrentFile[] files = [new("a", ["a"], 5, 0, false), new("b", ["b"], 5, 6, false)];
        Assert.Throws<ArgumentException>(() => new FileLayout(files, 4));
    }

    [Fact]
    public void Metainfo_layout_maps_its_pieces()
    {
        var torrent = TorrentBuilder.Build("t", 16,
            [("a", new byte[10]), ("b", new byte[0]), ("c", new byte[30])]);
        var m = TorrentText.ParseOk(torrent);
        Assert.Same(m.Files, m.Layout.Files);
        Assert.Equal(3, m.PieceCount);
        Assert.Equal([new FileSpan(0, 0, 10, 0, false), new FileSpan(2, 0, 6, 10, false)], m.Layout.MapPiece(0));
        Assert.Equal([new FileSpan(2, 22, 8, 0, false)], m.Layout.MapPiece(2));
    }
}
