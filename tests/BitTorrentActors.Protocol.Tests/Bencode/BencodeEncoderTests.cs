using System.Text;
using BitTorrentActors.Protocol.Bencode;

namespace BitTorrentActors.Protocol.Tests.Bencode;

public class BencodeEncoderTests
{
    private static string Encode(BValue value) => Encoding.Latin1.GetString(BencodeEncoder.Encode(value));

    [Fact]
    public void Scalars_encode_byte_exact()
    {
        Assert.Equal("i0e", Encode(new BInteger(0)));
        Assert.Equal("i-3e", Encode(new BInteger(-3)));
        Assert.Equal("i-9223372036854775808e", Encode(new BInteger(long.MinValue)));
        Assert.Equal("4:spam", Encode(new BString("spam")));
        Assert.Equal("0:", Encode(new BString("")));
        Assert.Equal("le", Encode(new BList([])));
        Assert.Equal("de", Encode(BDictionary.From()));
    }

    [Fact]
    public void Dictionary_keys_are_sorted_as_raw_bytes()
    {
        var dict = BDictionary.From(
            ("zeta", new BInteger(1)),
            ("Zeta", new BInteger(2)),
            ("a", new BList([new BString("x"), new BInteger(7)])),
            ("ab", BDictionary.From(("b", new BInteger(1)), ("a", new BInteger(0)))));
        Assert.Equal("d4:Zetai2e1:al1:xi7ee2:abd1:ai0e1:bi1ee4:zetai1ee", Encode(dict));
    }

    [Fact]
    public void Non_ascii_keys_sort_by_bytes_not_by_culture()
    {
        var dict = new BDictionary([
            new(new BString(new byte[] { 0xC3, 0xA9 }), new BInteger(1)),
            new(new BString("z"), new BInteger(2)),
        ]);
        var bytes = BencodeEncoder.Encode(dict);
        Assert.Equal((byte)'z', bytes[3]);
    }

    [Fact]
    public void Canonical_input_round_trips_byte_for_byte()
    {
        const string text = "d8:announce20:http://t.example/ann4:infod6:lengthi12345e4:name5:a.bin12:piece lengthi16384eee";
        var decoded = BencodeDecoder.Decode(Encoding.ASCII.GetBytes(text)).Value!;
        Assert.Equal(text, Encode(decoded));
    }

    [Fact]
    public void Unsorted_input_re_encodes_canonically_keeping_first_duplicate()
    {
        var decoded = BencodeDecoder.Decode(Encoding.ASCII.GetBytes("d1:bi2e1:ai1e1:bi3ee")).Value!;
        Assert.Equal("d1:ai1e1:bi2ee", Encode(decoded));
    }

    [Fact]
    public void Deep_structures_encode_without_recursion()
    {
        BValue value = new BInteger(1);
        for (var i = 0; i < 100_000; i++)
        {
            value = new BList([value]);
        }
        var text = Encode(value);
        Assert.Equal(100_000 * 2 + 3, text.Length);
    }
}
