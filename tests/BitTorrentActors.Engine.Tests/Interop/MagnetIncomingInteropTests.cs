using System.Diagnostics;
using System.Globalization;
using System.Net;
using BitTorrentActors.Engine.Tests.Rpc;
using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Interop;

/// <summary>
/// A magnet with no peer and no tracker in <c>bta daemon</c>, and a python3-libtorrent seeder told to
/// <c>connect_peer</c> to bta: the metadata comes over that incoming connection (the fetcher is registered with
/// the listener), then the coordinator dials the seeder's listen port from its extension handshake and completes.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class MagnetIncomingInteropTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(90);
    private readonly SwarmScope _swarm = new("magnet-incoming", Lifetime);

    [Fact]
    public async Task A_libtorrent_seeder_that_connects_to_bta_gives_a_bare_magnet_its_metadata_and_its_pieces()
    {
        var (_, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.SingleFile("incoming.bin", 2_000_003, seed: 66));
        var downloads = _swarm.Dir.Sub("downloads");
        var daemon = _swarm.Track(await BtaDaemon.StartAsync(_swarm.Dir.Path, _swarm.Dir.Sub("state"), downloads, Lifetime));
        using var rpc = new RpcClient(daemon.RpcUrl);
        // No tr=, no x.pe=: bta has no way to the seeder; only the seeder's own connection brings the torrent.
        var add = await TransmissionRemote.RunAsync(daemon.Address, _swarm.Dir.Path, "-a", $"magnet:?xt=urn:btih:{torrent.InfoHash.ToHex()}");
        Assert.Contains("success", add.AssertSucceeded().Text);
        var clock = Stopwatch.StartNew();

        var seeder = _swarm.Track(LibtorrentPeer.Start(torrent.Path, seedRoot, _swarm.Dir.Path, Lifetime, pex: false,
            peers: new IPEndPoint(IPAddress.Loopback, daemon.PeerPort)));

        var done = await RpcWait.TorrentAsync(rpc, 1, RpcWait.Complete, TimeSpan.FromSeconds(60), "complete",
            () => daemon.Log + "\n" + seeder.Log, "metadataPercentComplete", "totalSize");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bare magnet, libtorrent dials bta: complete {clock.Elapsed.TotalSeconds:0.00} s after the seeder started"));
        Assert.Equal(1, done.GetProperty("metadataPercentComplete").GetDouble());
        Assert.Equal(torrent.Content.TotalLength, done.GetProperty("totalSize").GetInt64());
        torrent.Content.AssertDownloaded(downloads);
        Assert.True(await seeder.GetUploadedAsync() > 0, $"libtorrent served nothing\n{seeder.Log}");
    }

    public void Dispose() => _swarm.Dispose();
}
