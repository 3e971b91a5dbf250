using System.Security.Cryptography;
using System.Text.Json;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Cli;

public sealed class InfoCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_missing_torrent_file_is_one_line_naming_it()
    {
        var missing = Path.Combine(_dir.Path, "absent.torrent");

        var line = (await CliRunner.RunAsync("info", missing)).AssertOneLineFailure();

        Assert.Equal($"bta: {missing}: file not found", line);
    }

    [Fact]
    public async Task A_garbage_file_is_one_line_naming_it_and_the_reason()
    {
        var garbage = _dir.Write("garbage.torrent", "this is not bencode at all\n\x01\x02");

        var line = (await CliRunner.RunAsync("info", garbage)).AssertOneLineFailure();

        Assert.StartsWith($"bta: {garbage}: not a valid torrent: ", line);
    }

    [Fact]
    public async Task A_file_over_the_size_limit_is_refused_before_it_is_read()
    {
        var huge = _dir.File("huge.torrent");
        await using (var stream = File.Create(huge))
        {
            stream.SetLength(10_000_001); // sparse: nothing is written
        }

        var line = (await CliRunner.RunAsync("info", huge)).AssertOneLineFailure();

        Assert.Contains(huge, line);
        Assert.Contains("10000001 bytes is over the 10000000 byte limit", line);
    }

    [Fact]
    public async Task A_directory_is_one_line_naming_it()
    {
        var line = (await CliRunner.RunAsync("info", _dir.Path)).AssertOneLineFailure();
        Assert.Contains(_dir.Path, line);
    }

    [Fact]
    public async Task Json_output_has_the_stable_fields_and_marks_pad_files()
    {
        var (path, infoHash) = WriteMultiFileTorrent();

        var result = await CliRunner.RunAsync("info", path, "--json");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        Assert.Equal("album", root.GetProperty("name").GetString());
        Assert.Equal(infoHash, root.GetProperty("infoHash").GetString());
        Assert.Equal(16384, root.GetProperty("pieceLength").GetInt32());
        Assert.True(root.GetProperty("private").GetBoolean());
        Assert.Equal("made by a test", root.GetProperty("comment").GetString());
        Assert.Equal("bta-tests", root.GetProperty("createdBy").GetString());
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), root.GetProperty("creationDate").GetDateTimeOffset());
        Assert.Equal(
            [["http://127.0.0.1:1/announce"], ["http://127.0.0.1:2/announce", "udp://127.0.0.1:3"]],
            root.GetProperty("trackers").EnumerateArray().Select(t => t.EnumerateArray().Select(u => u.GetString()).ToArray()));
        Assert.Equal(["http://127.0.0.1:4/seed/"], root.GetProperty("urlList").EnumerateArray().Select(u => u.GetString()));

        var files = root.GetProperty("files").EnumerateArray()
            .Select(f => (Path: f.GetProperty("path").GetString(), Size: f.GetProperty("size").GetInt64(), Pad: f.GetProperty("pad").GetBoolean()))
            .ToList();
        var real = files.Where(f => !f.Pad).ToList();
        Assert.Equal([("album/a.bin", 20_000L), ("album/disc 2/b.bin", 5L)], real.Select(f => (f.Path, f.Size)));
        Assert.Contains(files, f => f.Pad);
        Assert.Equal(files.Sum(f => f.Size), root.GetProperty("totalSize").GetInt64());
        Assert.Equal((root.GetProperty("totalSize").GetInt64() + 16383) / 16384, root.GetProperty("pieceCount").GetInt32());
    }

    [Fact]
    public async Task Human_output_lists_everything_and_hides_pad_files_unless_asked()
    {
        var (path, infoHash) = WriteMultiFileTorrent();

        var plain = await CliRunner.RunAsync("info", path);
        var withPads = await CliRunner.RunAsync("info", path, "--pad-files");

        Assert.Equal(0, plain.ExitCode);
        Assert.Contains($"Info-hash:     {infoHash}", plain.Stdout);
        Assert.Contains("Name:          album", plain.Stdout);
        Assert.Contains("Private:       yes", plain.Stdout);
        Assert.Contains("tier 2: http://127.0.0.1:2/announce, udp://127.0.0.1:3", plain.Stdout);
        Assert.Contains("http://127.0.0.1:4/seed/", plain.Stdout);
        Assert.Contains("2023-11-14 22:13:20 UTC", plain.Stdout);
        Assert.Contains("album/a.bin (20000 bytes, 19.5 KiB)", plain.Stdout);
        Assert.Contains("album/disc 2/b.bin (5 bytes, 5 B)", plain.Stdout);
        Assert.Contains("pad files not shown", plain.Stdout);
        Assert.DoesNotContain("[pad]", plain.Stdout);
        Assert.Contains("[pad]", withPads.Stdout);
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(5L * 1024 * 1024 * 1024, "5.0 GiB")]
    public void Human_sizes_use_binary_units(long bytes, string expected) =>
        Assert.Equal(expected, BitTorrentActors.Cli.Commands.InfoCommand.HumanSize(bytes));

    private (string Path, string InfoHash) WriteMultiFileTorrent()
    {
        var content = new byte[20_005];
        new Random(7).NextBytes(content);
        var bytes = TorrentBuilder.Build(
            "album",
            16384,
            [(["a.bin"], 20_000), (["disc 2", "b.bin"], 5)],
            new MemoryStream(content),
            announceTiers: [["http://127.0.0.1:1/announce"], ["http://127.0.0.1:2/announce", "udp://127.0.0.1:3"]],
            isPrivate: true,
            comment: "made by a test",
            createdBy: "bta-tests",
            creationDate: DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
            urlList: ["http://127.0.0.1:4/seed/"],
            padFiles: true);
        var parsed = TorrentMetainfo.Parse(bytes);
        Assert.True(parsed.Success, parsed.Error);
        // The info-hash computed independently of the parser: SHA-1 of the raw info dictionary.
        var expectedHash = Convert.ToHexStringLower(SHA1.HashData(parsed.Metainfo.RawInfo.Span));
        return (_dir.Write("album.torrent", bytes), expectedHash);
    }
}
