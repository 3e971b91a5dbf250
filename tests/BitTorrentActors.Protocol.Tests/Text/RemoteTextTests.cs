using BitTorrentActors.Protocol.Text;

namespace BitTorrentActors.Protocol.Tests.Text;

/// <summary>Issue 17 item 10: what a remote party says is escaped and capped before it reaches a log.</summary>
public class RemoteTextTests
{
    [Theory]
    [InlineData("ok\n[12:00:00 ERR] forged line", "ok\\n[12:00:00 ERR] forged line")]
    [InlineData("red \u001b[31m alert\u0007", "red \\x1B[31m alert\\x07")]
    [InlineData("a\r\tb\u007f", "a\\r\\tb\\x7F")]
    [InlineData("c1 \u009b2J", "c1 \\u009B2J")]
    [InlineData("evil \u202Etxt.exe", "evil \\u202Etxt.exe")]
    [InlineData("line\u2028sep", "line\\u2028sep")]
    [InlineData("back\\slash stays", "back\\slash stays")]
    [InlineData("émoji 😀 ok", "émoji 😀 ok")]
    [InlineData("", "")]
    public void Control_and_format_characters_are_escaped(string text, string expected) =>
        Assert.Equal(expected, RemoteText.Sanitize(text));

    [Fact]
    public void A_lone_surrogate_is_escaped()
    {
        // Built at run time: xunit would turn a lone surrogate in InlineData into U+FFFD.
        var text = "lone " + (char)0xD800 + " surrogate";
        Assert.Equal("lone \\uD800 surrogate", RemoteText.Sanitize(text));
    }

    [Fact]
    public void Null_is_empty() => Assert.Equal(string.Empty, RemoteText.Sanitize(null));

    [Fact]
    public void Clean_short_text_is_returned_as_is()
    {
        const string text = "Requested download is not authorized for use with this tracker.";
        Assert.Same(text, RemoteText.Sanitize(text));
    }

    [Fact]
    public void Long_text_is_cut_to_the_cap_including_the_marker()
    {
        var sanitized = RemoteText.Sanitize(new string('x', 1_500_000));
        Assert.Equal(RemoteText.MaxLength, sanitized.Length);
        Assert.Equal(new string('x', RemoteText.MaxLength - 3) + "...", sanitized);
    }

    [Fact]
    public void Text_of_exactly_the_cap_is_not_cut()
    {
        var text = new string('y', RemoteText.MaxLength);
        Assert.Same(text, RemoteText.Sanitize(text));
    }

    [Fact]
    public void The_cut_never_splits_an_escape_or_a_surrogate_pair()
    {
        var escapes = RemoteText.Sanitize(new string('a', 195) + "\u001b\u001b\u001b");
        Assert.Equal(new string('a', 195) + "...", escapes);

        var pairs = RemoteText.Sanitize(new string('b', 196) + "😀😀😀");
        Assert.Equal(new string('b', 196) + "...", pairs);
        Assert.True(pairs.Length <= RemoteText.MaxLength);
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("with\nnewline and \u001b escape")]
    [InlineData("\u202E\u202E\u202E")]
    public void Sanitising_twice_changes_nothing(string text)
    {
        var once = RemoteText.Sanitize(text);
        Assert.Equal(once, RemoteText.Sanitize(once));
        var longOnce = RemoteText.Sanitize(string.Concat(Enumerable.Repeat(text, 100)));
        Assert.Equal(longOnce, RemoteText.Sanitize(longOnce));
        Assert.True(longOnce.Length <= RemoteText.MaxLength);
    }

    [Fact]
    public void Every_output_has_no_control_characters()
    {
        var all = new string(Enumerable.Range(0, 0x3000).Select(i => (char)i).ToArray());
        var sanitized = RemoteText.Sanitize(all, maxLength: 100_000);
        Assert.DoesNotContain(sanitized, char.IsControl);
        Assert.DoesNotContain(sanitized, c => char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format);
    }
}
