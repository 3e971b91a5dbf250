using System.Text.Json;
using BitTorrentActors.Engine.Tests.Cli;

namespace BitTorrentActors.Engine.Tests.Interop;

/// <summary>
/// Torrents made by mktorrent, transmission-create and libtorrent, read by <c>bta info --json</c> (in-process),
/// transmission-show and libtorrent's torrent_info: all must agree on the info-hash, total size and files.
/// No network: the tracker URL is a dummy on 127.0.0.1.
/// </summary>
public sealed class TorrentToolsAgreementTests : IDisposable
{
    private readonly TempDirectory _dir = new("bta-interop");

    public static TheoryData<string, string> Cases
    {
        get
        {
            var cases = new TheoryData<string, string>();
            foreach (var creator in new[] { "mktorrent", "transmission-create", "libtorrent" })
            {
                cases.Add(creator, "single");
                cases.Add(creator, "multi");
            }
            return cases;
        }
    }

    public void Dispose() => _dir.Dispose();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bta_info_agrees_with_transmission_show_and_libtorrent(string creator, string layout)
    {
        var (root, expectedFiles) = layout == "single" ? WriteSingleFile() : WriteMultiFile();
        var torrent = Path.Combine(_dir.Path, $"{creator}-{layout}.torrent");
        await TorrentTools.CreateAsync(creator, root, torrent);

        var bta = await ReadWithBtaAsync(torrent);
        AssertSameAsLibtorrent(bta, await TorrentTools.ReadWithLibtorrentAsync(torrent), Path.GetFileName(root), expectedFiles);
        AssertSameAsTransmission(bta, await TorrentTools.ReadWithTransmissionAsync(torrent));
        Assert.DoesNotContain(bta.Files, f => f.Pad);
    }

    /// <summary>libtorrent 2.0's default is a hybrid v1+v2 torrent with BEP 47 pad files aligning every file to a
    /// piece (Transmission 3.00 cannot parse those, so libtorrent is the only reference here).</summary>
    [Fact]
    public async Task Bta_info_agrees_with_libtorrent_on_a_hybrid_torrent_with_pad_files()
    {
        var (root, expectedFiles) = WriteMultiFile();
        var torrent = Path.Combine(_dir.Path, "hybrid.torrent");
        await TorrentTools.CreateAsync("libtorrent-hybrid", root, torrent);

        var bta = await ReadWithBtaAsync(torrent);
        AssertSameAsLibtorrent(bta, await TorrentTools.ReadWithLibtorrentAsync(torrent), Path.GetFileName(root), expectedFiles);
        Assert.Contains(bta.Files, f => f.Pad);
    }

    private static void AssertSameAsLibtorrent(ToolView bta, ToolView libtorrent, string expectedName, List<ToolFile> expectedFiles)
    {
        Assert.Equal(expectedName, bta.Name);
        Assert.Equal(libtorrent.Name, bta.Name);
        Assert.Matches("^[0-9a-f]{40}$", bta.InfoHash);
        Assert.Equal(libtorrent.InfoHash, bta.InfoHash);
        Assert.Equal(libtorrent.TotalSize, bta.TotalSize);
        Assert.Equal(libtorrent.PieceCount, bta.PieceCount);
        Assert.Equal(bta.Files.Sum(f => f.Size), bta.TotalSize);

        // Real files: exactly the content written, in every tool's eyes (tools order files differently).
        var btaFiles = Sorted(bta.Files.Where(f => !f.Pad));
        Assert.Equal(Sorted(expectedFiles), btaFiles);
        Assert.Equal(Sorted(libtorrent.Files.Where(f => !f.Pad)), btaFiles);
        // Pad files: the same ones, in the same places of the byte stream.
        Assert.Equal(
            libtorrent.Files.Select(f => (f.Size, f.Pad)).Where(f => f.Pad),
            bta.Files.Select(f => (f.Size, f.Pad)).Where(f => f.Pad));

        Assert.Equal([TorrentTools.Tracker], bta.Trackers);
        Assert.Equal(libtorrent.Trackers, bta.Trackers);
    }

    private static void AssertSameAsTransmission(ToolView bta, ToolView transmission)
    {
        Assert.Equal(transmission.Name, bta.Name);
        Assert.Equal(transmission.InfoHash, bta.InfoHash);
        Assert.Equal(transmission.PieceCount, bta.PieceCount);
        Assert.InRange(bta.TotalSize, transmission.TotalSize - 1000, transmission.TotalSize + 1000);

        // transmission-show rounds sizes to the digits it prints.
        var theirs = transmission.Files.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        var ours = bta.Files.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        Assert.Equal(ours.Select(f => f.Path), theirs.Select(f => f.Path));
        foreach (var (mine, other) in ours.Zip(theirs))
        {
            Assert.True(
                Math.Abs(mine.Size - other.Size) <= other.Tolerance,
                $"{mine.Path}: bta says {mine.Size} bytes, transmission-show about {other.Size} (±{other.Tolerance})");
        }
        Assert.Equal(transmission.Trackers, bta.Trackers);
    }

    private static List<(string Path, long Size)> Sorted(IEnumerable<ToolFile> files) =>
        [.. files.Select(f => (f.Path, f.Size)).OrderBy(f => f.Path, StringComparer.Ordinal)];

    private static async Task<ToolView> ReadWithBtaAsync(string torrent)
    {
        var result = await CliRunner.RunAsync("info", torrent, "--json");
        Assert.True(result.ExitCode == 0, $"bta info failed: {result.Stderr}");
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        return new ToolView(
            "bta",
            root.GetProperty("name").GetString()!,
            root.GetProperty("infoHash").GetString()!,
            root.GetProperty("totalSize").GetInt64(),
            root.GetProperty("pieceCount").GetInt32(),
            [.. root.GetProperty("files").EnumerateArray().Select(f => new ToolFile(
                f.GetProperty("path").GetString()!, f.GetProperty("size").GetInt64(), f.GetProperty("pad").GetBoolean()))],
            [.. root.GetProperty("trackers").EnumerateArray().SelectMany(tier => tier.EnumerateArray()).Select(u => u.GetString()!)]);
    }

    /// <summary>One file of 100003 bytes: four 32 KiB pieces, the last one short.</summary>
    private (string Root, List<ToolFile> Files) WriteSingleFile()
    {
        var path = _dir.Write("content/single file.bin", Content(100_003, seed: 1));
        return (path, [new ToolFile("single file.bin", 100_003, false)]);
    }

    /// <summary>Uneven sizes, nested folders, a file smaller than a piece, one exactly a piece, a non-ASCII name.</summary>
    private (string Root, List<ToolFile> Files) WriteMultiFile()
    {
        (string Path, int Size)[] layout =
        [
            ("a.bin", 100_000),
            ("sub/small.txt", 777),
            ("sub/deeper/c.dat", 70_001),
            ("\u00fcn\u00efcode/d \u2603.bin", 40_000),
            ("z exact piece.bin", 32_768),
        ];
        var root = Path.Combine(_dir.Path, "content", "multi set");
        var seed = 10;
        foreach (var (relative, size) in layout)
        {
            _dir.Write(Path.Combine("content", "multi set", relative), Content(size, seed++));
        }
        return (root, [.. layout.Select(f => new ToolFile("multi set/" + f.Path, f.Size, false))]);
    }

    private static byte[] Content(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
