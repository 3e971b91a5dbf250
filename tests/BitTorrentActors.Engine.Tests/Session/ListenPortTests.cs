using Akka.Actor;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Engine.Tests.Trackers;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Engine.Tests.Session.SessionTorrents;

namespace BitTorrentActors.Engine.Tests.Session;

/// <summary>Issue 15 item 4: with listen-port 0 the listener binds any free port and the trackers hear that
/// port, not 0; a port that cannot be bound is reported by the listener with the reason.</summary>
public sealed class ListenPortTests() : SessionTestKit()
{

    [Fact]
    public async Task With_port_0_the_tracker_hears_the_port_actually_bound()
    {
        await using var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Peers([]));
        var content = TestTorrents.Content(40_000, 81);
        var torrent = TestTorrents.Bytes(16 * 1024, tracker.AnnounceUrl, [("announced.bin", content)], "announced.bin");
        var session = Start(this, Settings(), null, Downloads.Path);

        await AddAsync(session, torrent);
        var announce = await tracker.NextRequestAsync(TimeSpan.FromSeconds(15));
        var bound = await Sys.ActorSelection(session.Path / "listener")
            .Ask<ListenerActor.Bound>(ListenerActor.GetBound.Instance, TimeSpan.FromSeconds(5));

        Assert.NotNull(bound.EndPoint);
        Assert.NotEqual(0, bound.EndPoint.Port);
        Assert.Equal(bound.EndPoint.Port, announce.Number("port"));
        await ShutdownSessionAsync(session);
    }

    [Fact]
    public async Task A_port_in_use_is_reported_with_the_reason()
    {
        using var occupier = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        occupier.Start();
        var port = ((System.Net.IPEndPoint)occupier.LocalEndpoint).Port;
        var listener = Sys.ActorOf(ListenerActor.Props(System.Net.IPAddress.Loopback, port, 10, TimeSpan.FromSeconds(2)));

        var bound = await listener.Ask<ListenerActor.Bound>(ListenerActor.GetBound.Instance, TimeSpan.FromSeconds(5));

        Assert.Null(bound.EndPoint);
        Assert.False(string.IsNullOrEmpty(bound.Error));
    }
}
