using System.Text;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Engine.Tests.Storage.StorageTestSupport;

namespace BitTorrentActors.Engine.Tests.Storage;

/// <summary>The resume file's format, its atomic replacement, and where it lives.</summary>
public sealed class ResumeStoreTests : IDisposable
{
    private const int KiB = 1024;
    private readonly TempFolder _folder = new();
    private readonly TorrentMetainfo _metainfo = MakeTorrent("t", 16 * KiB, [("a.bin", Bytes(40 * KiB, 1)), ("b.bin", Bytes(9 * KiB, 2))]);

    [Fact]
    public void Resume_data_round_trips_through_bencode_and_the_file()
    {
        var data = Sample();
        var decoded = ResumeData.Decode(data.Encode(), _metainfo, out var problem);
        Assert.Null(problem);
        AssertSame(data, decoded!);

        var store = new ResumeStore(_folder.Path, _metainfo);
        store.Save(data);
        Assert.Equal(Path.Combine(_folder.Path, ".bta", _metainfo.InfoHash.ToHex() + ".resume"), store.FilePath);
        var loaded = store.Load();
        Assert.Null(loaded.Problem);
        AssertSame(data, loaded.Data!);
        // Replaced in place: one file, no temporaries left.
        store.Save(data with { Verified = Bitfield.AllSet(_metainfo.PieceCount) });
        Assert.Equal([store.FilePath], Directory.GetFiles(store.Folder));
        Assert.True(store.Load().Data!.Verified.IsComplete);
    }

    [Fact]
    public void A_temporary_left_by_a_crash_mid_save_is_ignored_and_cleaned()
    {
        var store = new ResumeStore(_folder.Path, _metainfo);
        Directory.CreateDirectory(store.Folder);
        // A crash after the temporary was started but before the rename: half a file, never renamed.
        var leftover = store.FilePath + ".4242-7.tmp";
        File.WriteAllBytes(leftover, Sample().Encode()[..20]);

        var none = store.Load();
        Assert.Null(none.Data);
        Assert.Null(none.Problem);
        Assert.False(File.Exists(leftover));

        store.Save(Sample());
        File.WriteAllBytes(leftover, Encoding.ASCII.GetBytes("d6:format"));
        var loaded = store.Load();
        AssertSame(Sample(), loaded.Data!);
        Assert.False(File.Exists(leftover));
    }

    [Theory]
    [InlineData("garbage", "not bencode")]
    [InlineData("le", "not a dictionary")]
    [InlineData("version", "version 1")]
    [InlineData("info-hash", "another torrent")]
    [InlineData("pieces", "bitfield")]
    [InlineData("files", "file list")]
    public void A_file_that_does_not_fit_the_torrent_is_refused_with_a_reason(string damage, string reason)
    {
        var other = MakeTorrent("u", 16 * KiB, [("a.bin", Bytes(40 * KiB, 3))]);
        var bytes = damage switch
        {
            "garbage" => Encoding.ASCII.GetBytes("d6:format10:bta-re"),
            "le" => Encoding.ASCII.GetBytes("le"),
            "version" => Encoding.ASCII.GetBytes(Encoding.Latin1.GetString(Sample().Encode()).Replace("7:versioni1e", "7:versioni2e")),
            "info-hash" => (Sample() with { InfoHash = other.InfoHash }).Encode(),
            "pieces" => (Sample() with { Verified = Bitfield.AllSet(_metainfo.PieceCount + 9) }).Encode(),
            _ => (Sample() with { Files = [new FileStamp(1, 2)] }).Encode(),
        };

        Assert.Null(ResumeData.Decode(bytes, _metainfo, out var problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_torrent_named_like_the_resume_folder_cannot_write_into_it()
    {
        Assert.Equal("_.bta/x.resume", TorrentStorage.AvoidResumeFolder(".bta/x.resume"));
        Assert.Equal("_.BTA", TorrentStorage.AvoidResumeFolder(".BTA"));
        Assert.Equal("t/.bta/x", TorrentStorage.AvoidResumeFolder("t/.bta/x"));
        Assert.Equal(".btax/y", TorrentStorage.AvoidResumeFolder(".btax/y"));

        // A multi-file torrent named ".bta" holding a file named like another torrent's resume file.
        var victim = new ResumeStore(_folder.Path, _metainfo);
        var hostile = MakeTorrent(".bta", 16 * KiB, [(Path.GetFileName(victim.FilePath), Bytes(20 * KiB, 4))]);
        using var storage = new TorrentStorage(hostile.Layout, _folder.Path);
        Assert.Equal(Path.Combine(_folder.Path, "_.bta", Path.GetFileName(victim.FilePath)), storage.GetFullPath(0));
    }

    public void Dispose() => _folder.Dispose();

    private ResumeData Sample()
    {
        var verified = new Bitfield(_metainfo.PieceCount);
        verified.Set(0);
        verified.Set(3);
        return new ResumeData(_metainfo.InfoHash, verified,
            [new FileStamp(40 * KiB, 638_000_000_000_000_001), FileStamp.Absent], 638_000_000_000_000_002);
    }

    private static void AssertSame(ResumeData expected, ResumeData actual)
    {
        Assert.Equal(expected.InfoHash, actual.InfoHash);
        Assert.Equal(expected.Verified.AsSpan().ToArray(), actual.Verified.AsSpan().ToArray());
        Assert.Equal(expected.Files, actual.Files);
        Assert.Equal(expected.SavedTicks, actual.SavedTicks);
    }
}
