using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Interop;

/// <summary>
/// BEP 11 against real libtorrent peers on 127.0.0.1, no tracker: bta learns a seeder only libtorrent knows, through
/// libtorrent's ut_pex; and libtorrent accepts bta's ut_pex (keeps the connection, dials the peer it learned).
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class PexInteropTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(90);
    // The announce URL's port is closed: no tracker tells anyone about anyone.
    private const string NoTracker = "http://127.0.0.1:1/announce";

    private readonly SwarmScope _swarm = new("pex", Lifetime);

    [Fact]
    public async Task Bta_given_only_a_libtorrent_leecher_learns_its_seeder_through_pex_and_downloads_from_it()
    {
        var content = SwarmContent.SingleFile("pex.bin", 4_000_000, seed: 31);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, NoTracker);
        var seeder = _swarm.Track(LibtorrentPeer.Start(torrent.Path, seedRoot, _swarm.Dir.Path, Lifetime));
        await seeder.WaitForFinishedAsync(TimeSpan.FromSeconds(30));
        // L serves at most 20 kB/s: alone it would need over three minutes, so finishing in time takes S's bytes.
        var leecher = _swarm.Track(LibtorrentPeer.Start(torrent.Path, _swarm.Dir.Sub("leecher"), _swarm.Dir.Path, Lifetime,
            uploadLimit: 20_000, peers: seeder.EndPoint));
        await leecher.WaitForFinishedAsync(TimeSpan.FromSeconds(30));
        var before = await seeder.GetUploadedAsync();

        var target = _swarm.Dir.Sub("out");
        var run = await BtaClientRun.RunAsync(torrent, target, _swarm.Dir.Path, ClientTimeout,
            extraArgs: ["--peer", leecher.EndPoint.ToString()]);

        output.WriteLine(run.Output);
        run.AssertSucceeded();
        content.AssertDownloaded(target);
        var toBta = await seeder.GetUploadedAsync() - before;
        Assert.True(toBta >= content.TotalLength / 2,
            $"the seeder bta was never told of uploaded {toBta} bytes to it\n{seeder.Log[^Math.Min(4000, seeder.Log.Length)..]}");
    }

    [Fact]
    public async Task Libtorrent_keeps_bta_connected_after_its_pex_and_dials_the_peer_it_learned_from_bta()
    {
        var content = SwarmContent.SingleFile("pexout.bin", 4_000_000, seed: 32);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, NoTracker);
        // S is capped so bta's download lasts long enough to watch L after bta's PEX, and takes no PEX itself: told of
        // L by bta it would dial L while L dials it, and libtorrent keeps only one of the two (duplicate peer-id),
        // sometimes S's, which L lists as incoming rather than from PEX.
        var seeder = _swarm.Track(LibtorrentPeer.Start(torrent.Path, seedRoot, _swarm.Dir.Path, Lifetime, uploadLimit: 250_000, pex: false));
        await seeder.WaitForFinishedAsync(TimeSpan.FromSeconds(30));
        var leecher = _swarm.Track(LibtorrentPeer.Start(torrent.Path, _swarm.Dir.Sub("leecher"), _swarm.Dir.Path, Lifetime));

        var target = _swarm.Dir.Sub("out");
        using var stop = new CancellationTokenSource();
        var running = BtaClientRun.RunAsync(torrent, target, _swarm.Dir.Path, ClientTimeout, stop.Token,
            extraArgs: ["--peer", seeder.EndPoint.ToString(), "--peer", leecher.EndPoint.ToString(), "--set", "bta.pex.interval=2s"]);
        string learned, stillConnected;
        try
        {
            // L was given no peer: S with the pex bit can only come from bta's ut_pex.
            learned = await leecher.WaitForPeerAsync(p => p.EndPoint.Equals(seeder.EndPoint) && (p.Source & LibtorrentPeer.PexSource) != 0,
                TimeSpan.FromSeconds(60));
            var after = leecher.LineCount;
            stillConnected = await leecher.WaitForPeerAsync(p => p.Client.Contains("BitTorrentActors", StringComparison.Ordinal),
                TimeSpan.FromSeconds(10), after);
        }
        catch (SwarmException e)
        {
            await stop.CancelAsync();
            Assert.Fail($"{e.Message}\n{(await running).Output}");
            throw;
        }

        var run = await running;
        output.WriteLine(learned);
        output.WriteLine(stillConnected);
        output.WriteLine(run.Output);
        run.AssertSucceeded();
        content.AssertDownloaded(target);
        Assert.DoesNotContain("too_frequent_pex", leecher.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("pex_message_too_large", leecher.Log, StringComparison.Ordinal);
    }

    public void Dispose() => _swarm.Dispose();
}
