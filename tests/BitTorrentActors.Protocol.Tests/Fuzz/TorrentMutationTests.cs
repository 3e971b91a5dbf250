using System.Text;
using BitTorrentActors.Protocol.Bencode;
using BitTorrentActors.Protocol.Metainfo;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace BitTorrentActors.Protocol.Tests.Fuzz;

/// <summary>
/// Seeded mutation fuzzing: whatever bytes arrive, parsing returns a value or a reason (an exception fails the
/// test, with the seed and mutant to reproduce it), and every accepted torrent's paths stay under the root.
/// </summary>
public class TorrentMutationTests(ITestOutputHelper output)
{
    private const int MutantsPerSeed = 10_000;
    private static readonly string _root = Path.GetFullPath(Path.Combine(Path.GetTempPath(), "bta-fuzz-root"));

    private static List<byte[]> Seeds()
    {
        var random = new Random(42);
        byte[] Bytes(int n)
        {
            var b = new byte[n];
            random.NextBytes(b);
            return b;
        }
        var hostile = "d4:infod5:filesl"
            + "d6:lengthi5e4:pathl2:..2:..3:etc6:passwdee"
            + "d6:lengthi3e4:pathl4:/abs4:C:\\xee"
            + "d6:lengthi0e4:pathl7:CON.txtee"
            + "d4:attr1:p6:lengthi7e4:pathl4:.pad1:7ee"
            + "d6:lengthi1e4:pathl1:.0:ee"
            + "e4:name2:..12:piece lengthi16e6:pieces20:AAAAAAAAAAAAAAAAAAAAee";
        return
        [
            TorrentBuilder.Build("single.bin", 16, [(["x"], 40L)], new MemoryStream(Bytes(40)),
                announceTiers: [["http://a/"]], comment: "seed", singleFile: true),
            TorrentBuilder.Build("multi", 32,
                [("a/b/c.txt", Bytes(50)), ("empty", []), ("a/d", Bytes(70)), ("z", Bytes(1))],
                announceTiers: [["http://a/", "udp://b:1"], ["http://c/"]], isPrivate: true,
                creationDate: DateTimeOffset.FromUnixTimeSeconds(1), urlList: ["http://seed/"]),
            TorrentBuilder.Build("padded", 16, [("a", Bytes(5)), ("b", Bytes(20)), ("c", Bytes(3))], padFiles: true),
            TorrentBuilder.Build("many", 8,
                Enumerable.Range(0, 12).Select(i => ($"d{i % 3}/f{i}", Bytes(i % 4 == 0 ? 0 : i))).ToList()),
            Encoding.Latin1.GetBytes(hostile),
        ];
    }

    [Fact]
    public void Seeds_are_valid_torrents()
    {
        foreach (var seed in Seeds())
        {
            var result = TorrentMetainfo.Parse(seed);
            Assert.True(result.Success, result.Error);
            AssertSound(result.Metainfo);
        }
    }

