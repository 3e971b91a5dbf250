using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Tests.Dht;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Protocol.Dht;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Session;

/// <summary>
/// The session's DHT node against one scripted DHT node on loopback (its only bootstrap node): public torrents
/// are announced with the session's listen port, private ones (BEP 27) never appear in a query, the guard refuses
/// what it must before a datagram leaves, and a name in bootstrap-nodes is not even looked up under loopback-only.
/// </summary>
public sealed class DhtSessionTests() : SessionTestKit("bta.listen-address = \"127.0.0.1\"")
{
    [Fact]
    public async Task A_public_torrent_is_announced_on_the_dht_with_the_listen_port_and_a_private_one_never()
    {
        using var node = new ScriptedDhtNode(IPAddress.Parse("127.0.20.1"));
        var settings = SessionTorrents.Settings($"bta.dht.bootstrap-nodes = \"{node.EndPoint}\"");
        var session = SessionTorrents.Start(this, settings, null, Downloads.Path);
        var content = TestTorrents.Content(40_000, 31);
        var secret = TorrentBuilder.Build("secret.bin", 16 * 1024, [("secret.bin", content)], isPrivate: true, singleFile: true);
        var secretHash = TorrentMetainfo.Parse(secret).Metainfo!.InfoHash;
        var (open, openInfo, _) = SessionTorrents.Make(32);

        // The private one first: had it been announced, its queries would come before the public one's.
        await SessionTorrents.AddAsync(session, secret);
        await SessionTorrents.AddAsync(session, open);

        var announce = await node.WaitForAsync(q => q is AnnouncePeerQuery a && a.InfoHash == openInfo.InfoHash, TimeSpan.FromSeconds(20));
        var listenPort = (await session.Ask<SessionSettingsSnapshot>(TorrentSessionActor.GetSessionSettings.Instance, TimeSpan.FromSeconds(5))).ListenPort;
        var status = await session.Ask<DhtNodeActor.DhtStatus>(TorrentSessionActor.GetDhtStatus.Instance, TimeSpan.FromSeconds(5));
        Assert.True(status.Nodes >= 1, $"{status.Nodes} nodes");
        Assert.NotEqual(0, ((AnnouncePeerQuery)announce).Port);
        Assert.True(listenPort == 0 || ((AnnouncePeerQuery)announce).Port == listenPort);
        await Task.Delay(500);
        Assert.DoesNotContain(node.Queries, q => q is GetPeersQuery g && g.InfoHash == secretHash);
        Assert.DoesNotContain(node.Queries, q => q is AnnouncePeerQuery a && a.InfoHash == secretHash);
        Assert.Contains(node.Queries, q => q is GetPeersQuery g && g.InfoHash == openInfo.InfoHash);
    }

    [Fact]
    public async Task The_sessions_guard_refuses_a_dht_destination_before_any_datagram_leaves()
    {
        using var node = new ScriptedDhtNode(IPAddress.Parse("127.0.21.1"));
        var settings = SessionTorrents.Settings($"bta.dht.bootstrap-nodes = \"{node.EndPoint}\"");
        // A guard refusing even loopback: what it refuses must not reach the scripted node.
        var session = Sys.ActorOf(TorrentSessionActor.Props(settings,
            new SessionOptions(null, Downloads.Path) { AddressFilter = _ => false }));

        await AwaitAssertAsync(async () =>
        {
            var status = await session.Ask<DhtNodeActor.DhtStatus>(TorrentSessionActor.GetDhtStatus.Instance, TimeSpan.FromSeconds(5));
            Assert.True(status.SendsRefused >= 1, $"{status.SendsRefused} sends refused");
        }, TimeSpan.FromSeconds(10));
        await Task.Delay(300);
        Assert.Empty(node.Queries);
    }

    [Fact]
    public async Task Under_loopback_only_a_bootstrap_name_is_not_looked_up()
    {
        // The shipped default names the public routers; a test host that forgot to override it must stay local.
        // (An address beyond loopback is the transport's guard: proven above without sending to one.)
        var settings = SessionTorrents.Settings("bta.dht.bootstrap-nodes = \"router.bittorrent.com:6881\"");
        Assert.True(settings.Session.LoopbackOnly);

        var session = EventFilter.Warning(contains: "router.bittorrent.com:6881 not looked up: bta.session.loopback-only")
            .ExpectOne(TimeSpan.FromSeconds(10), () => SessionTorrents.Start(this, settings, null, Downloads.Path));

        var status = await session.Ask<DhtNodeActor.DhtStatus>(TorrentSessionActor.GetDhtStatus.Instance, TimeSpan.FromSeconds(5));
        Assert.Equal(0, status.Nodes);
        Assert.Equal(0, status.SendsRefused);
    }

    [Fact]
    public async Task With_the_dht_off_the_session_says_so_and_runs_no_node()
    {
        var session = SessionTorrents.Start(this, SessionTorrents.Settings("bta.dht.enabled = false"), null, Downloads.Path);

        var off = await session.Ask<TorrentSessionActor.DhtOff>(TorrentSessionActor.GetDhtStatus.Instance, TimeSpan.FromSeconds(5));
        Assert.Contains("bta.dht.enabled", off.Reason);
        var snapshot = await session.Ask<SessionSettingsSnapshot>(TorrentSessionActor.GetSessionSettings.Instance, TimeSpan.FromSeconds(5));
        Assert.False(snapshot.DhtEnabled);
    }

    [Fact]
    public async Task The_dht_table_is_saved_in_the_state_folder_and_reloaded_by_the_next_session()
    {
        using var node = new ScriptedDhtNode(IPAddress.Parse("127.0.22.1"));
        using var state = new TempDirectory("bta-dht-state");
        var first = SessionTorrents.Start(this, SessionTorrents.Settings($"bta.dht.bootstrap-nodes = \"{node.EndPoint}\""), state.Path, Downloads.Path);
        await AwaitAssertAsync(async () => Assert.Equal(1,
            (await first.Ask<DhtNodeActor.DhtStatus>(TorrentSessionActor.GetDhtStatus.Instance, TimeSpan.FromSeconds(5))).Nodes), TimeSpan.FromSeconds(10));
        first.Tell(TorrentSessionActor.Shutdown.Instance);
        ExpectMsg<TorrentSessionActor.ShutdownComplete>(TimeSpan.FromSeconds(20));
        Watch(first);
        Sys.Stop(first);
        ExpectTerminated(first, TimeSpan.FromSeconds(10));
        Assert.True(File.Exists(Path.Combine(state.Path, "dht.dat")));

        // No bootstrap node this time: the saved table is the way in.
        var second = SessionTorrents.Start(this, SessionTorrents.Settings(), state.Path, Downloads.Path);
        var status = await second.Ask<DhtNodeActor.DhtStatus>(TorrentSessionActor.GetDhtStatus.Instance, TimeSpan.FromSeconds(5));
        Assert.Equal(1, status.Nodes);
    }
}
