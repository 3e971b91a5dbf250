using System.Net;
using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Metadata;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Engine.Tests.Session.SessionTorrents;

namespace BitTorrentActors.Engine.Tests.Session;

/// <summary>A torrent has a magnet before it has metadata: the session adds, lists, persists, restarts, stops and
/// removes a magnet, runs a metadata fetcher in the coordinator's place (a scripted one here: the real one is
/// proved end to end in Interop/MagnetDownloadTests), and switches to downloading when the metadata arrives.</summary>
public sealed class MagnetSessionTests() : SessionTestKit()
{
    [Fact]
    public async Task A_magnet_is_listed_by_its_dn_with_no_size_while_it_fetches_and_its_hash_is_a_duplicate()
    {
        var (torrent, metainfo, _) = Make(1);
        var (session, fetchers) = StartWithFetchers(null);

        var added = await AddMagnetAsync(session, Magnet(metainfo, "dn=My%20Show%2F..%2Fetc&x.pe=127.0.0.1:6881"));

        Assert.Equal((1, metainfo.InfoHash, "My Show_.._etc", false), (added.Id, added.InfoHash, added.Name, added.Duplicate));
        var created = await fetchers.ExpectMsgAsync<ScriptedFetcher.Created>();
        Assert.Equal(metainfo.InfoHash, created.Context.InfoHash);
        Assert.Equal(["127.0.0.1:6881"], created.Context.Link.Peers);
        // The session's listener, for peers that connect to us for the magnet while it fetches.
        Assert.Equal("listener", created.Context.Listener?.Path.Name);
        var status = await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.FetchingMetadata);
        Assert.Equal((0L, 0, 0.0, 0.0), (status.TotalSize, status.PieceCount, status.MetadataPercentComplete, status.PercentDone));
        Assert.Equal(4, status.Activity.TransmissionStatus());
        var details = Assert.Single((await session.Ask<TorrentSessionActor.TorrentDetailsList>(
            new TorrentSessionActor.GetTorrentDetails(), TimeSpan.FromSeconds(5))).Torrents);
        Assert.Empty(details.Files);
        Assert.StartsWith($"magnet:?xt=urn:btih:{metainfo.InfoHash.ToHex()}", details.MagnetLink);

        var again = await AddMagnetAsync(session, Magnet(metainfo, ""));
        var asTorrent = await AddAsync(session, torrent);

