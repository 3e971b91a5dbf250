using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using BitTorrentActors.Engine.Lsd;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Tests.Session;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Protocol.Lsd;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Lsd;

/// <summary>
/// The session's LSD with a scripted transport (no multicast socket): public torrents are announced with the
/// session's listen port and a private one (BEP 27) never; a peer heard announcing a public torrent is dialled,
/// one heard announcing the private torrent is not; and without a fake, the loopback guard keeps the real
/// socket shut on this host (eth0 is up), which the session reports.
/// </summary>
// DEBUG: the guard's one line is a debug line (every loopback-only session logs it; the CLI prints info lines).
public sealed class LsdSessionTests() : SessionTestKit("bta.listen-address = \"127.0.0.1\"\nakka.loglevel = DEBUG")
{
    private IActorRef Start(ScriptedLsdTransport transport, string extra = "") =>
        Sys.ActorOf(TorrentSessionActor.Props(SessionTorrents.Settings("bta.dht.enabled = false\n" + extra),
            new SessionOptions(null, Downloads.Path) { LsdTransport = () => transport }));

    private static (byte[] Torrent, InfoHash InfoHash) Secret()
    {
        var content = TestTorrents.Content(40_000, 41);
        var bytes = TorrentBuilder.Build("secret.bin", 16 * 1024, [("secret.bin", content)], isPrivate: true, singleFile: true);
        return (bytes, TorrentMetainfo.Parse(bytes).Metainfo!.InfoHash);
    }

    [Fact]
    public async Task A_public_torrent_is_announced_with_the_listen_port_and_a_private_one_never()
    {
        var transport = new ScriptedLsdTransport();
        var session = Start(transport);
        var (secret, secretHash) = Secret();
        var (open, openInfo, _) = SessionTorrents.Make(42);

        // The private one first: had it been announced, it would be in the first datagram.
        await SessionTorrents.AddAsync(session, secret);
        await SessionTorrents.AddAsync(session, open);

        await AwaitConditionAsync(() => Task.FromResult(transport.Sent.Any(s => s.Announce.InfoHashes.Contains(openInfo.InfoHash))),
            TimeSpan.FromSeconds(15));
        await Task.Delay(500);
        Assert.DoesNotContain(transport.Sent, s => s.Announce.InfoHashes.Contains(secretHash));
        var status = await session.Ask<LsdActor.LsdStatus>(TorrentSessionActor.GetLsdStatus.Instance, TimeSpan.FromSeconds(5));
        Assert.All(transport.Sent, s => Assert.Equal(status.Cookie, s.Announce.Cookie));
        Assert.All(transport.Sent, s => Assert.InRange(s.Announce.Port, 1, 65535));
        Assert.Equal(1, status.Torrents);
    }

    [Fact]
    public async Task A_peer_heard_for_a_public_torrent_is_dialled_and_one_heard_for_a_private_torrent_is_not()
    {
        var transport = new ScriptedLsdTransport();
        var session = Start(transport);
        var (secret, secretHash) = Secret();
        var (open, openInfo, _) = SessionTorrents.Make(43);
        await SessionTorrents.AddAsync(session, secret);
        await SessionTorrents.AddAsync(session, open);
        await AwaitConditionAsync(() => Task.FromResult(!transport.Sent.IsEmpty), TimeSpan.FromSeconds(15));
        using var openPeer = new TcpListener(IPAddress.Loopback, 0);
        using var secretPeer = new TcpListener(IPAddress.Loopback, 0);
        openPeer.Start();
        secretPeer.Start();

        var from = IPEndPoint.Parse("127.0.0.1:6771");
        transport.Deliver(LsdMessage.Format(((IPEndPoint)secretPeer.LocalEndpoint).Port, [secretHash], "51"), from);
        transport.Deliver(LsdMessage.Format(((IPEndPoint)openPeer.LocalEndpoint).Port, [openInfo.InfoHash], "51"), from);

        using var accepted = await openPeer.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(accepted.Connected);
        await Task.Delay(1000);
        Assert.False(secretPeer.Pending(), "the private torrent dialled a peer heard through LSD");
    }

    [Fact]
    public async Task Under_loopback_only_on_this_host_the_real_socket_stays_shut_and_the_session_says_why()
    {
        var settings = SessionTorrents.Settings("bta.dht.enabled = false");
        Assert.True(settings.Session.LoopbackOnly);
        var expected = LsdGuard.Refusal(true);
        Assert.True(expected is not null, "this test host has nothing but loopback up: the refusal cannot be shown here");

        var session = EventFilter.Debug(contains: "LSD off: bta.session.loopback-only is on")
            .ExpectOne(TimeSpan.FromSeconds(10), () => SessionTorrents.Start(this, settings, null, Downloads.Path));

        var off = await session.Ask<TorrentSessionActor.LsdOff>(TorrentSessionActor.GetLsdStatus.Instance, TimeSpan.FromSeconds(5));
        Assert.Equal(expected, off.Reason);
    }

    [Fact]
    public async Task With_lsd_off_the_session_says_so_and_session_get_reports_it()
    {
        var transport = new ScriptedLsdTransport();
        var session = Start(transport, "bta.lsd.enabled = false");

        var off = await session.Ask<TorrentSessionActor.LsdOff>(TorrentSessionActor.GetLsdStatus.Instance, TimeSpan.FromSeconds(5));
        Assert.Contains("bta.lsd.enabled", off.Reason);
        Assert.False(transport.Started);
        var snapshot = await session.Ask<SessionSettingsSnapshot>(TorrentSessionActor.GetSessionSettings.Instance, TimeSpan.FromSeconds(5));
        Assert.False(snapshot.LsdEnabled);
        var on = Start(new ScriptedLsdTransport());
        Assert.True((await on.Ask<SessionSettingsSnapshot>(TorrentSessionActor.GetSessionSettings.Instance, TimeSpan.FromSeconds(5))).LsdEnabled);
    }
}
