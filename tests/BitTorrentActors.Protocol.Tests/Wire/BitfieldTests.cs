using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Protocol.Tests.Wire.WireTestData;

namespace BitTorrentActors.Protocol.Tests.Wire;

public class BitfieldTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(8, 1)]
    [InlineData(9, 2)]
    [InlineData(16, 2)]
    [InlineData(17, 3)]
    public void ByteLength_is_ceiling_of_pieces_over_eight(int pieces, int bytes)
    {
        Assert.Equal(bytes, Bitfield.ByteLengthFor(pieces));
        Assert.Equal(bytes, new Bitfield(pieces).ByteLength);
    }

    [Fact]
    public void Piece_zero_is_the_high_bit_of_byte_zero()
    {
        var bitfield = new Bitfield(10);
        bitfield.Set(0);
        bitfield.Set(9);

        var wire = new byte[2];
        Assert.Equal(2, bitfield.WriteTo(wire));
        Assert.Equal("8040", ToHex(wire));
    }

    [Fact]
    public void Set_and_clear_keep_count_and_report_changes()
    {
        var bitfield = new Bitfield(12);
        Assert.True(bitfield.IsEmpty);

        Assert.True(bitfield.Set(3));
        Assert.False(bitfield.Set(3));
        Assert.True(bitfield.Set(11));
        Assert.Equal(2, bitfield.Count);
        Assert.True(bitfield.Get(3));
        Assert.True(bitfield[11]);
        Assert.False(bitfield.Get(4));

        Assert.True(bitfield.Clear(3));
        Assert.False(bitfield.Clear(3));
        Assert.Equal(1, bitfield.Count);
        Assert.False(bitfield.Get(3));
        Assert.False(bitfield.IsEmpty);
    }

    [Fact]
    public void IsComplete_only_when_every_piece_is_set()
    {
        var bitfield = new Bitfield(3);
        bitfield.Set(0);
        bitfield.Set(1);
        Assert.False(bitfield.IsComplete);
        bitfield.Set(2);
        Assert.True(bitfield.IsComplete);
    }

    [Fact]
    public void AllSet_sets_every_piece_but_no_spare_bit()
    {
        var bitfield = Bitfield.AllSet(10);

        Assert.Equal(10, bitfield.Count);
        Assert.True(bitfield.IsComplete);
        Assert.Equal("FFC0", ToHex(bitfield.AsSpan()));
    }

    [Fact]
    public void None_is_empty()
    {
        var bitfield = Bitfield.None(10);

        Assert.Equal(0, bitfield.Count);
        Assert.False(bitfield.IsComplete);
        Assert.Equal("0000", ToHex(bitfield.AsSpan()));
    }

    [Fact]
    public void Zero_pieces_is_both_complete_and_empty()
    {
        var bitfield = new Bitfield(0);
        Assert.True(bitfield.IsComplete);
        Assert.True(bitfield.IsEmpty);
        Assert.Equal(0, bitfield.ByteLength);
    }

    [Fact]
    public void SetAll_then_ClearAll()
    {
        var bitfield = new Bitfield(17);
        bitfield.SetAll();
        Assert.Equal("FFFF80", ToHex(bitfield.AsSpan()));
        Assert.Equal(17, bitfield.Count);
        bitfield.ClearAll();
        Assert.Equal("000000", ToHex(bitfield.AsSpan()));
        Assert.Equal(0, bitfield.Count);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10)]
    [InlineData(int.MaxValue)]
    public void Out_of_range_index_throws(int index)
    {
        var bitfield = new Bitfield(10);
        Assert.Throws<ArgumentOutOfRangeException>(() => bitfield.Get(index));
        Assert.Throws<ArgumentOutOfRangeException>(() => bitfield.Set(index));
        Assert.Throws<ArgumentOutOfRangeException>(() => bitfield.Clear(index));
    }

    [Fact]
    public void FromWire_reads_bits_and_counts_them()
    {
        var bitfield = Bitfield.FromWire(Hex("A5 FF 0F 80"), 25);

        Assert.NotNull(bitfield);
        Assert.Equal(25, bitfield.PieceCount);
        Assert.Equal(4 + 8 + 4 + 1, bitfield.Count);
        Assert.True(bitfield.Get(0));
        Assert.False(bitfield.Get(1));
        Assert.True(bitfield.Get(2));
        Assert.True(bitfield.Get(24));
        Assert.False(bitfield.Get(16));
    }

    [Fact]
    public void FromWire_copies_the_input()
    {
        var wire = Hex("80");
        var bitfield = Bitfield.FromWire(wire, 1)!;
        wire[0] = 0;
        Assert.True(bitfield.Get(0));
    }

    [Theory]
    [InlineData("", 10)]
    [InlineData("FF", 10)]
    [InlineData("FFC000", 10)]
    [InlineData("00", 0)]
    public void FromWire_rejects_the_wrong_size(string hex, int pieces)
    {
        Assert.Null(Bitfield.FromWire(Hex(hex), pieces));
        Assert.False(Bitfield.TryFromWire(Hex(hex), pieces, out _));
    }

    [Theory]
    [InlineData("FFE0", 10)]
    [InlineData("0001", 10)]
    [InlineData("01", 7)]
    [InlineData("7F", 1)]
    public void FromWire_rejects_spare_bits(string hex, int pieces)
    {
        Assert.Null(Bitfield.FromWire(Hex(hex), pieces));
    }

    [Theory]
    [InlineData("FFC0", 10, 10)]
    [InlineData("FFFF", 16, 16)]
    [InlineData("FE", 7, 7)]
    [InlineData("", 0, 0)]
    public void FromWire_accepts_full_bitfields(string hex, int pieces, int count)
    {
        var bitfield = Bitfield.FromWire(Hex(hex), pieces);
        Assert.NotNull(bitfield);
        Assert.Equal(count, bitfield.Count);
    }

    [Fact]
    public void Clone_is_independent()
    {
        var original = new Bitfield(20);
        original.Set(5);
        var clone = original.Clone();
        clone.Set(6);
        original.Clear(5);

        Assert.True(clone.Get(5));
        Assert.True(clone.Get(6));
        Assert.Equal(2, clone.Count);
        Assert.Equal(0, original.Count);
        Assert.False(original.Get(6));
    }

    [Fact]
    public void Set_indices_are_enumerated_in_order()
    {
        var bitfield = new Bitfield(40);
        int[] expected = [0, 7, 8, 15, 22, 39];
        foreach (var i in expected)
        {
            bitfield.Set(i);
        }

        var actual = new List<int>();
        foreach (var i in bitfield.GetSetIndices())
        {
            actual.Add(i);
        }

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Empty_bitfield_enumerates_nothing()
    {
        var enumerator = new Bitfield(33).GetSetIndices();
        Assert.False(enumerator.MoveNext());
    }

    [Fact]
    public void NextSet_finds_the_next_set_piece()
    {
        var bitfield = new Bitfield(30);
        bitfield.Set(3);
        bitfield.Set(17);

        Assert.Equal(3, bitfield.NextSet(0));
        Assert.Equal(3, bitfield.NextSet(3));
        Assert.Equal(17, bitfield.NextSet(4));
        Assert.Equal(17, bitfield.NextSet(17));
        Assert.Equal(-1, bitfield.NextSet(18));
        Assert.Equal(-1, bitfield.NextSet(30));
        Assert.Equal(-1, bitfield.NextSet(-1));
    }

    [Fact]
    public void Random_operations_agree_with_a_naive_model()
    {
        const int pieces = 1003;
        var random = new Random(12345);
        var bitfield = new Bitfield(pieces);
        var model = new bool[pieces];

        for (var step = 0; step < 5000; step++)
        {
            var index = random.Next(pieces);
            if (random.Next(3) == 0)
            {
                Assert.Equal(model[index], bitfield.Clear(index));
                model[index] = false;
            }
            else
            {
                Assert.Equal(!model[index], bitfield.Set(index));
                model[index] = true;
            }
        }

        Assert.Equal(model.Count(b => b), bitfield.Count);
        var expected = Enumerable.Range(0, pieces).Where(i => model[i]).ToList();
        var actual = new List<int>();
        foreach (var i in bitfield.GetSetIndices())
        {
            actual.Add(i);
        }

        Assert.Equal(expected, actual);

        var wire = new byte[bitfield.ByteLength];
        bitfield.WriteTo(wire);
        var reread = Bitfield.FromWire(wire, pieces)!;
        Assert.Equal(bitfield.Count, reread.Count);
        Assert.Equal(expected.Count > 0 ? expected[0] : -1, reread.NextSet(0));
    }
}
