using System.Text;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Protocol.Tests.Metainfo.TorrentText;

namespace BitTorrentActors.Protocol.Tests.Metainfo;

public class PathSanitizerTests
{
    [Theory]
    [InlineData("normal.txt", "normal.txt")]
    [InlineData("../../etc/passwd", ".._.._etc_passwd")]
    [InlineData("/abs", "_abs")]
    [InlineData("C:\\x", "C__x")]
    [InlineData("a/b", "a_b")]
    [InlineData("a\\b", "a_b")]
    [InlineData("CON.txt", "_CON.txt")]
    [InlineData("con", "_con")]
    [InlineData("Lpt9.tar.gz", "_Lpt9.tar.gz")]
    [InlineData("COM1", "_COM1")]
    [InlineData("CONSOLE", "CONSOLE")]
    [InlineData("COM10", "COM10")]
    [InlineData("name. . ", "name")]
    [InlineData("a\u0001b\u007fc", "a_b_c")]
    [InlineData("a\u202Etxt.exe", "atxt.exe")]
    [InlineData("what?<>|*\".txt", "what______.txt")]
    [InlineData(".hidden", ".hidden")]
    public void Elements_are_sanitised_like_libtorrent(string element, string expected) =>
        Assert.Equal(expected, PathSanitizer.SanitizeElement(element));

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("...")]
    [InlineData(" ")]
    [InlineData("\u202E")]
    public void Elements_that_are_nothing_are_dropped(string element) => Assert.Null(PathSanitizer.SanitizeElement(element));

    [Fact]
    public void Long_elements_are_shortened_keeping_the_extension()
    {
        var ascii = new string('a', 296) + ".mkv";
        var clean = PathSanitizer.SanitizeElement(ascii)!;
        Assert.Equal(240, Encoding.UTF8.GetByteCount(clean));
        Assert.EndsWith(".mkv", clean);

        // Two-byte characters: the cut must not split one.
        var wide = new string('é', 148) + ".mkv";
        Assert.Equal(300, Encoding.UTF8.GetByteCount(wide));
        var cleanWide = PathSanitizer.SanitizeElement(wide)!;
        Assert.True(Encoding.UTF8.GetByteCount(cleanWide) <= 240);
        Assert.EndsWith(".mkv", cleanWide);
        Assert.DoesNotContain('\uFFFD', cleanWide);
        Assert.Equal(new string('é', 118) + ".mkv", cleanWide);
    }

    [Fact]
    public void A_long_tail_is_not_kept_as_an_extension()
    {
        var clean = PathSanitizer.SanitizeElement("x." + new string('b', 300))!;
        Assert.Equal(240, clean.Length);
        Assert.StartsWith("x.bbb", clean);
    }

    [Fact]
    public void Invalid_utf8_becomes_underscore() =>
        Assert.Equal("a_b", PathSanitizer.DecodeUtf8([(byte)'a', 0xFF, (byte)'b']));

    [Fact]
    public void An_element_list_that_becomes_empty_gets_the_fallback()
    {
        Assert.Equal(["_"], PathSanitizer.SanitizeElements(["", ".", ".."]));
        Assert.Equal(["etc", "passwd"], PathSanitizer.SanitizeElements(["..", "..", "etc", "passwd"]));
        Assert.Equal("_", PathSanitizer.SanitizeName(".."));
    }

    [Fact]
    public void Hostile_torrent_paths_stay_inside_the_root()
    {
        var info = MultiInfo("../evil",
            (PathList("..", "..", "etc", "passwd"), 1),
            (PathList("/abs"), 1),
            (PathList("C:\\x"), 1),
            (PathList("a/b"), 1),
            (PathList("CON.txt"), 1),
            (PathList(new string('z', 296) + ".mkv"), 1),
            (PathList("."), 1),
            (PathList(""), 1),
            (PathList(), 1),
            (PathList("dir", "..", "..", "x"), 1));
        var m = ParseOk(Torrent(info));

        Assert.Equal(".._evil", m.Name);
        Assert.Equal(
            [
                ".._evil/etc/passwd", ".._evil/_abs", ".._evil/C__x", ".._evil/a_b", ".._evil/_CON.txt",
                ".._evil/" + new string('z', 236) + ".mkv", ".._evil/_", ".._evil/_.1", ".._evil/_.2", ".._evil/dir/x",
            ],
            m.Files.Select(f => f.Path));
        AssertInsideRoot(m);
    }

    [Fact]
    public void Invalid_utf8_in_torrent_paths_is_replaced()
    {
        var prefix = Bytes($"d4:infod5:filesld6:lengthi1e4:pathl3:");
        var suffix = Bytes($"eee4:name{S("t")}12:piece lengthi16384e6:pieces{Pieces(1)}ee");
        var m = ParseOk([.. prefix, (byte)'a', 0xC3, (byte)'b', .. suffix]);
        Assert.Equal("t/a_b", m.Files[0].Path);
    }

    [Fact]
    public void Single_file_name_is_sanitised()
    {
        var m = ParseOk(Torrent(SingleInfo(name: "../../.bashrc")));
        Assert.Equal(".._.._.bashrc", m.Name);
        Assert.Equal(".._.._.bashrc", m.Files[0].Path);
        AssertInsideRoot(m);
    }

    [Fact]
    public void Duplicates_get_numbered_before_the_extension()
    {
        var m = ParseOk(Torrent(MultiInfo("t",
            (PathList("a.txt"), 1), (PathList("a.txt"), 1), (PathList(".", "a.txt"), 1), (PathList("a.1.txt"), 1))));
        Assert.Equal(["t/a.txt", "t/a.1.txt", "t/a.2.txt", "t/a.1.1.txt"], m.Files.Select(f => f.Path));
    }

    [Fact]
    public void Sanitising_can_create_duplicates_that_are_then_resolved()
    {
        var m = ParseOk(Torrent(MultiInfo("t", (PathList("a/b"), 1), (PathList("a_b"), 1), (PathList("A_B"), 1))));
        Assert.Equal(["t/a_b", "t/a_b.1", "t/A_B"], m.Files.Select(f => f.Path));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_file_named_like_a_directory_is_renamed(bool fileFirst)
    {
        (string, long)[] files = fileFirst
            ? [(PathList("x"), 1), (PathList("x", "y"), 1)]
            : [(PathList("x", "y"), 1), (PathList("x"), 1)];
        var m = ParseOk(Torrent(MultiInfo("t", files)));
        var paths = m.Files.Select(f => f.Path).ToHashSet();
        Assert.Equal(new HashSet<string> { "t/x.1", "t/x/y" }, paths);
    }

    [Fact]
    public void The_torrent_name_can_not_collide_because_every_path_starts_with_it()
    {
        var m = ParseOk(Torrent(MultiInfo("t", (PathList("t"), 1), (PathList("t", "t"), 1))));
        Assert.Equal(["t/t.1", "t/t/t"], m.Files.Select(f => f.Path));
    }

    [Fact]
    public void Many_duplicates_resolve_in_linear_time()
    {
        var files = Enumerable.Range(0, 20000).Select(_ => (PathList("same.bin"), 1L)).ToArray();
        var m = ParseOk(Torrent(MultiInfo("t", files)));
        Assert.Equal(20000, m.Files.Select(f => f.Path).Distinct().Count());
        Assert.Equal("t/same.19999.bin", m.Files[^1].Path);
    }

    [Theory]
    [InlineData("a/b", true)]
    [InlineData("a/../b", true)]
    [InlineData("../x", false)]
    [InlineData("a/../../x", false)]
    [InlineData("", false)]
    [InlineData(".", false)]
    [InlineData("/etc/passwd", false)]
    public void IsInside_checks_the_resolved_path(string candidate, bool expected)
    {
        var root = Path.Combine(Path.GetTempPath(), "bta-root");
        Assert.Equal(expected, PathSanitizer.IsInside(root, candidate));
    }

    [Fact]
    public void IsInside_is_not_fooled_by_a_shared_prefix()
    {
        var root = Path.Combine(Path.GetTempPath(), "bta-root");
        Assert.False(PathSanitizer.IsInside(root, root + "x" + Path.DirectorySeparatorChar + "file"));
        Assert.True(PathSanitizer.IsInside(root + Path.DirectorySeparatorChar, Path.Combine(root, "file")));
        Assert.Equal(Path.Combine(root, "a", "b"), PathSanitizer.ResolveUnder(root, "a/b"));
        Assert.Null(PathSanitizer.ResolveUnder(root, "../b"));
    }
}
