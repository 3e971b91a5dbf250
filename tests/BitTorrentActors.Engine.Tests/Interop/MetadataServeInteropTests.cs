using System.Globalization;
using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Interop;

/// <summary>The reverse of magnets: <c>bta seed</c> serves its metadata (BEP 9) to a libtorrent leecher that has only
/// a magnet link with bta's address, which then downloads the torrent from bta.</summary>
[Collection(SwarmCollection.Name)]
public sealed class MetadataServeInteropTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(90);

    private readonly SwarmScope _swarm = new("metaserve", Lifetime);

    [Fact]
    public async Task A_libtorrent_leecher_with_only_a_magnet_and_btas_address_gets_the_metadata_and_completes()
    {
        var content = SwarmContent.MultiFile("served", seed: 33, scale: 2);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, "http://127.0.0.1:1/announce");
        using var stop = new CancellationTokenSource();
        BtaClientRun? live = null;
        var port = LoopbackPorts.Next();
        var seeding = BtaClientRun.RunCommandAsync(["seed", torrent.Path, "--data", seedRoot], port, _swarm.Dir.Path, Lifetime, stop.Token, r => live = r);
        try
        {
            for (var i = 0; i < 100 && Volatile.Read(ref live) is null; i++)
            {
                await Task.Delay(50);
            }
            Assert.True(await live!.WaitForStdoutAsync("Seeding until", TimeSpan.FromSeconds(30)), live.Output);

            var magnet = $"magnet:?xt=urn:btih:{torrent.InfoHash.ToHex()}&x.pe=127.0.0.1:{port}";
            var leecherRoot = _swarm.Dir.Sub("leecher");
            var leecher = _swarm.Track(LibtorrentPeer.Start(magnet, leecherRoot, _swarm.Dir.Path, Lifetime));
            var metadata = await leecher.WaitForMetadataAsync(TimeSpan.FromSeconds(30));
            var finished = await leecher.WaitForFinishedAsync(TimeSpan.FromSeconds(60));

            content.AssertDownloaded(leecherRoot);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"libtorrent from a magnet against bta seed: metadata after {metadata:0.000} s, complete ({content.TotalLength} bytes) after {finished:0.000} s (from the leecher's start)"));
        }
        finally
        {
            await stop.CancelAsync();
        }

        var run = await seeding;
        output.WriteLine(run.Output);
        run.AssertSucceeded();
    }

    public void Dispose() => _swarm.Dispose();
}
