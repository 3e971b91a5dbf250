using Akka.Actor;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Tests.Interop;
using static BitTorrentActors.Engine.Tests.Session.SessionTorrents;

namespace BitTorrentActors.Engine.Tests.Session;

/// <summary>
/// The session in cluster mode (<see cref="SessionOptions.Sharded"/>): torrents restored from the state folder are
/// parked (neither run nor listed nor commanded) until an add claims them, as a torrent's shard entity does when
/// it lives on this node; a park (the entity's handoff) stops a running torrent first (stopped, resume saved) and
/// keeps it in the state folder.
/// </summary>
public sealed class ShardedSessionTests : SessionTestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TempDirectory _state = new("bta-sharded-state");

    [Fact]
    public async Task A_stored_torrent_stays_parked_until_an_add_claims_it_paused_or_not_as_the_add_says()
    {
        var (torrent, metainfo, _) = Make(71);
        var (other, otherMetainfo, _) = Make(74);
        var first = Start(this, Settings(), _state.Path, Downloads.Path);
        var added = await AddAsync(first, torrent, new AddTorrentOptions(Paused: true));
        await AddAsync(first, other, new AddTorrentOptions(Paused: true));
        await StopAsync(first);

        var session = StartSharded();
        Assert.Empty(await ListAsync(session));
        var parked = (await session.Ask<TorrentSessionActor.ParkedTorrents>(TorrentSessionActor.ListParked.Instance, Wait)).Torrents;
        Assert.Equal([metainfo.InfoHash, otherMetainfo.InfoHash], parked.Select(p => p.InfoHash));
        Assert.Equal(torrent, parked[0].Metainfo);
        Assert.True(parked[0].Paused);
        Assert.IsType<TorrentSessionActor.CommandRefused>(await session.Ask(new TorrentSessionActor.StartTorrent(metainfo.InfoHash), Wait));

        var claimed = await AddAsync(session, torrent, new AddTorrentOptions(Paused: true));
        await AddAsync(session, other, new AddTorrentOptions(Paused: false));

        Assert.False(claimed.Duplicate);
        Assert.Equal(added.Id, claimed.Id);
        Assert.Equal(TorrentActivity.Stopped, (await StatusAsync(session, metainfo.InfoHash)).Activity);
        // Started elsewhere while this node kept it paused: the add (the cluster's word) wins.
        Assert.NotEqual(TorrentActivity.Stopped, (await StatusAsync(session, otherMetainfo.InfoHash)).Activity);
        Assert.True((await AddAsync(session, torrent)).Duplicate);
        Assert.Empty((await session.Ask<TorrentSessionActor.ParkedTorrents>(TorrentSessionActor.ListParked.Instance, Wait)).Torrents);
    }

    [Fact]
    public async Task Parking_a_seeding_torrent_stops_it_and_saves_its_resume_before_answering_and_keeps_it_stored()
    {
        var (torrent, metainfo, content) = Make(72);
        LayDown(Downloads, metainfo, content);
        var session = StartSharded();
        var events = CreateTestProbe();
        await session.Ask<TorrentSessionActor.Subscribed>(new TorrentSessionActor.Subscribe(events.Ref), Wait);
        await AddAsync(session, torrent);
        await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.Seeding);

        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.ParkTorrent(metainfo.InfoHash), Wait);

        await events.FishForMessageAsync(m => m is TorrentSessionActor.TorrentStopped s && s.InfoHash == metainfo.InfoHash, Wait);
        Assert.True(File.Exists(ResumeStore.PathFor(Downloads.Path, metainfo.InfoHash)), "no resume file after the park");
        Assert.Empty(await ListAsync(session));
        Assert.Single((await session.Ask<TorrentSessionActor.ParkedTorrents>(TorrentSessionActor.ListParked.Instance, Wait)).Torrents);
        Assert.True(File.Exists(Path.Combine(_state.Path, "torrents", metainfo.InfoHash.ToHex() + ".torrent")));
        // A park of a torrent the session does not have answers at once (an entity handing off a removed one).
        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.ParkTorrent(Make(73).Metainfo.InfoHash), Wait);
    }

    private IActorRef StartSharded() =>
        Sys.ActorOf(TorrentSessionActor.Props(Settings(), new SessionOptions(_state.Path, Downloads.Path) { Sharded = true }));

    private async Task StopAsync(IActorRef session)
    {
        await ShutdownSessionAsync(session);
        Watch(session);
        Sys.Stop(session);
        await ExpectTerminatedAsync(session);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _state.Dispose();
        }
    }
}
