using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Session;

/// <summary>Torrents for session tests: each one a fresh single-file torrent with no tracker, its content
/// either laid down in the download folder (complete: it checks and seeds) or absent (it waits for peers).</summary>
internal static class SessionTorrents
{
    /// <summary>Session settings for tests: loopback only, no listener port clash (port 0), short intervals.</summary>
    public const string Overrides =
        "bta.listen-port = 0, bta.listen-address = \"127.0.0.1\", bta.session.loopback-only = true, "
        + "bta.progress-interval = 100ms, bta.resume.save-interval = 1s";

    public static BtaSettings Settings(string extra = "") => TestTorrents.Settings(Overrides + "\n" + extra);

    /// <summary>A torrent of <paramref name="size"/> random bytes (seeded by <paramref name="seed"/>): its .torrent
    /// bytes, its metainfo, and its content.</summary>
    public static (byte[] Torrent, TorrentMetainfo Metainfo, byte[] Content) Make(int seed, int size = 40_000, string? name = null)
    {
        var content = TestTorrents.Content(size, seed);
        var fileName = name ?? $"file-{seed}.bin";
        var bytes = TestTorrents.Bytes(16 * 1024, null, [(fileName, content)], fileName);
        var metainfo = TorrentMetainfo.Parse(bytes).Metainfo!;
        return (bytes, metainfo, content);
    }

    /// <summary>Writes the content where the torrent expects it, so the check finds it complete.</summary>
    public static void LayDown(TempDirectory folder, TorrentMetainfo metainfo, byte[] content) =>
        File.WriteAllBytes(folder.File(metainfo.Files[0].Path), content);

    public static IActorRef Start(TestKitBase kit, BtaSettings settings, string? stateDir, string downloadDir, TorrentParts? parts = null) =>
        kit.Sys.ActorOf(TorrentSessionActor.Props(settings, new SessionOptions(stateDir, downloadDir), parts));

    public static async Task<TorrentSessionActor.TorrentAdded> AddAsync(IActorRef session, byte[] torrent, AddTorrentOptions? options = null) =>
        Assert.IsType<TorrentSessionActor.TorrentAdded>(
            await session.Ask(new TorrentSessionActor.AddTorrent(torrent, options ?? AddTorrentOptions.Default), TimeSpan.FromSeconds(10)));

    public static async Task<IReadOnlyList<TorrentStatus>> ListAsync(IActorRef session) =>
        (await session.Ask<TorrentSessionActor.TorrentList>(new TorrentSessionActor.ListTorrents(), TimeSpan.FromSeconds(10))).Torrents;

    public static async Task<TorrentStatus> StatusAsync(IActorRef session, InfoHash infoHash) =>
        Assert.Single((await session.Ask<TorrentSessionActor.TorrentList>(
            new TorrentSessionActor.ListTorrents(new[] { infoHash }), TimeSpan.FromSeconds(10))).Torrents);

    /// <summary>Polls the torrent's status until <paramref name="condition"/> holds (bounded).</summary>
    public static async Task<TorrentStatus> WaitForAsync(IActorRef session, InfoHash infoHash, Func<TorrentStatus, bool> condition, int seconds = 15)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        TorrentStatus status;
        do
        {
            status = await StatusAsync(session, infoHash);
            if (condition(status))
            {
                return status;
            }
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        throw new Xunit.Sdk.XunitException($"torrent {infoHash} never reached the expected state; last: {status.Activity} {status.Error}");
    }

    public static async Task ShutdownSessionAsync(IActorRef session) =>
        await session.Ask<TorrentSessionActor.ShutdownComplete>(TorrentSessionActor.Shutdown.Instance, TimeSpan.FromSeconds(30));
}
