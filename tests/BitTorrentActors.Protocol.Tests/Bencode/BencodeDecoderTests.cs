using System.Text;
using BitTorrentActors.Protocol.Bencode;

namespace BitTorrentActors.Protocol.Tests.Bencode;

public class BencodeDecoderTests
{
    private static BencodeResult Decode(string text, BencodeLimits? limits = null) =>
        BencodeDecoder.Decode(Encoding.Latin1.GetBytes(text), limits);

    [Theory]
    [InlineData("i0e", 0L)]
    [InlineData("i42e", 42L)]
    [InlineData("i-42e", -42L)]
    [InlineData("i9223372036854775807e", long.MaxValue)]
    [InlineData("i-9223372036854775808e", long.MinValue)]
    public void Integers_decode(string text, long expected)
    {
        var result = Decode(text);
        Assert.True(result.Success, result.Error?.ToString());
        Assert.Equal(expected, Assert.IsType<BInteger>(result.Value).Value);
        Assert.Equal(text.Length, result.Consumed);
    }

    [Theory]
    [InlineData("i03e", BencodeErrorKind.LeadingZero, 1)]
    [InlineData("i-0e", BencodeErrorKind.NegativeZero, 0)]
    [InlineData("i-03e", BencodeErrorKind.LeadingZero, 2)]
    [InlineData("ie", BencodeErrorKind.InvalidInteger, 1)]
    [InlineData("i-e", BencodeErrorKind.InvalidInteger, 2)]
    [InlineData("i12", BencodeErrorKind.MissingEnd, 3)]
    [InlineData("i1x2e", BencodeErrorKind.InvalidInteger, 2)]
    [InlineData("i9223372036854775808e", BencodeErrorKind.IntegerOverflow, 0)]
    [InlineData("i-9223372036854775809e", BencodeErrorKind.IntegerOverflow, 0)]
    [InlineData("i99999999999999999999999e", BencodeErrorKind.IntegerOverflow, 0)]
    public void Bad_integers_name_reason_and_offset(string text, BencodeErrorKind kind, long offset)
    {
        var result = Decode(text);
        Assert.False(result.Success);
        Assert.Equal(kind, result.Error!.Kind);
        Assert.Equal(offset, result.Error.Offset);
    }

    [Fact]
    public void Strings_are_slices_of_the_input()
    {
        var input = Encoding.ASCII.GetBytes("4:spam");
        var result = BencodeDecoder.Decode(input);
        var text = Assert.IsType<BString>(result.Value);
        Assert.Equal("spam", text.Text);
        Assert.Equal(0, text.Offset);
        Assert.Equal(input, text.Raw.ToArray());
        Assert.Equal(string.Empty, Assert.IsType<BString>(Decode("0:").Value).Text);
    }

    [Theory]
    [InlineData("5:spam", BencodeErrorKind.LengthBeyondInput)]
    [InlineData("99999999999999999999999:x", BencodeErrorKind.LengthBeyondInput)]
    [InlineData("04:spam", BencodeErrorKind.LeadingZero)]
    [InlineData("4spam", BencodeErrorKind.InvalidLength)]
    [InlineData("1", BencodeErrorKind.Truncated)]
    [InlineData("", BencodeErrorKind.Truncated)]
    [InlineData("x", BencodeErrorKind.UnexpectedByte)]
    [InlineData("e", BencodeErrorKind.UnexpectedByte)]
    [InlineData("l4:spam", BencodeErrorKind.MissingEnd)]
    [InlineData("d3:cow3:moo", BencodeErrorKind.MissingEnd)]
    [InlineData("di1e3:mooe", BencodeErrorKind.NonStringKey)]
    [InlineData("d3:cowe", BencodeErrorKind.MissingValue)]
    [InlineData("i1ei2e", BencodeErrorKind.TrailingData)]
    public void Malformed_input_is_refused_with_a_kind(string text, BencodeErrorKind kind)
    {
        var result = Decode(text);
        Assert.False(result.Success);
        Assert.Equal(kind, result.Error!.Kind);
        Assert.Null(result.Value);
    }

