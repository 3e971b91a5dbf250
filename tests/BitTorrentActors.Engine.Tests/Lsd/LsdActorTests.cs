using System.Net;
using System.Text;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using BitTorrentActors.Engine.Lsd;
using BitTorrentActors.Protocol.Lsd;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Lsd;

/// <summary>The LSD actor against a scripted transport and a clock the test moves.</summary>
public sealed class LsdActorTests : TestKit
{
    private const string Cookie = "c0ffee01";
    private static readonly InfoHash One = new(Enumerable.Repeat((byte)1, 20).ToArray());
    private static readonly InfoHash Two = new(Enumerable.Repeat((byte)2, 20).ToArray());
    private static readonly InfoHash Other = new(Enumerable.Repeat((byte)9, 20).ToArray());
    private long _ticks = TimeSpan.FromHours(1).Ticks;

    private TimeSpan Clock => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

    private void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

    private IActorRef Lsd(ScriptedLsdTransport transport, int maxHeard = 1024)
    {
        var actor = Sys.ActorOf(LsdActor.Props(transport, TestActor, new LsdOptions(
            TickInterval: TimeSpan.FromMilliseconds(20), MaxHeard: maxHeard, Cookie: Cookie, Clock: () => Clock)));
        AwaitCondition(() => transport.Started, TimeSpan.FromSeconds(3));
        return actor;
    }

    private static Task<LsdActor.LsdStatus> Status(IActorRef actor) =>
        actor.Ask<LsdActor.LsdStatus>(LsdActor.GetStatus.Instance, TimeSpan.FromSeconds(5));

    private static byte[] Heard(int port, string? cookie, params InfoHash[] hashes) => LsdMessage.Format(port, hashes, cookie);

    [Fact]
    public async Task Torrents_started_together_are_announced_in_one_datagram_with_our_port_and_cookie()
    {
        var transport = new ScriptedLsdTransport();
        var lsd = Lsd(transport);

        lsd.Tell(new LsdActor.Announce(One, 6881));
        lsd.Tell(new LsdActor.Announce(Two, 6881));
        AwaitCondition(() => !transport.Sent.IsEmpty, TimeSpan.FromSeconds(3));
        await Task.Delay(200);

        var (bytes, announce) = Assert.Single(transport.Sent);
        Assert.Equal(6881, announce.Port);
        Assert.Equal([One, Two], announce.InfoHashes);
        Assert.Equal(Cookie, announce.Cookie);
        Assert.StartsWith("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n", Encoding.ASCII.GetString(bytes));
        Assert.Equal(2, (await Status(lsd)).AnnouncesSent);
    }

    [Fact]
    public async Task A_torrent_is_announced_at_most_once_a_minute_and_again_every_interval()
    {
        var transport = new ScriptedLsdTransport();
        var lsd = Lsd(transport);
        lsd.Tell(new LsdActor.Announce(One, 6881));
        AwaitCondition(() => transport.Sent.Count == 1, TimeSpan.FromSeconds(3));

        // A magnet handing over to its coordinator: stopped and announced again at once.
        lsd.Tell(new LsdActor.StopAnnouncing(One));
        lsd.Tell(new LsdActor.Announce(One, 6881));
        Advance(TimeSpan.FromSeconds(59));
        await Task.Delay(300);
        Assert.Single(transport.Sent);

        Advance(TimeSpan.FromSeconds(1));
        AwaitCondition(() => transport.Sent.Count == 2, TimeSpan.FromSeconds(3));
        Advance(TimeSpan.FromMinutes(4));
        await Task.Delay(300);
        Assert.Equal(2, transport.Sent.Count);
        Advance(TimeSpan.FromMinutes(1));
        AwaitCondition(() => transport.Sent.Count == 3, TimeSpan.FromSeconds(3));

        // The clock moves only once the stop is taken: a tick already in the mailbox that read the moved clock
        // would announce once more (CI saw 4 sends).
        lsd.Tell(new LsdActor.StopAnnouncing(One));
        await Status(lsd);
        Advance(TimeSpan.FromMinutes(10));
        await Task.Delay(300);
        Assert.Equal(3, transport.Sent.Count);
    }

