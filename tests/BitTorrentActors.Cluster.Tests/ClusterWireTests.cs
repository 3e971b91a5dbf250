using Akka.Actor;
using BitTorrentActors.Engine.Cluster;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Cluster.Tests;

/// <summary>
/// What crosses nodes goes through Akka's default serializer (Newtonsoft JSON in 1.5): the add with the .torrent
/// bytes or the magnet link, the torrent commands and their answers, the park, and the lists other nodes answer a
/// cluster front with (the bta-node name included). Each survives a round trip unchanged.
/// </summary>
public sealed class ClusterWireTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly InfoHash Hash = new([.. Enumerable.Range(1, 20).Select(i => (byte)(i * 11))]);

    private T RoundTrip<T>(T message)
        where T : notnull
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        var bytes = serializer.ToBinary(message);
        return Assert.IsType<T>(serializer.FromBinary(bytes, typeof(T)));
    }

    [Fact]
    public void A_host_carries_the_torrent_bytes_or_the_magnet_link_and_the_paused_flag()
    {
        var bytes = new byte[] { 100, 52, 58, 105, 110, 102, 111, 0, 255 };
        var host = RoundTrip(new TorrentShardEntity.Host(new TorrentSpec(Hash, bytes, null, Paused: true)));
        var magnet = RoundTrip(new TorrentShardEntity.Host(new TorrentSpec(Hash, null, "magnet:?xt=urn:btih:" + Hash.ToHex(), false)));

        Assert.Equal(Hash, host.InfoHash);
        Assert.Equal(bytes, host.Spec.Metainfo);
        Assert.True(host.Spec.Paused);
        Assert.Equal("magnet:?xt=urn:btih:" + Hash.ToHex(), magnet.Spec.Magnet);
        Assert.Null(magnet.Spec.Metainfo);
        Assert.True(RoundTrip(new TorrentSpec(Hash, null, null, true, Removed: true)).Removed);
    }

    [Fact]
    public void Commands_answers_and_the_park_survive_unchanged()
    {
        object[] messages =
        [
            new TorrentSessionActor.StartTorrent(Hash, Now: true),
            new TorrentSessionActor.StopTorrent(Hash),
            new TorrentSessionActor.RemoveTorrent(Hash, DeleteData: true),
            new TorrentSessionActor.ParkTorrent(Hash),
            new TorrentSessionActor.CommandDone(Hash),
            new TorrentSessionActor.CommandRefused("no torrent with info-hash " + Hash),
            new TorrentSessionActor.TorrentAdded(Hash, 7, "name", Duplicate: true),
            new TorrentSessionActor.ListTorrents(new[] { Hash }),
            TorrentShardEntity.HandOff.Instance,
        ];
        foreach (var message in messages)
        {
            var serializer = Sys.Serialization.FindSerializerFor(message);
            var back = serializer.FromBinary(serializer.ToBinary(message), message.GetType());
            if (message is TorrentSessionActor.ListTorrents list)
            {
                Assert.Equal(list.Only, ((TorrentSessionActor.ListTorrents)back).Only);
            }
            else
            {
                Assert.Equal(message, back);
            }
        }
    }

    [Fact]
    public void A_torrent_list_keeps_every_status_field_and_the_hosting_node()
    {
        var status = new TorrentStatus(Hash, 3, "c1.bin", "/tmp/d", TorrentActivity.Seeding, null, 1000, 4, 256, 4, 1000, 1000, 1000,
            5, 6, 7, 8, 2, 1, 1, 0, DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), DateTimeOffset.FromUnixTimeSeconds(1_700_000_100),
            null, false, 0, 0, 1.5)
        {
            MetadataPercentComplete = 1,
            Node = "127.0.0.1:4053",
        };

        var back = RoundTrip(new TorrentSessionActor.TorrentList(new[] { status }));

        Assert.Equal(status, Assert.Single(back.Torrents));
        Assert.Equal("127.0.0.1:4053", back.Torrents[0].Node);
    }

    [Fact]
    public void Stable_ids_are_the_same_everywhere_positive_and_taken_from_the_info_hash()
    {
        Assert.Equal(TorrentClusterFront.StableId(Hash), TorrentClusterFront.StableId(RoundTrip(new TorrentSessionActor.CommandDone(Hash)).InfoHash));
        Assert.Equal(0x0B16212C & 0x7FFF_FFFF, TorrentClusterFront.StableId(Hash));
        Assert.Equal(1, TorrentClusterFront.StableId(new InfoHash(new byte[20])));
        Assert.True(TorrentClusterFront.StableId(new InfoHash([.. Enumerable.Repeat((byte)0xff, 20)])) > 0);
    }
}