    [Fact]
    public void Mutated_torrents_parse_or_fail_cleanly_and_stay_inside_the_root()
    {
        var random = new Random(20261124);
        var seeds = Seeds();
        int accepted = 0, refused = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var s = 0; s < seeds.Count; s++)
        {
            for (var i = 0; i < MutantsPerSeed; i++)
            {
                var mutant = Mutate(seeds[s], random);
                try
                {
                    var result = TorrentMetainfo.Parse(mutant);
                    if (result.Success)
                    {
                        accepted++;
                        AssertSound(result.Metainfo);
                    }
                    else
                    {
                        refused++;
                        Assert.False(string.IsNullOrWhiteSpace(result.Error));
                    }
                }
                catch (Exception ex)
                {
                    throw new XunitException($"seed {s} mutant {i} ({Convert.ToBase64String(mutant)}): {ex}");
                }
            }
        }
        output.WriteLine($"{accepted} accepted, {refused} refused in {watch.ElapsedMilliseconds} ms");
        Assert.Equal(seeds.Count * MutantsPerSeed, accepted + refused);
        Assert.True(seeds.Count * MutantsPerSeed >= 20_000);
        // Both outcomes must occur, or the mutations are too weak (all accepted) or too strong (all refused).
        Assert.True(accepted > 100, $"only {accepted} mutants accepted");
        Assert.True(refused > 100, $"only {refused} mutants refused");
    }

    [Fact]
    public void Mutated_bencode_decodes_or_fails_cleanly()
    {
        var random = new Random(7);
        List<byte[]> seeds =
        [
            .. Seeds(),
            "d1:ad1:bl1:ci-5ee1:dd1:ei0eee1:fle1:gdee"u8.ToArray(),
            Encoding.ASCII.GetBytes(new string('l', 90) + "i1e" + new string('e', 90)),
        ];
        var decoded = 0;
        for (var s = 0; s < seeds.Count; s++)
        {
            for (var i = 0; i < 3000; i++)
            {
                var mutant = Mutate(seeds[s], random);
                try
                {
                    var result = BencodeDecoder.Decode(mutant);
                    if (!result.Success)
                    {
                        Assert.NotNull(result.Error);
                        continue;
                    }
                    decoded++;
                    Assert.Equal(mutant.Length, result.Consumed);
                    Assert.Equal(mutant, result.Value!.Raw.ToArray());
                    // What decodes must re-encode to something that decodes again.
                    Assert.True(BencodeDecoder.Decode(BencodeEncoder.Encode(result.Value)).Success);
                }
                catch (Exception ex)
                {
                    throw new XunitException($"seed {s} mutant {i} ({Convert.ToBase64String(mutant)}): {ex}");
                }
            }
        }
        Assert.True(decoded > 100, $"only {decoded} mutants decoded");
    }

    private static void AssertSound(TorrentMetainfo m)
    {
        long offset = 0;
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in m.Files)
        {
            Assert.Equal(offset, file.Offset);
            Assert.True(file.Length >= 0);
            offset += file.Length;
            Assert.False(Path.IsPathRooted(file.Path), file.Path);
            Assert.True(PathSanitizer.IsInside(_root, file.Path), file.Path);
            Assert.StartsWith(_root + Path.DirectorySeparatorChar, Path.GetFullPath(Path.Combine(_root, file.Path)));
            Assert.DoesNotContain(file.PathElements, e => e is "" or "." or ".." || e.Contains('/') || e.Contains('\\'));
            Assert.True(paths.Add(file.Path), $"duplicate path {file.Path}");
        }
        Assert.Equal(offset, m.TotalLength);
        Assert.Equal((m.TotalLength + m.PieceLength - 1) / m.PieceLength, m.PieceCount);
        for (var p = 0; p < m.PieceCount; p++)
        {
            Assert.Equal(20, m.GetPieceHash(p).Length);
            var covered = 0;
            foreach (var span in m.Layout.MapPiece(p))
            {
                Assert.Equal(covered, span.BufferOffset);
                covered += span.Length;
            }
            Assert.Equal(m.GetPieceSize(p), covered);
        }
        Assert.Equal(m.InfoHash, InfoHash.Compute(m.RawInfo.Span));
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        var operations = random.Next(1, 4);
        for (var op = 0; op < operations && bytes.Count > 0; op++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(8))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    for (var n = random.Next(1, 9); n > 0; n--)
                    {
                        bytes.Insert(at, (byte)random.Next(256));
                    }
                    break;
                case 3:
                    bytes.RemoveRange(at, random.Next(1, Math.Min(16, bytes.Count - at) + 1));
                    break;
                case 4:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 5:
                    {
                        var length = random.Next(1, Math.Min(64, bytes.Count - at) + 1);
                        var slice = bytes.GetRange(at, length);
                        bytes.InsertRange(random.Next(bytes.Count + 1), slice);
                        break;
                    }
                case 6:
                    ChangeDigit(bytes, at, random);
                    break;
                default:
                    bytes[at] = "dlie:-0"u8[random.Next(7)];
                    break;
            }
        }
        return bytes.ToArray();
    }

    /// <summary>Finds the next digit at or after a position and changes, adds or removes one.</summary>
    private static void ChangeDigit(List<byte> bytes, int start, Random random)
    {
        for (var i = 0; i < bytes.Count; i++)
        {
            var at = (start + i) % bytes.Count;
            if (bytes[at] is < (byte)'0' or > (byte)'9')
            {
                continue;
            }
            switch (random.Next(3))
            {
                case 0:
                    bytes[at] = (byte)('0' + random.Next(10));
                    break;
                case 1:
                    bytes.Insert(at, (byte)('0' + random.Next(10)));
                    break;
                default:
                    bytes.RemoveAt(at);
                    break;
            }
            return;
        }
    }
}
