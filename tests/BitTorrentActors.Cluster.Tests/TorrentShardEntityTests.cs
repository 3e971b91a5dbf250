using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.DistributedData;
using BitTorrentActors.Engine.Cluster;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Protocol.Metainfo;
using ClusterExtension = Akka.Cluster.Cluster;
using MemberStatus = Akka.Cluster.MemberStatus;

namespace BitTorrentActors.Cluster.Tests;

/// <summary>
/// The torrent entity's start and stop protocol in a one-node cluster (real Distributed Data, a probe as the
/// node's session): a Host adds the torrent to the session and the session answers the sender; an entity started
/// again (remember-entities after a crash) adds its torrent from Distributed Data unasked, paused if it was
/// stopped; the handoff parks the torrent and the entity stops only after the session confirmed; an unknown or
/// removed torrent is refused and the entity passivates.
/// </summary>
public sealed class TorrentShardEntityTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public TorrentShardEntityTests()
        : base("""
            akka.loglevel = WARNING
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            akka.cluster.distributed-data.durable.keys = []
            """)
    {
        var cluster = ClusterExtension.Get(Sys);
        cluster.Join(cluster.SelfAddress);
    }

    private static (InfoHash Hash, byte[] Bytes) Torrent(int seed)
    {
        var bytes = TestTorrents.Bytes(16 * 1024, null, [("e.bin", TestTorrents.Content(40_000, seed))], "e.bin");
        return (TorrentMetainfo.Parse(bytes).Metainfo!.InfoHash, bytes);
    }

    private async Task<Props> PropsAsync(InfoHash hash, IActorRef session)
    {
        var cluster = ClusterExtension.Get(Sys);
        await AwaitConditionAsync(() => Task.FromResult(cluster.SelfMember.Status == MemberStatus.Up), Wait);
        return TorrentShardEntity.Props(hash.ToHex(), session, DistributedData.Get(Sys).Replicator, cluster.SelfUniqueAddress);
    }

    [Fact]
    public async Task A_host_adds_the_torrent_to_the_local_session_which_answers_the_sender()
    {
        var (hash, bytes) = Torrent(1);
        var session = CreateTestProbe();
        var entity = Sys.ActorOf(await PropsAsync(hash, session.Ref));

        entity.Tell(new TorrentShardEntity.Host(new TorrentSpec(hash, bytes, null, Paused: false)), TestActor);

        var add = await session.ExpectMsgAsync<TorrentSessionActor.AddTorrent>(Wait);
        Assert.Equal(bytes, add.Metainfo);
        Assert.False(add.Options.Paused);
        session.Reply(new TorrentSessionActor.TorrentAdded(hash, 1, "e.bin", false));
        Assert.Equal(hash, (await ExpectMsgAsync<TorrentSessionActor.TorrentAdded>(Wait)).InfoHash);
        // Commands for it go to the session too, answered to their sender.
        entity.Tell(new TorrentSessionActor.VerifyTorrent(hash), TestActor);
        await session.ExpectMsgAsync<TorrentSessionActor.VerifyTorrent>(Wait);
        session.Reply(new TorrentSessionActor.CommandDone(hash));
        await ExpectMsgAsync<TorrentSessionActor.CommandDone>(Wait);
    }

    [Fact]
    public async Task An_entity_started_again_adds_its_torrent_from_distributed_data_paused_if_it_was_stopped()
    {
        var (hash, bytes) = Torrent(2);
        var session = CreateTestProbe();
        var first = Sys.ActorOf(await PropsAsync(hash, session.Ref));
        first.Tell(new TorrentShardEntity.Host(new TorrentSpec(hash, bytes, null, Paused: false)), TestActor);
        await session.ExpectMsgAsync<TorrentSessionActor.AddTorrent>(Wait);
        first.Tell(new TorrentSessionActor.StopTorrent(hash), TestActor);
        await session.ExpectMsgAsync<TorrentSessionActor.StopTorrent>(Wait);
        await StopAsync(first);

        // What remember-entities does on a survivor: the entity starts with its id only (no message).
        var restarted = CreateTestProbe();
        Sys.ActorOf(await PropsAsync(hash, restarted.Ref));

        var add = await restarted.ExpectMsgAsync<TorrentSessionActor.AddTorrent>(Wait);
        Assert.Equal(bytes, add.Metainfo);
        Assert.True(add.Options.Paused);
    }

    [Fact]
    public async Task The_handoff_parks_the_torrent_and_the_entity_stops_only_once_the_session_confirmed()
    {
        var (hash, bytes) = Torrent(3);
        var session = CreateTestProbe();
        var entity = Sys.ActorOf(await PropsAsync(hash, session.Ref));
        entity.Tell(new TorrentShardEntity.Host(new TorrentSpec(hash, bytes, null, Paused: false)), TestActor);
        await session.ExpectMsgAsync<TorrentSessionActor.AddTorrent>(Wait);
        Watch(entity);

        entity.Tell(TorrentShardEntity.HandOff.Instance);

        Assert.Equal(hash, (await session.ExpectMsgAsync<TorrentSessionActor.ParkTorrent>(Wait)).InfoHash);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        session.Reply(new TorrentSessionActor.CommandDone(hash));
        await ExpectTerminatedAsync(entity, Wait);
    }

    [Fact]
    public async Task A_command_for_a_torrent_never_added_is_refused_and_the_entity_passivates()
    {
        var (hash, _) = Torrent(4);
        var session = CreateTestProbe();
        var entity = ChildActorOf(await PropsAsync(hash, session.Ref));

        entity.Tell(new TorrentSessionActor.StartTorrent(hash), TestActor);

        Assert.Contains(hash.ToHex(), (await ExpectMsgAsync<TorrentSessionActor.CommandRefused>(Wait)).Reason);
        Assert.IsType<TorrentShardEntity.HandOff>((await ExpectMsgAsync<Passivate>(Wait)).StopMessage);
        await session.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_removed_torrent_passivates_and_neither_its_restart_nor_a_node_s_stored_copy_brings_it_back()
    {
        var (hash, bytes) = Torrent(5);
        var session = CreateTestProbe();
        var entity = ChildActorOf(await PropsAsync(hash, session.Ref));
        entity.Tell(new TorrentShardEntity.Host(new TorrentSpec(hash, bytes, null, Paused: false)), TestActor);
        await session.ExpectMsgAsync<TorrentSessionActor.AddTorrent>(Wait);

        entity.Tell(new TorrentSessionActor.RemoveTorrent(hash), TestActor);

        await session.ExpectMsgAsync<TorrentSessionActor.RemoveTorrent>(Wait);
        await ExpectMsgAsync<Passivate>(Wait);
        await StopAsync(entity);
        var restarted = CreateTestProbe();
        var again = Sys.ActorOf(await PropsAsync(hash, restarted.Ref));
        again.Tell(new TorrentSessionActor.StartTorrent(hash), TestActor);
        await ExpectMsgAsync<TorrentSessionActor.CommandRefused>(Wait);
        await restarted.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        await StopAsync(again);

        // A node that was away re-adding its stored copy is refused; a user adding it again is not.
        var restore = Sys.ActorOf(await PropsAsync(hash, restarted.Ref));
        restore.Tell(new TorrentShardEntity.Host(new TorrentSpec(hash, bytes, null, Paused: false), Restore: true), TestActor);
        Assert.Contains("removed", (await ExpectMsgAsync<TorrentSessionActor.CommandRefused>(Wait)).Reason);
        await StopAsync(restore);
        var readd = Sys.ActorOf(await PropsAsync(hash, restarted.Ref));
        readd.Tell(new TorrentShardEntity.Host(new TorrentSpec(hash, bytes, null, Paused: false)), TestActor);
        Assert.Equal(bytes, (await restarted.ExpectMsgAsync<TorrentSessionActor.AddTorrent>(Wait)).Metainfo);
    }

    private async Task StopAsync(IActorRef entity)
    {
        Watch(entity);
        Sys.Stop(entity);
        await ExpectTerminatedAsync(entity, Wait);
        Unwatch(entity);
    }
}
