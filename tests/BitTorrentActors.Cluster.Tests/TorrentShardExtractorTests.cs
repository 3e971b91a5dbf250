using BitTorrentActors.Engine.Cluster;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Cluster.Tests;

/// <summary>The shard region places a torrent by the session's own rule, and a remembered entity restarted from
/// its id alone (ShardRegion.StartEntity, which Akka unwraps and places through ShardId(entityId)) lands in the
/// same shard as every command for it.</summary>
public sealed class TorrentShardExtractorTests
{
    private static InfoHash Hash(byte first, byte second = 0)
    {
        var bytes = new byte[InfoHash.Length];
        bytes[0] = first;
        bytes[3] = second;
        return new InfoHash(bytes);
    }

    [Fact]
    public void A_torrent_command_is_its_info_hash_entity_in_the_shard_the_session_rule_names()
    {
        var extractor = new TorrentShardExtractor(100);
        var hash = Hash(0x12, 0x34);
        var command = new TorrentSessionActor.StartTorrent(hash);

        Assert.Equal(hash.ToHex(), extractor.EntityId(command));
        Assert.Same(command, extractor.EntityMessage(command));
        Assert.Equal(new TorrentMessageExtractor(100).ShardId(hash), extractor.ShardId(command));
        // The first four bytes, big-endian, modulo the shard count.
        Assert.Equal((0x12000034u % 100).ToString(System.Globalization.CultureInfo.InvariantCulture), extractor.ShardId(command));
    }

    [Fact]
    public void An_entity_id_alone_gives_the_same_shard_as_the_commands_and_the_host_message()
    {
        var extractor = new TorrentShardExtractor(7);
        foreach (var hash in new[] { Hash(1), Hash(0xff, 9), Hash(0x80, 0x80) })
        {
            var host = new TorrentShardEntity.Host(new TorrentSpec(hash, [1, 2], null, false));
            Assert.Equal(extractor.ShardId(host), extractor.ShardId(hash.ToHex()));
            Assert.Equal(extractor.ShardId(new TorrentSessionActor.RemoveTorrent(hash)), extractor.ShardId(hash.ToHex()));
            Assert.Equal(hash.ToHex(), extractor.EntityId(host));
        }
    }

    [Fact]
    public void A_message_naming_no_torrent_has_no_entity_and_a_malformed_entity_id_lands_in_shard_zero()
    {
        var extractor = new TorrentShardExtractor(10);

        Assert.Null(extractor.EntityId(TorrentSessionActor.GetSessionStats.Instance));
        Assert.Null(extractor.ShardId(TorrentSessionActor.GetSessionStats.Instance));
        Assert.Equal("0", extractor.ShardId("not-a-hash"));
    }
}
