using Akka.Actor;
using BitTorrentActors.Engine.Storage;
using System.Net;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Engine.Tests.Trackers;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Trackers;
using static BitTorrentActors.Engine.Tests.Trackers.TrackerTestSupport;

namespace BitTorrentActors.Engine.Tests.Session;

/// <summary>
/// The session's destination guard (bta.session.loopback-only, on in every test host) holds at every place a
/// connection is made. Proven without sending anything beyond loopback: a guard that refuses every address, loopback
/// included, must keep a real tracker on 127.0.0.1 from seeing a single request; and the loopback-only filter
/// itself is checked on addresses, not by contacting them.
/// </summary>
public sealed class AddressGuardTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Func<IPAddress, bool> RefuseAll = _ => false;

    public AddressGuardTests()
        : base(TestTorrents.LoadConfig(SessionTorrents.Overrides))
    {
    }

    [Fact]
    public void The_loopback_only_filter_allows_loopback_and_nothing_else()
    {
        using var services = new SessionServices(SessionTorrents.Settings());

        Assert.True(services.AddressFilter(IPAddress.Loopback));
        Assert.True(services.AddressFilter(IPAddress.Parse("127.5.6.7")));
        Assert.True(services.AddressFilter(IPAddress.IPv6Loopback));
        Assert.False(services.AddressFilter(IPAddress.Parse("192.0.2.1")));
        Assert.False(services.AddressFilter(IPAddress.Parse("2001:db8::1")));
        Assert.False(services.AddressFilter(IPAddress.Any));
    }

    [Fact]
    public async Task An_http_tracker_refused_by_the_guard_sees_no_connection()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Peers([Peer(7101)]));
        using var services = new SessionServices(SessionTorrents.Settings(), RefuseAll);

        var result = await services.TrackerTransport.AnnounceAsync(tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.False(result.Success);
        Assert.Contains("loopback-only", result.Failure?.Reason);
        Assert.True(await tracker.NoRequestWithinAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task A_udp_tracker_refused_by_the_guard_gets_no_datagram()
    {
        using var tracker = new ScriptedUdpTracker();
        using var services = new SessionServices(Settings("bta.tracker { udp-base-timeout = 200ms, udp-attempts = 1 }"), RefuseAll);

        var result = await services.TrackerTransport.AnnounceAsync(tracker.AnnounceUrl, Request(), CancellationToken.None);

        Assert.False(result.Success);
        Assert.Contains("loopback-only", result.Failure?.Reason);
        Assert.Empty(tracker.Seen);
    }

    [Fact]
    public void Peers_outside_loopback_are_never_dialled()
    {
        var children = new ChildProbes(this);
        var metainfo = TestTorrents.Metainfo(16384, ("a.bin", TestTorrents.Content(40_000, 3)));
        using var services = new SessionServices(SessionTorrents.Settings());
        var context = TestTorrents.Context(metainfo, Path.GetTempPath(), SessionTorrents.Settings()) with { Services = services };
        var coordinator = Sys.ActorOf(TorrentCoordinator.Props(context, CreateTestProbe().Ref, children.Parts));
        children.Writer.ExpectMsg<FileWriterActor.CheckExistingData>();
        coordinator.Tell(new FileWriterActor.CheckCompleted(new byte[1], 0, 0));

        coordinator.Tell(new TorrentCoordinator.PeersDiscovered(metainfo.InfoHash,
            [IPEndPoint.Parse("192.0.2.1:6881"), IPEndPoint.Parse("[2001:db8::1]:6881"), IPEndPoint.Parse("127.0.0.1:7301")],
            PeerSource.Manual));

        AwaitAssert(() => Assert.Single(children.Spawned));
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:7301"), Assert.Single(children.Spawned).Remote);
    }

    private static AnnounceRequest Request()
    {
        var context = Context("http://127.0.0.1:1/announce");
        return new AnnounceRequest(context.InfoHash, context.LocalPeerId.Span.ToArray(), 6881, 0, 0, 1,
            AnnounceEvent.Started, 50, 7, null);
    }
}

/// <summary>The guard is on for every configuration the tests load, the shipped one included.</summary>
public sealed class LoopbackGuardTests
{
    [Fact]
    public void Every_test_configuration_is_loopback_only()
    {
        Assert.Equal("true", Environment.GetEnvironmentVariable(LoopbackGuard.Variable));
        Assert.True(TestTorrents.Settings().Session.LoopbackOnly);
    }

    [Fact]
    public void The_shipped_defaults_with_the_guard_variable_set_are_loopback_only()
    {
        var shipped = Akka.Configuration.ConfigurationFactory.ParseString(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon.conf")));

        Assert.False(shipped.GetBoolean("bta.session.loopback-only"));
        Assert.True(Hosting.BtaSettings.FromConfig(shipped).Session.LoopbackOnly);
    }
}
