using System.Globalization;

namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>
/// Deterministic torrent content from a seeded PRNG: a name, a piece length and files (relative '/' paths). For a
/// single-file torrent the one file lives at <c>root/name</c>; for a multi-file torrent at <c>root/name/path</c>,
/// which is where every tool (and our client) puts it under a save folder <c>root</c>.
/// </summary>
public sealed class SwarmContent
{
    private SwarmContent(string name, int pieceLength, bool singleFile, IReadOnlyList<(string Path, byte[] Bytes)> files)
    {
        Name = name;
        PieceLength = pieceLength;
        IsSingleFile = singleFile;
        Files = files;
    }

    public string Name { get; }

    public int PieceLength { get; }

    public bool IsSingleFile { get; }

    public IReadOnlyList<(string Path, byte[] Bytes)> Files { get; }

    public long TotalLength => Files.Sum(f => (long)f.Bytes.Length);

    public static SwarmContent SingleFile(string name, int length, int seed, int pieceLength = 64 * 1024) =>
        new(name, pieceLength, singleFile: true, [(name, Generate(length, seed))]);

    /// <summary>
    /// Uneven file sizes, a last piece shorter than the rest, files smaller than a piece, nested folders.
    /// <paramref name="scale"/> multiplies the two big files (1 = about 6.5 MB in all).
    /// </summary>
    public static SwarmContent MultiFile(string name, int seed, int scale = 1, int pieceLength = 64 * 1024)
    {
        var sizes = new (string Path, int Length)[]
        {
            ("readme.txt", 1000),
            ("data/alpha.bin", (3 * pieceLength) + 12_345),
            ("data/nested/deep/beta.bin", (2_000_003 * scale) + 11),
            ("data/nested/gamma.bin", pieceLength - 1),
            ("misc/tiny.dat", 17),
            ("video/clip.bin", (4_200_777 * scale) + 5),
        };
        var files = sizes.Select((f, i) => (f.Path, Generate(f.Length, seed * 31 + i))).ToList();
        var content = new SwarmContent(name, pieceLength, singleFile: false, files);
        if (content.TotalLength % pieceLength == 0)
        {
            throw new InvalidOperationException("the layout must end in a short piece");
        }
        return content;
    }

    /// <summary>Where a file of this content sits under a save folder.</summary>
    public string PathUnder(string root, string relativePath) =>
        IsSingleFile
            ? Path.Combine(root, Name)
            : Path.Combine([root, Name, .. relativePath.Split('/')]);

    /// <summary>Writes every file under <paramref name="root"/> (the save folder seeders are given).</summary>
    public void WriteTo(string root)
    {
        foreach (var (path, bytes) in Files)
        {
            var target = PathUnder(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, bytes);
        }
    }

    /// <summary>Null when every file under <paramref name="root"/> equals the content byte for byte; otherwise a
    /// message naming the first missing or differing file and the offset.</summary>
    public string? FirstDifference(string root)
    {
        foreach (var (path, expected) in Files)
        {
            var target = PathUnder(root, path);
            if (!File.Exists(target))
            {
                return $"{path}: missing ({target})";
            }
            var actual = File.ReadAllBytes(target);
            var common = Math.Min(actual.Length, expected.Length);
            var offset = actual.AsSpan(0, common).CommonPrefixLength(expected.AsSpan(0, common));
            if (offset < common)
            {
                return $"{path}: differs at offset {offset} (expected 0x{expected[offset]:x2}, got 0x{actual[offset]:x2})";
            }
            if (actual.Length != expected.Length)
            {
                return $"{path}: length {actual.Length}, expected {expected.Length} (same bytes up to offset {common})";
            }
        }
        return null;
    }

    /// <summary>Asserts the downloaded folder equals the content byte for byte and holds no pad file; with
    /// <paramref name="noExtraFiles"/> also that the torrent's folder holds nothing else.</summary>
    public void AssertDownloaded(string root, bool noExtraFiles = false)
    {
        var difference = FirstDifference(root);
        Assert.True(difference is null, $"downloaded content differs from the seed: {difference}");
        if (!IsSingleFile)
        {
            var folder = Path.Combine(root, Name);
            var expected = Files.Select(f => PathUnder(root, f.Path)).ToHashSet(StringComparer.Ordinal);
            var extra = Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories)
                .Where(p => !expected.Contains(p) && !Directory.Exists(p))
                .Select(p => Path.GetRelativePath(folder, p))
                .ToList();
            Assert.True(!noExtraFiles || extra.Count == 0, $"unexpected files in the download: {string.Join(", ", extra)}");
            var pads = extra.Where(p => p.StartsWith(".pad", StringComparison.Ordinal)).ToList();
            Assert.True(pads.Count == 0, $"pad files were written to disk: {string.Join(", ", pads)}");
            var padFolder = Path.Combine(folder, ".pad");
            Assert.False(Directory.Exists(padFolder), $"a pad folder was written to disk: {padFolder}");
        }
    }

    /// <summary>Bytes currently under the torrent's folder (file lengths, as the OS reports them).</summary>
    public long BytesOnDisk(string root)
    {
        if (IsSingleFile)
        {
            var file = new FileInfo(Path.Combine(root, Name));
            return file.Exists ? file.Length : 0;
        }
        var folder = new DirectoryInfo(Path.Combine(root, Name));
        return folder.Exists ? folder.EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;
    }

    public override string ToString() =>
        $"{Name}: {Files.Count} files, {TotalLength.ToString(CultureInfo.InvariantCulture)} bytes, piece {PieceLength}";

    private static byte[] Generate(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
