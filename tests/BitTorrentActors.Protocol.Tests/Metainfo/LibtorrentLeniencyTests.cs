using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Protocol.Tests.Metainfo.TorrentText;

namespace BitTorrentActors.Protocol.Tests.Metainfo;

/// <summary>
/// Issue 17 item 12: the three classes of torrent in libtorrent's test corpus that libtorrent loads and bta refused.
/// Every input is spelled out byte for byte; the expected info hashes and file lists are what libtorrent 2.0.8
/// (python3-libtorrent) reports for the very same bytes.
/// </summary>
public class LibtorrentLeniencyTests
{
    [Fact]
    public void Bytes_after_the_root_dictionary_are_ignored_and_only_the_info_dict_is_hashed()
    {
        const string torrent = "d4:infod6:lengthi5e4:name1:f12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAee";

        var withNewline = ParseOk(Bytes(torrent + "\n"));
        var withJunk = ParseOk(Bytes(torrent + "trailing junk d4:infod"));

        Assert.Equal("f5014907950dbe728c33a4b8a259ca113a1e43f5", withNewline.InfoHash.ToHex());
        Assert.Equal(withNewline.InfoHash, withJunk.InfoHash);
        Assert.Equal(withNewline.InfoHash, ParseOk(Bytes(torrent)).InfoHash);
        Assert.Equal("f", Assert.Single(withNewline.Files).Path);
    }

    [Fact]
    public void A_torrent_that_is_not_bencode_at_its_start_is_still_refused()
    {
        var result = TorrentMetainfo.Parse(Bytes("xd4:infode"));
        Assert.False(result.Success);
        Assert.Contains("not valid bencode", result.Error);
    }

    [Fact]
    public void A_bep47_pad_file_without_a_path_loads_as_a_pad_file()
    {
        const string torrent =
            "d4:infod5:filesld6:lengthi5e4:pathl1:aeed4:attr1:p6:lengthi16379eed6:lengthi5e4:pathl1:beee"
            + "4:name1:t12:piece lengthi16384e6:pieces40:AAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBBBBBee";

        var m = ParseOk(Bytes(torrent));

        Assert.Equal("9a96ecd93ad88223c2dd62eb54bd20aab2a2890f", m.InfoHash.ToHex());
        Assert.Equal(["t/a", "t/.pad/16379", "t/b"], m.Files.Select(f => f.Path));
        Assert.Equal([false, true, false], m.Files.Select(f => f.IsPadFile));
        Assert.Equal([0L, 5L, 16384L], m.Files.Select(f => f.Offset));
        AssertInsideRoot(m);
    }

    [Fact]
    public void A_file_without_a_path_that_is_not_a_pad_file_is_still_refused()
    {
        var info = "d5:filesld4:attr1:x6:lengthi5eee4:name1:t12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAe";
        var result = TorrentMetainfo.Parse(Torrent(info));
        Assert.False(result.Success);
        Assert.Contains("file 0 has no path list", result.Error);
    }

    [Fact]
    public void A_bep47_symlink_without_a_length_loads_as_an_empty_file_inside_the_folder()
    {
        // The link points at ../etc: bta never creates it nor reads the target.
        const string torrent =
            "d4:infod5:filesld6:lengthi5e4:pathl1:aeed4:attr1:l4:pathl2:lne12:symlink pathl2:..3:etceee"
            + "4:name1:t12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAee";

        var m = ParseOk(Bytes(torrent));

        Assert.Equal("ffd4b007e6a3fbeb6c7ef474c18b5be2b028f638", m.InfoHash.ToHex());
        Assert.Equal(["t/a", "t/ln"], m.Files.Select(f => f.Path));
        Assert.Equal([5L, 0L], m.Files.Select(f => f.Length));
        Assert.Equal(5, m.TotalLength);
        AssertInsideRoot(m);
    }

    [Fact]
    public void A_missing_length_on_a_file_that_is_not_a_symlink_is_still_refused()
    {
        var info = "d5:filesld4:attr1:p4:pathl1:aeee4:name1:t12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAe";
        var result = TorrentMetainfo.Parse(Torrent(info));
        Assert.False(result.Success);
        Assert.Contains("file 0 has no integer length", result.Error);
    }
}
