using System.Text;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Tests.Metainfo;

public class MetadataTorrentTests
{
    private const string Info = "d6:lengthi5e4:name5:a.bin12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAe";

    [Fact]
    public void Wraps_the_info_bytes_verbatim_with_the_trackers()
    {
        var torrent = MetadataTorrent.Build(Encoding.ASCII.GetBytes(Info), [["http://127.0.0.1:1/a"], ["udp://127.0.0.1:2"]]);

        Assert.Equal(
            "d8:announce20:http://127.0.0.1:1/a13:announce-listll20:http://127.0.0.1:1/ael17:udp://127.0.0.1:2ee4:info" + Info + "e",
            Encoding.ASCII.GetString(torrent));
    }

    [Fact]
    public void A_trackerless_torrent_is_just_the_info_and_keeps_its_hash()
    {
        var info = Encoding.ASCII.GetBytes(Info);
        var torrent = MetadataTorrent.Build(info, []);

        Assert.Equal("d4:info" + Info + "e", Encoding.ASCII.GetString(torrent));
        var parsed = TorrentMetainfo.Parse(torrent);
        Assert.True(parsed.Success, parsed.ToString());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(info)), parsed.Metainfo!.InfoHash.ToHex());
    }
}
