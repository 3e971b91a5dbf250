using System.Net;
using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using BitTorrentActors.Engine.Cluster;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Cluster.Tests;

/// <summary>
/// What crosses nodes goes through <see cref="ClusterMessageSerializer"/> (source-generated JSON, so a Native AOT
/// build forms a cluster too): the add with the .torrent bytes or the magnet link, the torrent commands and their
/// answers, the park, and the lists and details other nodes answer a cluster front with (the bta-node name
/// included). Each survives a round trip unchanged; every torrent command in the engine is bound to it; an unknown
/// manifest or a malformed payload is a serialization error, not a crash.
/// </summary>
public sealed class ClusterWireTests() : Akka.TestKit.Xunit2.TestKit(ClusterSerializerSetup.Create(), nameof(ClusterWireTests))
{
    private static readonly InfoHash Hash = new([.. Enumerable.Range(1, 20).Select(i => (byte)(i * 11))]);

    private T RoundTrip<T>(T message)
        where T : notnull
    {
        var serializer = Assert.IsType<ClusterMessageSerializer>(Sys.Serialization.FindSerializerFor(message));
        var back = serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));
        Assert.IsType(message.GetType(), back);
        return (T)back;
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
            new TorrentSessionActor.ListTorrents([Hash]),
            TorrentShardEntity.HandOff.Instance,
        ];
        foreach (var message in messages)
        {
            var back = RoundTrip(message);
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
    public void The_spec_sync_lists_keep_their_info_hashes()
    {
        var other = new InfoHash([.. Enumerable.Range(1, 20).Select(i => (byte)(255 - i))]);
        Assert.Equal([Hash, other], RoundTrip(new SpecSyncActor.Held([Hash, other])).InfoHashes);
        Assert.Equal([other], RoundTrip(new SpecSyncActor.Wanted([other])).InfoHashes);
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

        var back = RoundTrip(new TorrentSessionActor.TorrentList([status]));

        Assert.Equal(status, Assert.Single(back.Torrents));
        Assert.Equal("127.0.0.1:4053", back.Torrents[0].Node);
    }

    [Fact]
    public void Details_options_and_peers_keep_files_priorities_endpoints_and_a_cleared_ratio()
    {
        var status = new TorrentStatus(Hash, 3, "dir", "/tmp/d", TorrentActivity.Downloading, "tracker: timed out", 3000, 3, 1024, 1, 1024, 2000,
            1024, 5, 6, 7, 8, 2, 1, 1, 0, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), null, null, true, 100, 200, null)
        {
            Node = "127.0.0.1:4054",
        };
        var details = new TorrentDetails(status,
            [new FileStatus("dir/a.bin", 2000, 1024, true, FilePriority.High), new FileStatus("dir/b.bin", 1000, 0, false, FilePriority.Low)],
            [new PeerSummary("127.0.0.1", 6881, "-lt2000-", false, false, true, false, true, 1000, 0, 0.5)],
            [new TrackerSummary("http://127.0.0.1:6969/announce", 0, true, "Success", DateTimeOffset.FromUnixTimeSeconds(1_700_000_050), 3, null)],
            [0b1010_0000], "a comment", null, DateTimeOffset.FromUnixTimeSeconds(1_600_000_000), "magnet:?xt=urn:btih:" + Hash.ToHex());

        var back = Assert.Single(RoundTrip(new TorrentSessionActor.TorrentDetailsList([details])).Torrents);

        Assert.Equal(status, back.Status);
        Assert.Equal(details.Files, back.Files);
        Assert.Equal(details.Peers, back.Peers);
        Assert.Equal(details.Trackers, back.Trackers);
        Assert.Equal(details.VerifiedPieces, back.VerifiedPieces);
        Assert.Equal((details.Comment, details.Creator, details.DateCreated, details.MagnetLink), (back.Comment, back.Creator, back.DateCreated, back.MagnetLink));

        var files = FileSelection.All(3).WithWanted([1], false).WithPriority([2], FilePriority.High);
        var options = RoundTrip(new TorrentSessionActor.SetTorrentOptions(Hash, new TorrentOptionsUpdate(files, 0, 5000, double.NaN, 12)));
        Assert.Equal(files, options.Update.Files);
        Assert.True(double.IsNaN(options.Update.SeedRatio!.Value));
        Assert.Equal((0L, 5000L, 12), (options.Update.DownloadLimit!.Value, options.Update.UploadLimit!.Value, options.Update.PeerLimit!.Value));
        Assert.Equal(new TorrentCoordinator.SetFiles(Hash, files), RoundTrip(new TorrentCoordinator.SetFiles(Hash, files)));

        IPEndPoint[] peers = [new(IPAddress.Loopback, 6881), new(IPAddress.IPv6Loopback, 51413)];
        var added = RoundTrip(new TorrentSessionActor.AddPeers(Hash, peers, PeerSource.Pex));
        Assert.Equal(peers, added.Peers);
        Assert.Equal(PeerSource.Pex, added.Source);
        Assert.Equal(TorrentSessionActor.QueueMove.Bottom, RoundTrip(new TorrentSessionActor.MoveInQueue(Hash, TorrentSessionActor.QueueMove.Bottom)).Move);
    }

    [Fact]
    public void Every_torrent_command_in_the_engine_is_bound_to_the_cluster_serializer()
    {
        // The shard region routes any ITorrentCommand to another node; one left on Akka's reflection-based default
        // would work under the JIT and fail in a Native AOT build.
        var commands = typeof(ITorrentCommand).Assembly.GetTypes()
            .Where(t => typeof(ITorrentCommand).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false })
            .ToList();
        Assert.True(commands.Count > 10, $"only {commands.Count} torrent commands found");
        foreach (var type in commands)
        {
            Assert.True(Sys.Serialization.FindSerializerForType(type) is ClusterMessageSerializer, $"{type} is not bound to the cluster serializer");
        }
        Assert.Equal(ClusterMessageSerializer.Messages.Count, ClusterMessageSerializer.Messages.Select(m => m.Manifest).Distinct().Count());
    }

    [Fact]
    public void An_unknown_manifest_or_a_malformed_payload_is_a_serialization_error()
    {
        var serializer = Assert.IsType<ClusterMessageSerializer>(Sys.Serialization.FindSerializerFor(new TorrentSessionActor.CommandDone(Hash)));

        Assert.Contains("unknown", Assert.Throws<SerializationException>(() => serializer.FromBinary("{}"u8.ToArray(), "no-such-message")).Message);
        Assert.Throws<SerializationException>(() => serializer.FromBinary("{\"InfoHash\":\"zz\"}"u8.ToArray(), "done"));
        Assert.Throws<SerializationException>(() => serializer.FromBinary("{\"Peers\":[\"not an endpoint\"]}"u8.ToArray(), "peers"));
        Assert.Throws<SerializationException>(() => serializer.FromBinary(Encoding.UTF8.GetBytes("{\"Torrents\":[{"), "torrents"));
        Assert.Throws<SerializationException>(() => serializer.FromBinary("null"u8.ToArray(), "refused"));
        Assert.Throws<ArgumentException>(() => serializer.ToBinary(new TorrentSessionActor.ListParked()));
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
