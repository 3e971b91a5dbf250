using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Session;

public sealed class TorrentMessageExtractorTests
{
    private static readonly InfoHash Hash = Parse("0123456789abcdef0123456789abcdef01234567");

    [Fact]
    public void Every_torrent_command_is_keyed_by_its_info_hash_in_hex()
    {
        object[] commands =
        [
            new TorrentSessionActor.StopTorrent(Hash),
            new TorrentSessionActor.StartTorrent(Hash, Now: true),
            new TorrentSessionActor.RemoveTorrent(Hash, DeleteData: true),
            new TorrentSessionActor.VerifyTorrent(Hash),
            new TorrentCoordinator.Stop(Hash),
            new TorrentCoordinator.Reannounce(Hash),
            new TorrentCoordinator.PeersDiscovered(Hash, [], PeerSource.Dht),
        ];

        Assert.All(commands, c => Assert.Equal("0123456789abcdef0123456789abcdef01234567", TorrentMessageExtractor.EntityId(c)));
        Assert.Null(TorrentMessageExtractor.EntityId(TorrentSessionActor.GetSessionStats.Instance));
    }

    [Fact]
    public void The_shard_is_the_leading_four_bytes_modulo_the_shard_count()
    {
        var extractor = new TorrentMessageExtractor(100);

        // 0x01234567 = 19088743; 19088743 % 100 = 43.
        Assert.Equal("43", extractor.ShardId(Hash));
        Assert.Equal("43", extractor.ShardId(new TorrentSessionActor.StopTorrent(Hash)));
        Assert.Null(extractor.ShardId("not a torrent message"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TorrentMessageExtractor(0));
    }

    private static InfoHash Parse(string hex) => InfoHash.TryParseHex(hex, out var hash) ? hash : throw new FormatException(hex);
}
