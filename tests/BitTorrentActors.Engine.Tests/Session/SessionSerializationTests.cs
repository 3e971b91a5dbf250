using Akka.Actor;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.TestSupport;
using static BitTorrentActors.Engine.Tests.Session.SessionTorrents;

namespace BitTorrentActors.Engine.Tests.Session;

/// <summary>
/// With <c>serialize-messages = on</c> Akka serialises and deserialises every message sent: the session's
/// protocol, the coordinator's and its children's must survive that (what a cluster will ask of them), except the
/// messages marked <c>INoSerializationVerificationNeeded</c> because they carry local-only objects.
/// </summary>
public sealed class SessionSerializationTests() : SessionTestKit("akka.actor.serialize-messages = on")
{
    [Fact]
    public async Task A_session_adds_checks_seeds_lists_stops_and_removes_with_every_message_serialised()
    {
        var (torrent, metainfo, content) = Make(50);
        LayDown(Downloads, metainfo, content);
        var session = Start(this, Settings(), null, Downloads.Path);
        var events = CreateTestProbe();
        await session.Ask<TorrentSessionActor.Subscribed>(new TorrentSessionActor.Subscribe(events.Ref), TimeSpan.FromSeconds(5));

        await AddAsync(session, torrent);
        var seeding = await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.Seeding);
        await events.FishForMessageAsync(m => m is TorrentSessionActor.TorrentProgress p && p.Progress.VerifiedPieces == metainfo.PieceCount);
        var details = await session.Ask<TorrentSessionActor.TorrentDetailsList>(new TorrentSessionActor.GetTorrentDetails(), TimeSpan.FromSeconds(5));
        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.StopTorrent(metainfo.InfoHash), TimeSpan.FromSeconds(5));
        await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.Stopped);
        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.RemoveTorrent(metainfo.InfoHash), TimeSpan.FromSeconds(5));

        Assert.Equal(metainfo.PieceCount, seeding.VerifiedPieces);
        Assert.Equal(metainfo.Files[0].Path, Assert.Single(Assert.Single(details.Torrents).Files).Path);
        Assert.Empty(await ListAsync(session));
    }
}