    [Fact]
    public async Task A_heard_announce_becomes_a_peer_of_the_right_torrent_at_the_source_address_and_its_port()
    {
        var transport = new ScriptedLsdTransport();
        var lsd = Lsd(transport);
        lsd.Tell(new LsdActor.Announce(One, 6881));
        lsd.Tell(new LsdActor.Announce(Two, 6881));

        transport.Deliver(Heard(7001, "beef", Other, Two), IPEndPoint.Parse("127.0.0.7:6771"));

        var found = ExpectMsg<LsdActor.PeersFound>(TimeSpan.FromSeconds(3));
        Assert.Equal(Two, found.InfoHash);
        Assert.Equal([IPEndPoint.Parse("127.0.0.7:7001")], found.Peers);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(1, (await Status(lsd)).Unknown);
    }

    [Fact]
    public async Task Our_own_announce_heard_back_and_garbage_are_dropped()
    {
        var transport = new ScriptedLsdTransport();
        var lsd = Lsd(transport);
        lsd.Tell(new LsdActor.Announce(One, 6881));
        AwaitCondition(() => transport.Sent.Count == 1, TimeSpan.FromSeconds(3));

        // Multicast loopback: the group sends us our own datagram back (the cookie compared as libtorrent's, in any case).
        transport.Deliver(Assert.Single(transport.Sent).Bytes, IPEndPoint.Parse("127.0.0.1:6771"));
        transport.Deliver(Heard(6881, Cookie.ToUpperInvariant(), One), IPEndPoint.Parse("127.0.0.1:6771"));
        transport.Deliver("GET / HTTP/1.1\r\n\r\n"u8.ToArray(), IPEndPoint.Parse("127.0.0.8:6771"));
        transport.Deliver(new byte[4000], IPEndPoint.Parse("127.0.0.8:6771"));

        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        var status = await Status(lsd);
        Assert.Equal(2, status.OwnIgnored);
        Assert.Equal(2, status.Malformed);
        Assert.Equal(0, status.PeersReported);
    }

    [Fact]
    public async Task A_peer_repeating_its_announce_is_reported_once_a_minute()
    {
        var transport = new ScriptedLsdTransport();
        var lsd = Lsd(transport);
        lsd.Tell(new LsdActor.Announce(One, 6881));
        var from = IPEndPoint.Parse("127.0.0.7:6771");

        // libtorrent sends each announce three times (at 0, 2 and 4 s).
        for (var i = 0; i < 3; i++)
        {
            transport.Deliver(Heard(7001, "beef", One), from);
        }
        ExpectMsg<LsdActor.PeersFound>(TimeSpan.FromSeconds(3));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        Advance(TimeSpan.FromMinutes(1));
        await Task.Delay(200);
        transport.Deliver(Heard(7001, "beef", One), from);
        ExpectMsg<LsdActor.PeersFound>(TimeSpan.FromSeconds(3));
        Assert.Equal(2, (await Status(lsd)).PeersReported);
    }

    [Fact]
    public async Task What_it_keeps_of_announces_heard_is_bounded_and_a_flood_reaches_no_one_past_the_bound()
    {
        var transport = new ScriptedLsdTransport();
        var lsd = Lsd(transport, maxHeard: 3);
        lsd.Tell(new LsdActor.Announce(One, 6881));

        for (var i = 0; i < 10; i++)
        {
            transport.Deliver(Heard(7000 + i, null, One), new IPEndPoint(IPAddress.Parse($"127.0.1.{i + 1}"), 6771));
        }

        for (var i = 0; i < 3; i++)
        {
            ExpectMsg<LsdActor.PeersFound>(TimeSpan.FromSeconds(3));
        }
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        var status = await Status(lsd);
        Assert.Equal(3, status.Heard);
        Assert.Equal(7, status.Dropped);

        // A minute on, the entries expire and room is made again.
        Advance(TimeSpan.FromMinutes(1));
        await AwaitAssertAsync(async () => Assert.Equal(0, (await Status(lsd)).Heard), TimeSpan.FromSeconds(3));
        transport.Deliver(Heard(7100, null, One), IPEndPoint.Parse("127.0.2.1:6771"));
        ExpectMsg<LsdActor.PeersFound>(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void Its_socket_is_closed_when_it_stops()
    {
        var transport = new ScriptedLsdTransport();
        var lsd = Lsd(transport);
        Watch(lsd);

        Sys.Stop(lsd);

        ExpectTerminated(lsd, TimeSpan.FromSeconds(3));
        Assert.True(transport.Disposed);
    }
}
