using Akka.Actor;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Engine.Tests.Session.SessionTorrents;

namespace BitTorrentActors.Engine.Tests.Session;

/// <summary>The session protocol over real coordinators (no tracker, no peers): add, duplicate, list, status,
/// stop, start, verify, remove with data, the queue, routing by info-hash and isolation of a failing torrent.</summary>
public sealed class TorrentSessionActorTests() : SessionTestKit()
{

    [Fact]
    public async Task A_torrent_with_its_data_present_is_added_checked_and_seeded()
    {
        var (torrent, metainfo, content) = Make(1);
        LayDown(Downloads, metainfo, content);
        var session = Start(this, Settings(), null, Downloads.Path);

        var added = await AddAsync(session, torrent);

        Assert.Equal((1, metainfo.InfoHash, metainfo.Name, false), (added.Id, added.InfoHash, added.Name, added.Duplicate));
        var seeding = await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.Seeding);
        Assert.Equal(1.0, seeding.PercentDone);
        Assert.Equal(metainfo.PieceCount, seeding.VerifiedPieces);
        Assert.Equal(Downloads.Path, seeding.DownloadDirectory);
    }

    [Fact]
    public async Task A_second_add_of_the_same_torrent_is_a_duplicate_and_bad_bytes_are_refused()
    {
        var (torrent, metainfo, _) = Make(2);
        var session = Start(this, Settings(), null, Downloads.Path);
        var first = await AddAsync(session, torrent);

        var again = await AddAsync(session, torrent);
        var bogus = await session.Ask(new TorrentSessionActor.AddTorrent("d4:infoe"u8.ToArray(), AddTorrentOptions.Default), TimeSpan.FromSeconds(5));

        Assert.True(again.Duplicate);
        Assert.Equal(first.Id, again.Id);
        Assert.Contains("invalid or corrupt torrent", Assert.IsType<TorrentSessionActor.CommandRefused>(bogus).Reason);
        Assert.Single(await ListAsync(session));
        Assert.Equal(metainfo.InfoHash, (await ListAsync(session))[0].InfoHash);
    }

    [Fact]
    public async Task Commands_for_an_unknown_info_hash_are_refused_and_reach_no_other_torrent()
    {
        var (torrent, metainfo, content) = Make(3);
        LayDown(Downloads, metainfo, content);
        var session = Start(this, Settings(), null, Downloads.Path);
        await AddAsync(session, torrent);
        await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.Seeding);
        var unknown = Make(99).Metainfo.InfoHash;

        var reply = await session.Ask(new TorrentSessionActor.StopTorrent(unknown), TimeSpan.FromSeconds(5));

        Assert.Contains(unknown.ToHex(), Assert.IsType<TorrentSessionActor.CommandRefused>(reply).Reason);
        Assert.Equal(TorrentActivity.Seeding, (await StatusAsync(session, metainfo.InfoHash)).Activity);
        Assert.Empty((await session.Ask<TorrentSessionActor.TorrentList>(new TorrentSessionActor.ListTorrents([unknown]), TimeSpan.FromSeconds(5))).Torrents);
    }

    [Fact]
    public async Task Stop_pauses_the_torrent_and_start_runs_it_again()
    {
        var (session, metainfo, events) = await SeedingSessionAsync(4);

        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.StopTorrent(metainfo.InfoHash), TimeSpan.FromSeconds(5));

        await events.FishForMessageAsync(m => m is TorrentSessionActor.TorrentStopped s && s.InfoHash == metainfo.InfoHash);
        var stopped = await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.Stopped);
        Assert.Equal(0, stopped.ConnectedPeers);

        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.StartTorrent(metainfo.InfoHash), TimeSpan.FromSeconds(5));

        await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.Seeding);
    }

    [Fact]
    public async Task The_queue_runs_max_activeDownloads_and_starts_the_next_when_one_stops()
    {
        var torrents = Enumerable.Range(10, 3).Select(seed => Make(seed)).ToList();
        var session = Start(this, Settings("bta.session.max-active-downloads = 1"), null, Downloads.Path);
        foreach (var (torrent, _, _) in torrents)
        {
            await AddAsync(session, torrent);
        }
        var (a, b, c) = (torrents[0].Metainfo.InfoHash, torrents[1].Metainfo.InfoHash, torrents[2].Metainfo.InfoHash);

        await WaitForAsync(session, a, s => s.Activity == TorrentActivity.Downloading);
        Assert.Equal(TorrentActivity.QueuedToDownload, (await StatusAsync(session, b)).Activity);
        Assert.Equal(TorrentActivity.QueuedToDownload, (await StatusAsync(session, c)).Activity);
        Assert.Equal([0, 1, 2], (await ListAsync(session)).Select(s => s.QueuePosition));

        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.StopTorrent(a), TimeSpan.FromSeconds(5));

        await WaitForAsync(session, b, s => s.Activity == TorrentActivity.Downloading);
        Assert.Equal(TorrentActivity.Stopped, (await StatusAsync(session, a)).Activity);
        Assert.Equal(TorrentActivity.QueuedToDownload, (await StatusAsync(session, c)).Activity);

        // torrent-start-now: past the queue.
        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.StartTorrent(c, Now: true), TimeSpan.FromSeconds(5));
        await WaitForAsync(session, c, s => s.Activity == TorrentActivity.Downloading);
        Assert.Equal(TorrentActivity.Downloading, (await StatusAsync(session, b)).Activity);
    }

    [Fact]
    public async Task Remove_with_data_deletes_the_files_and_the_resume_data_and_forgets_the_torrent()
    {
        var (session, metainfo, events) = await SeedingSessionAsync(5);
        var dataFile = Downloads.File(metainfo.Files[0].Path);
        Assert.True(File.Exists(dataFile));

        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.RemoveTorrent(metainfo.InfoHash, DeleteData: true), TimeSpan.FromSeconds(5));

        await events.FishForMessageAsync(m => m is TorrentSessionActor.TorrentRemoved r && r.InfoHash == metainfo.InfoHash);
        await AwaitAssertAsync(() =>
        {
            Assert.False(File.Exists(dataFile));
            Assert.False(File.Exists(Engine.Storage.ResumeStore.PathFor(Downloads.Path, metainfo.InfoHash)));
        }, TimeSpan.FromSeconds(5));
        Assert.Empty(await ListAsync(session));
    }

    [Fact]
    public async Task Verify_rechecks_the_data_and_finds_a_damaged_piece()
    {
        var (torrent, metainfo, content) = Make(6);
        LayDown(Downloads, metainfo, content);
        var session = Start(this, Settings(), null, Downloads.Path);
        await AddAsync(session, torrent);
        await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.Seeding);
        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.StopTorrent(metainfo.InfoHash), TimeSpan.FromSeconds(5));
        await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.Stopped);
        // Damage the first piece behind the session's back: only a full check can see it.
        using (var file = new FileStream(Downloads.File(metainfo.Files[0].Path), FileMode.Open))
        {
            file.WriteByte((byte)(content[0] ^ 0xff));
        }

        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.VerifyTorrent(metainfo.InfoHash), TimeSpan.FromSeconds(5));

        // A paused torrent is checked and stays paused (as Transmission does).
        var checkedStatus = await WaitForAsync(session, metainfo.InfoHash,
            s => s.Activity == TorrentActivity.Stopped && s.VerifiedPieces == metainfo.PieceCount - 1);
        Assert.True(checkedStatus.LeftUntilDone > 0);
    }

    [Fact]
    public async Task Unwanted_files_do_not_count_toward_the_size_when_done()
    {
        var first = TestTorrents.Content(32 * 1024, 7);
        var second = TestTorrents.Content(32 * 1024, 8);
        var bytes = TestTorrents.Bytes(16 * 1024, null, [("a.bin", first), ("b.bin", second)], "pair");
        var metainfo = TorrentMetainfo.Parse(bytes).Metainfo!;
        var session = Start(this, Settings(), null, Downloads.Path);
        var files = FileSelection.All(2).WithWanted([1], false);

        await AddAsync(session, bytes, new AddTorrentOptions(Paused: true, Files: files));

        var status = await StatusAsync(session, metainfo.InfoHash);
        Assert.Equal(32 * 1024, status.WantedBytes);
        var details = Assert.Single((await session.Ask<TorrentSessionActor.TorrentDetailsList>(
            new TorrentSessionActor.GetTorrentDetails([metainfo.InfoHash]), TimeSpan.FromSeconds(5))).Torrents);
        Assert.Equal([true, false], details.Files.Select(f => f.Wanted));
        Assert.Equal(["pair/a.bin", "pair/b.bin"], details.Files.Select(f => f.Path));
    }

    [Fact]
    public async Task A_torrent_whose_coordinator_fails_is_marked_failed_and_the_others_go_on()
    {
        var (good, goodInfo, goodContent) = Make(20);
        var (bad, badInfo, _) = Make(21);
        LayDown(Downloads, goodInfo, goodContent);
        var real = TorrentParts.Real;
        // The bad torrent's writer dies at once: its coordinator fails the torrent.
        var parts = real with
        {
            Writer = (context, coordinator) => context.InfoHash == badInfo.InfoHash
                ? Props.Create(() => new CrashingActor())
                : real.Writer(context, coordinator),
        };
        var session = Start(this, Settings(), null, Downloads.Path, parts);

        await AddAsync(session, good);
        await AddAsync(session, bad);

        var failed = await WaitForAsync(session, badInfo.InfoHash, s => s.Activity == TorrentActivity.Failed);
        Assert.False(string.IsNullOrEmpty(failed.Error));
        await WaitForAsync(session, goodInfo.InfoHash, s => s.Activity == TorrentActivity.Seeding);
        Assert.Equal(2, (await ListAsync(session)).Count);
    }

    [Fact]
    public async Task The_list_survives_a_restart_with_ids_paused_flags_and_progress()
    {
        using var state = new TempDirectory("bta-state");
        var (a, aInfo, aContent) = Make(30);
        var (b, bInfo, _) = Make(31);
        LayDown(Downloads, aInfo, aContent);
        var settings = Settings();
        var first = Start(this, settings, state.Path, Downloads.Path);
        await AddAsync(first, a);
        await AddAsync(first, b, new AddTorrentOptions(Paused: true));
        await WaitForAsync(first, aInfo.InfoHash, s => s.Activity == TorrentActivity.Seeding);
        await ShutdownSessionAsync(first);
        await StopAndWaitAsync(first);

        var second = Start(this, settings, state.Path, Downloads.Path);

        var list = await ListAsync(second);
        Assert.Equal([(1, aInfo.InfoHash), (2, bInfo.InfoHash)], list.Select(s => (s.Id, s.InfoHash)));
        Assert.Equal(TorrentActivity.Stopped, list[1].Activity);
        await WaitForAsync(second, aInfo.InfoHash, s => s.Activity == TorrentActivity.Seeding);
        var c = Make(32);
        Assert.Equal(3, (await AddAsync(second, c.Torrent)).Id);
    }

    [Fact]
    public async Task A_corrupt_state_file_loses_that_torrent_only()
    {
        using var state = new TempDirectory("bta-state");
        var (a, aInfo, _) = Make(40);
        var (b, bInfo, _) = Make(41);
        var settings = Settings();
        var first = Start(this, settings, state.Path, Downloads.Path);
        await AddAsync(first, a, new AddTorrentOptions(Paused: true));
        await AddAsync(first, b, new AddTorrentOptions(Paused: true));
        await ShutdownSessionAsync(first);
        await StopAndWaitAsync(first);
        File.WriteAllText(Path.Combine(state.Path, "torrents", aInfo.InfoHash.ToHex() + ".json"), "{ not json");

        var second = Start(this, settings, state.Path, Downloads.Path);

        var list = await ListAsync(second);
        Assert.Equal(bInfo.InfoHash, Assert.Single(list).InfoHash);
    }

    /// <summary>A session seeding one complete torrent, with a probe subscribed to its events.</summary>
    private async Task<(IActorRef Session, TorrentMetainfo Metainfo, Akka.TestKit.TestProbe Events)> SeedingSessionAsync(int seed)
    {
        var (torrent, metainfo, content) = Make(seed);
        LayDown(Downloads, metainfo, content);
        var session = Start(this, Settings(), null, Downloads.Path);
        var events = CreateTestProbe();
        await session.Ask<TorrentSessionActor.Subscribed>(new TorrentSessionActor.Subscribe(events.Ref), TimeSpan.FromSeconds(5));
        await AddAsync(session, torrent);
        await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.Seeding);
        return (session, metainfo, events);
    }

    private async Task StopAndWaitAsync(IActorRef actor)
    {
        var watcher = CreateTestProbe();
        watcher.Watch(actor);
        Sys.Stop(actor);
        await watcher.ExpectTerminatedAsync(actor, TimeSpan.FromSeconds(10));
    }

    private sealed class CrashingActor : ReceiveActor
    {
        public CrashingActor() => ReceiveAny(_ => throw new InvalidOperationException("disk on fire (test)"));
    }
}