        Assert.Equal((true, 1, "My Show_.._etc"), (again.Duplicate, again.Id, again.Name));
        Assert.Equal((true, 1), (asTorrent.Duplicate, asTorrent.Id));
        Assert.Single(await ListAsync(session));
    }

    [Fact]
    public async Task A_magnet_without_dn_is_named_by_its_hash_and_bad_or_v2_only_magnets_are_refused_in_one_line()
    {
        var metainfo = Make(2).Metainfo;
        var (session, _) = StartWithFetchers(null);

        var added = await AddMagnetAsync(session, Magnet(metainfo, ""));
        var v2 = await RefusedAsync(session, "magnet:?xt=urn:btmh:1220" + new string('a', 64));
        var noHash = await RefusedAsync(session, "magnet:?dn=nothing");
        var badHash = await RefusedAsync(session, "magnet:?xt=urn:btih:1234");
        var huge = await RefusedAsync(session, Magnet(metainfo, "dn=" + new string('x', 70_000)));

        Assert.Equal(metainfo.InfoHash.ToHex(), added.Name);
        Assert.Contains("v2-only", v2);
        Assert.Contains("missing xt=urn:btih", noHash);
        Assert.Contains("40 hex or 32 base32", badHash);
        Assert.Contains("longer than", huge);
        Assert.All(new[] { v2, noHash, badHash, huge }, r => Assert.DoesNotContain('\n', r));
        Assert.Single(await ListAsync(session));
    }

    [Fact]
    public async Task Progress_and_peers_go_through_the_fetcher_and_the_metadata_switches_the_torrent_to_a_coordinator()
    {
        var (torrent, metainfo, content) = Make(3);
        LayDown(Downloads, metainfo, content);
        using var state = new TempDirectory("bta-state");
        var (session, fetchers) = StartWithFetchers(state.Path);
        var events = CreateTestProbe();
        await session.Ask<TorrentSessionActor.Subscribed>(new TorrentSessionActor.Subscribe(events.Ref), TimeSpan.FromSeconds(5));
        await AddMagnetAsync(session, Magnet(metainfo, "dn=three"));
        var fetcher = (await fetchers.ExpectMsgAsync<ScriptedFetcher.Created>()).Self;
        var magnetFile = Path.Combine(state.Path, "torrents", metainfo.InfoHash.ToHex() + ".magnet");
        await AwaitAssertAsync(() => Assert.True(File.Exists(magnetFile)));

        var peer = new IPEndPoint(IPAddress.Loopback, 51413);
        session.Tell(new TorrentSessionActor.AddPeers(metainfo.InfoHash, [peer], PeerSource.Pex));
        var discovered = await fetchers.ExpectMsgAsync<TorrentCoordinator.PeersDiscovered>();
        Assert.Equal((PeerSource.Pex, peer), (discovered.Source, Assert.Single(discovered.Peers)));

        fetcher.Tell(new ScriptedFetcher.Say(new MetadataFetcherActor.FetchProgress(metainfo.InfoHash, 3, 2, 1, 2)));
        var fetching = await WaitForAsync(session, metainfo.InfoHash, s => s.MetadataPercentComplete > 0);
        Assert.Equal((0.5, 3, 2), (fetching.MetadataPercentComplete, fetching.ConnectedPeers, fetching.MetadataPeersOffering));
        await events.FishForMessageAsync(m => m is TorrentSessionActor.TorrentMetadataProgress { PeersOffering: 2 });

        fetcher.Tell(new ScriptedFetcher.Say(new MetadataFetcherActor.MetadataFetched(metainfo.InfoHash, torrent, metainfo, [peer])));

        var received = await events.FishForMessageAsync<TorrentSessionActor.TorrentMetadataReceived>(_ => true);
        // The coordinator waits until the fetcher's connections are closed and a peer has seen it (Transmission
        // refuses a second connection from one address), about a second.
        var handover = System.Diagnostics.Stopwatch.StartNew();
        while (handover.ElapsedMilliseconds < 500)
        {
            Assert.Equal(TorrentActivity.QueuedToCheck, (await StatusAsync(session, metainfo.InfoHash)).Activity);
            await Task.Delay(20);
        }
        Assert.Equal((metainfo.Name, metainfo.TotalLength, metainfo.PieceCount), (received.Name, received.TotalSize, received.PieceCount));
        var seeding = await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.Seeding);
        Assert.Equal((metainfo.Name, metainfo.TotalLength, 1.0, 1.0), (seeding.Name, seeding.TotalSize, seeding.MetadataPercentComplete, seeding.PercentDone));
        var torrentFile = Path.Combine(state.Path, "torrents", metainfo.InfoHash.ToHex() + ".torrent");
        await AwaitAssertAsync(() =>
        {
            Assert.Equal(torrent, File.ReadAllBytes(torrentFile));
            Assert.False(File.Exists(magnetFile));
        });
        // The torrent is not known as "stopped unexpectedly" when its fetcher ends after the handover.
        await Task.Delay(300);
        Assert.Null((await StatusAsync(session, metainfo.InfoHash)).Error);
    }

    [Fact]
    public async Task A_restarted_session_goes_on_fetching_a_magnet_and_never_fetches_a_fetched_one_again()
    {
        var (torrent, metainfo, content) = Make(4);
        var (_, otherInfo, _) = Make(5);
        LayDown(Downloads, metainfo, content);
        using var state = new TempDirectory("bta-state");
        var (first, fetchers) = StartWithFetchers(state.Path);
        await AddMagnetAsync(first, Magnet(metainfo, "dn=four&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce"));
        await AddMagnetAsync(first, Magnet(otherInfo, "dn=five"), new AddTorrentOptions(Paused: true));
        await fetchers.ExpectMsgAsync<ScriptedFetcher.Created>();
        await ShutdownSessionAsync(first);
        await StopAndWaitAsync(first);

        var (second, refetchers) = StartWithFetchers(state.Path);

        var list = await ListAsync(second);
        Assert.Equal([(1, "four"), (2, "five")], list.Select(s => (s.Id, s.Name)));
        Assert.Equal(TorrentActivity.Stopped, list[1].Activity);
        var again = await refetchers.ExpectMsgAsync<ScriptedFetcher.Created>();
        Assert.Equal((metainfo.InfoHash, "http://127.0.0.1:1/announce"), (again.Context.InfoHash, Assert.Single(again.Context.Link.Trackers)));
        again.Self.Tell(new ScriptedFetcher.Say(new MetadataFetcherActor.MetadataFetched(metainfo.InfoHash, torrent, metainfo, [])));
        await WaitForAsync(second, metainfo.InfoHash, s => s.Activity == TorrentActivity.Seeding);
        await ShutdownSessionAsync(second);
        await StopAndWaitAsync(second);

        var (third, none) = StartWithFetchers(state.Path);

        await WaitForAsync(third, metainfo.InfoHash, s => s.Activity == TorrentActivity.Seeding);
        Assert.Equal(metainfo.Name, (await StatusAsync(third, metainfo.InfoHash)).Name);
        await none.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Assert.Equal(3, (await AddAsync(third, Make(6).Torrent)).Id);
    }

    [Fact]
    public async Task Stop_and_remove_send_StopFetching_and_remove_forgets_the_magnet_file()
    {
        var metainfo = Make(7).Metainfo;
        using var state = new TempDirectory("bta-state");
        var (session, fetchers) = StartWithFetchers(state.Path);
        await AddMagnetAsync(session, Magnet(metainfo, "dn=seven"));
        await fetchers.ExpectMsgAsync<ScriptedFetcher.Created>();

        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.StopTorrent(metainfo.InfoHash), TimeSpan.FromSeconds(5));

        Assert.Equal(metainfo.InfoHash, (await fetchers.ExpectMsgAsync<MetadataFetcherActor.StopFetching>()).InfoHash);
        var stopped = await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.Stopped);
        Assert.Null(stopped.Error);

        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.StartTorrent(metainfo.InfoHash), TimeSpan.FromSeconds(5));
        await fetchers.ExpectMsgAsync<ScriptedFetcher.Created>();
        await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.FetchingMetadata);
        await session.Ask<TorrentSessionActor.CommandDone>(new TorrentSessionActor.RemoveTorrent(metainfo.InfoHash, DeleteData: true), TimeSpan.FromSeconds(5));

        await fetchers.ExpectMsgAsync<MetadataFetcherActor.StopFetching>();
        await AwaitAssertAsync(async () => Assert.Empty(await ListAsync(session)));
        var torrents = Path.Combine(state.Path, "torrents");
        await AwaitAssertAsync(() => Assert.Empty(Directory.EnumerateFiles(torrents)));
    }

    [Fact]
    public async Task A_metadata_failure_is_the_torrents_error_in_one_line()
    {
        var metainfo = Make(8).Metainfo;
        var (session, fetchers) = StartWithFetchers(null);
        await AddMagnetAsync(session, Magnet(metainfo, "dn=eight"));
        var fetcher = (await fetchers.ExpectMsgAsync<ScriptedFetcher.Created>()).Self;

        fetcher.Tell(new ScriptedFetcher.Say(new MetadataFetcherActor.MetadataFailed(metainfo.InfoHash, "the info dictionary has no pieces\nat all")));

        var failed = await WaitForAsync(session, metainfo.InfoHash, s => s.Activity == TorrentActivity.Failed);
        Assert.Equal("metadata: the info dictionary has no pieces at all", failed.Error);
    }

    private static string Magnet(TorrentMetainfo metainfo, string rest) =>
        $"magnet:?xt=urn:btih:{metainfo.InfoHash.ToHex()}" + (rest.Length > 0 ? "&" + rest : "");

    private static async Task<TorrentSessionActor.TorrentAdded> AddMagnetAsync(IActorRef session, string uri, AddTorrentOptions? options = null) =>
        Assert.IsType<TorrentSessionActor.TorrentAdded>(
            await session.Ask(new TorrentSessionActor.AddMagnet(uri, options ?? AddTorrentOptions.Default), TimeSpan.FromSeconds(10)));

    private static async Task<string> RefusedAsync(IActorRef session, string uri) =>
        Assert.IsType<TorrentSessionActor.CommandRefused>(
            await session.Ask(new TorrentSessionActor.AddMagnet(uri, AddTorrentOptions.Default), TimeSpan.FromSeconds(10))).Reason;

    /// <summary>A session whose metadata fetchers are <see cref="ScriptedFetcher"/>s reporting to the probe.</summary>
    private (IActorRef Session, TestProbe Fetchers) StartWithFetchers(string? stateDir)
    {
        var probe = CreateTestProbe();
        var session = Sys.ActorOf(TorrentSessionActor.Props(Settings(), new SessionOptions(stateDir, Downloads.Path),
            fetcher: (context, owner) => ScriptedFetcher.Props(context, owner, probe.Ref)));
        return (session, probe);
    }

    private async Task StopAndWaitAsync(IActorRef actor)
    {
        var watcher = CreateTestProbe();
        watcher.Watch(actor);
        Sys.Stop(actor);
        await watcher.ExpectTerminatedAsync(actor, TimeSpan.FromSeconds(10));
    }

    /// <summary>Stands in for the MetadataFetcherActor: tells the probe it exists, forwards what it is sent, says
    /// to its owner what the test tells it to, and stops as the real one does (on StopFetching, after the
    /// metadata or a failure).</summary>
    private sealed class ScriptedFetcher : ReceiveActor
    {
        public sealed record Created(IActorRef Self, MagnetContext Context);

        public sealed record Say(object Message);

        public ScriptedFetcher(MagnetContext context, IActorRef owner, IActorRef probe)
        {
            probe.Tell(new Created(Self, context));
            Receive<Say>(m =>
            {
                owner.Tell(m.Message);
                if (m.Message is MetadataFetcherActor.MetadataFetched or MetadataFetcherActor.MetadataFailed)
                {
                    Context.Stop(Self);
                }
            });
            Receive<MetadataFetcherActor.StopFetching>(m =>
            {
                probe.Forward(m);
                Context.Stop(Self);
            });
            ReceiveAny(m => probe.Forward(m));
        }

        public static Props Props(MagnetContext context, IActorRef owner, IActorRef probe) =>
            Akka.Actor.Props.Create(() => new ScriptedFetcher(context, owner, probe));
    }
}
