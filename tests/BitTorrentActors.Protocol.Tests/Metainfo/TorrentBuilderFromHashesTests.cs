using System.Security.Cryptography;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Tests.Metainfo;

/// <summary>bta create hashes pieces itself (on every core) and hands the hashes to the builder.</summary>
public class TorrentBuilderFromHashesTests
{
    [Fact]
    public void Hashes_computed_outside_give_the_same_bytes_as_the_streaming_builder()
    {
        var random = new Random(3);
        var a = new byte[50_000];
        var b = new byte[17];
        random.NextBytes(a);
        random.NextBytes(b);
        var stream = a.Concat(b).ToArray();
        var hashes = Enumerable.Range(0, 4)
            .SelectMany(i => SHA1.HashData(stream.AsSpan(i * 16384, Math.Min(16384, stream.Length - (i * 16384))))).ToArray();
        var date = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        IReadOnlyList<IReadOnlyList<string>> tiers = [["http://a/announce"], ["udp://b:80", "http://c/x"]];

        var streamed = TorrentBuilder.Build("set", 16384, [("a.bin", a), ("d/b.bin", b)], tiers, isPrivate: true,
            comment: "c", createdBy: "t", creationDate: date, urlList: ["http://w/"]);
        var fromHashes = TorrentBuilder.BuildFromHashes("set", 16384, [(["a.bin"], a.Length), (["d", "b.bin"], b.Length)], hashes,
            tiers, isPrivate: true, comment: "c", createdBy: "t", creationDate: date, urlList: ["http://w/"]);

        Assert.Equal(streamed, fromHashes);
    }

    [Fact]
    public void Source_goes_into_the_info_dictionary_and_changes_the_info_hash()
    {
        var hash = SHA1.HashData(new byte[] { 1, 2, 3 });
        var plain = TorrentMetainfo.Parse(TorrentBuilder.BuildFromHashes("f", 16384, [(["f"], 3)], hash, singleFile: true)).Metainfo!;
        var sourced = TorrentBuilder.BuildFromHashes("f", 16384, [(["f"], 3)], hash, singleFile: true, source: "TRACKER");

        Assert.True(sourced.AsSpan().IndexOf("6:source7:TRACKER"u8) > 0);
        Assert.NotEqual(plain.InfoHash, TorrentMetainfo.Parse(sourced).Metainfo!.InfoHash);
    }

    [Fact]
    public void A_wrong_number_of_hash_bytes_is_refused() =>
        Assert.Throws<ArgumentException>(() => TorrentBuilder.BuildFromHashes("f", 16384, [(["f"], 20_000)], new byte[20], singleFile: true));

    [Theory]
    [InlineData(1, 16 * 1024)]
    [InlineData(20L * 1024 * 1024, 16 * 1024)]
    [InlineData(100L * 1024 * 1024, 128 * 1024)]
    [InlineData(4L * 1024 * 1024 * 1024, 4 * 1024 * 1024)]
    [InlineData(1L << 40, 16 * 1024 * 1024)]
    public void The_piece_length_grows_with_the_size(long total, int expected) =>
        Assert.Equal(expected, TorrentBuilder.ChoosePieceLength(total));
}