    [Fact]
    public void Trailing_data_error_names_the_offset()
    {
        var result = Decode("i1exyz");
        Assert.Equal(BencodeErrorKind.TrailingData, result.Error!.Kind);
        Assert.Equal(3, result.Error.Offset);
        Assert.Contains("3 bytes", result.Error.Reason);
    }

    [Fact]
    public void Bep3_examples_decode()
    {
        var list = Assert.IsType<BList>(Decode("l4:spam4:eggse").Value);
        Assert.Equal(["spam", "eggs"], list.Select(v => ((BString)v).Text));

        var dict = Assert.IsType<BDictionary>(Decode("d3:cow3:moo4:spam4:eggse").Value);
        Assert.Equal("moo", dict.GetString("cow")!.Text);
        Assert.Equal("eggs", dict.GetString("spam")!.Text);
        Assert.True(dict.IsCanonical);

        var nested = Assert.IsType<BDictionary>(Decode("d4:spaml1:a1:bee").Value);
        Assert.Equal(2, nested.GetList("spam")!.Count);
    }

    [Fact]
    public void Nested_values_remember_their_exact_source_bytes()
    {
        const string text = "d4:infod6:lengthi5e4:name1:xe3:zzzi1ee";
        var dict = (BDictionary)Decode(text).Value!;
        var info = dict.GetDictionary("info")!;
        Assert.Equal("d6:lengthi5e4:name1:xe", Encoding.ASCII.GetString(info.Raw.Span));
        Assert.Equal(7, info.Offset);
    }

    [Fact]
    public void Unsorted_and_repeated_keys_still_decode_and_keep_raw_bytes()
    {
        const string text = "d4:spam4:eggs3:cow3:moo3:cow3:baae";
        var dict = Assert.IsType<BDictionary>(Decode(text).Value);
        Assert.False(dict.IsCanonical);
        Assert.Equal("moo", dict.GetString("cow")!.Text);
        Assert.Equal(text, Encoding.ASCII.GetString(dict.Raw.Span));
    }

    [Fact]
    public void Depth_limit_stops_deep_nesting_without_recursion()
    {
        var deep = new string('l', 1_000_000) + new string('e', 1_000_000);
        var result = Decode(deep);
        Assert.Equal(BencodeErrorKind.DepthExceeded, result.Error!.Kind);
        Assert.Equal(100, result.Error.Offset);

        var ok = Decode(new string('l', 100) + new string('e', 100));
        Assert.True(ok.Success);
        var tooDeep = Decode(new string('l', 101) + new string('e', 101));
        Assert.Equal(BencodeErrorKind.DepthExceeded, tooDeep.Error!.Kind);
    }

    [Fact]
    public void Token_limit_stops_huge_flat_lists()
    {
        var text = "l" + string.Concat(Enumerable.Repeat("i1e", 1000)) + "e";
        Assert.True(Decode(text).Success);
        var result = Decode(text, new BencodeLimits(MaxTokens: 500));
        Assert.Equal(BencodeErrorKind.TokenLimitExceeded, result.Error!.Kind);
    }

    [Fact]
    public void Prefix_decoding_reports_consumed_bytes()
    {
        var input = Encoding.ASCII.GetBytes("d8:msg_typei1e5:piecei0eeRAWDATA");
        var result = BencodeDecoder.DecodePrefix(input);
        Assert.True(result.Success);
        Assert.Equal(input.Length - 7, result.Consumed);
    }

    [Fact]
    public void Strings_may_hold_any_bytes()
    {
        byte[] input = [(byte)'3', (byte)':', 0x00, 0xFF, (byte)'e'];
        var text = Assert.IsType<BString>(BencodeDecoder.Decode(input).Value);
        Assert.Equal(new byte[] { 0x00, 0xFF, (byte)'e' }, text.Bytes.ToArray());
    }
}
