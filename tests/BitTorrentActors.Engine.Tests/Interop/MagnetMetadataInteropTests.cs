using System.Diagnostics;
using System.Net;
using Akka.Actor;
using BitTorrentActors.Engine.Metadata;
using BitTorrentActors.Engine.Tests.Metadata;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Protocol.Extensions;
using BitTorrentActors.Protocol.Magnet;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Interop;

/// <summary>
/// The metadata fetch (BEP 9) against real seeders on 127.0.0.1: libtorrent and Transmission 3.00 given by
/// <c>x.pe</c>, libtorrent found through opentracker from <c>tr=</c> alone, a libtorrent hybrid torrent through
/// its v1 magnet, and scripted liars beside an honest libtorrent seeder. Each asserts the fetched info
/// dictionary is the source torrent's, byte for byte, and prints the time to metadata.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class MagnetMetadataInteropTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);
    private readonly ITestOutputHelper _output;
    private readonly SwarmScope _swarm = new("magnet-metadata", Lifetime);

    public MagnetMetadataInteropTests(ITestOutputHelper output)
        : base("akka.loglevel = INFO", output)
    {
        _output = output;
    }

    [Fact]
    public async Task Fetches_the_metadata_of_an_x_pe_magnet_from_a_libtorrent_seeder()
    {
        var (torrent, seedRoot) = Content(SwarmContent.MultiFile("lt-magnet", seed: 31));
        var seeder = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));

        var (fetched, elapsed) = await FetchAsync(new MagnetLink(torrent.InfoHash, peers: [seeder.EndPoint.ToString()]),
            TimeSpan.FromSeconds(15), seeder);

        AssertSameInfo(torrent, fetched);
        _output.WriteLine($"time to metadata, libtorrent: {elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Fetches_the_metadata_of_an_x_pe_magnet_from_a_transmission_seeder()
    {
        var (torrent, seedRoot) = Content(SwarmContent.MultiFile("tr-magnet", seed: 32));
        var seeder = _swarm.Track(await TransmissionSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));

        // Transmission 3.00 answers metadata requests only after about 8 s.
        var (fetched, elapsed) = await FetchAsync(new MagnetLink(torrent.InfoHash, peers: [seeder.EndPoint.ToString()]),
            TimeSpan.FromSeconds(30), seeder);

        AssertSameInfo(torrent, fetched);
        _output.WriteLine($"time to metadata, transmission: {elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Fetches_the_metadata_of_a_tr_magnet_from_the_peers_opentracker_returns()
    {
        var (tracker, torrent, seedRoot) = await _swarm.StartTrackerAsync(SwarmContent.SingleFile("tracked.bin", 3_000_017, seed: 33));
        var seeder = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));
        await tracker.WaitForSeedersAsync(torrent.InfoHash, 1, TimeSpan.FromSeconds(10));

        var (fetched, elapsed) = await FetchAsync(new MagnetLink(torrent.InfoHash, trackers: [tracker.AnnounceUrl]),
            TimeSpan.FromSeconds(20), seeder);

        AssertSameInfo(torrent, fetched);
        Assert.Equal(tracker.AnnounceUrl, Assert.Single(Assert.Single(fetched.Metainfo.AnnounceTiers)));
        Assert.Contains(seeder.EndPoint, fetched.Peers);
        _output.WriteLine($"time to metadata, libtorrent via opentracker: {elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Fetches_the_metadata_of_a_libtorrent_hybrid_torrent_through_its_v1_magnet()
    {
        var content = SwarmContent.MultiFile("hybrid-magnet", seed: 34);
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var torrent = await SwarmTorrent.MakeWithLibtorrentAsync(content, seedRoot, _swarm.Dir.Path, "http://127.0.0.1:1/announce", hybrid: true);
        Assert.True(torrent.PadFiles > 0, "libtorrent made a hybrid torrent without pad files");
        var seeder = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));

        var (fetched, elapsed) = await FetchAsync(new MagnetLink(torrent.InfoHash, peers: [seeder.EndPoint.ToString()]),
            TimeSpan.FromSeconds(15), seeder);

        AssertSameInfo(torrent, fetched);
        _output.WriteLine($"time to metadata, libtorrent hybrid: {elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Liars_beside_an_honest_libtorrent_seeder_are_cut_off_or_held_off_and_memory_stays_bounded()
    {
        var (torrent, seedRoot) = Content(SwarmContent.MultiFile("hostile-magnet", seed: 35));
        var seeder = _swarm.Track(await LibtorrentSeeder.StartAsync(torrent, seedRoot, _swarm.Dir.Path, Lifetime));
        var info = Parse(File.ReadAllBytes(torrent.Path)).RawInfo.ToArray();
        // The seeder is dialled last, so both liars are asked for the metadata before it can answer.
        var dialer = new PipeDialer(tcpDelay: TimeSpan.FromMilliseconds(500));
        var huge = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7101));
        var oversized = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7102));
        var forged = dialer.Add(new IPEndPoint(IPAddress.Loopback, 7103));
        var liars = new[]
        {
            MetadataPeerScript.ServeAsync(huge.Peer, info, torrent.InfoHash, MetadataBehaviour.HugeSize),
            MetadataPeerScript.ServeAsync(oversized.Peer, info, torrent.InfoHash, MetadataBehaviour.OversizedPiece),
            MetadataPeerScript.ServeAsync(forged.Peer, info, torrent.InfoHash, MetadataBehaviour.ForgedMetadata),
        };
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(false));
                await Task.Delay(10);
            }
        });

        // The liars first, so they are met before (and alongside) the honest seeder.
        var link = new MagnetLink(torrent.InfoHash, peers: ["127.0.0.1:7101", "127.0.0.1:7102", "127.0.0.1:7103", seeder.EndPoint.ToString()]);
        var (fetched, elapsed) = await FetchAsync(link, TimeSpan.FromSeconds(20), seeder, dialer.ConnectAsync);
        await sampling.CancelAsync();
        await sampler;

        AssertSameInfo(torrent, fetched);
        var served = await Task.WhenAll(liars).WaitAsync(TimeSpan.FromSeconds(10));
        _output.WriteLine($"huge size: {served[0]}\noversized piece: {served[1]}\nforged: {served[2]}");
        _output.WriteLine($"managed memory {before} B before, peak {peak} B; metadata after {elapsed.TotalMilliseconds:0} ms");
        // The 2^31 offer was refused before any request, and nothing near it was allocated.
        Assert.Equal(0, served[0].Requests);
        Assert.True(served[0].ClosedByFetcher, served[0].ToString());
        // The 20 KiB piece cost the liar its connection after its first answers.
        Assert.True(served[1].ClosedByFetcher && served[1].PiecesSent is >= 1 and <= 2, served[1].ToString());
        // The forged metadata was received whole, failed the hash, and its sender was not asked again.
        Assert.Equal(MetadataMessage.PieceCount(info.Length), served[2].PiecesSent);
        Assert.Equal(served[2].PiecesSent, served[2].Requests);
        Assert.True(peak - before < 256L * 1024 * 1024, $"managed memory grew by {peak - before} bytes");
    }

    private (SwarmTorrent Torrent, string SeedRoot) Content(SwarmContent content)
    {
        var seedRoot = _swarm.Dir.Sub("seed");
        content.WriteTo(seedRoot);
        // No tracker: the seeder is reached directly (x.pe); port 1 on loopback refuses at once.
        return (SwarmTorrent.Build(content, _swarm.Dir.Path, "http://127.0.0.1:1/announce"), seedRoot);
    }

    private async Task<(MetadataFetcherActor.MetadataFetched Fetched, TimeSpan Elapsed)> FetchAsync(
        MagnetLink link, TimeSpan budget, ISwarmSeeder seeder,
        Func<IPEndPoint, CancellationToken, Task<System.IO.Pipelines.IDuplexPipe>>? connect = null)
    {
        var owner = CreateTestProbe();
        // A port nothing listens on: opentracker hands our own address back, and dialling it must fail fast.
        var context = new MagnetContext(link, PeerId.Generate(), TestTorrents.Settings(), Trackers.TrackerTestSupport.ClosedPort());
        var clock = Stopwatch.StartNew();
        var fetcher = Sys.ActorOf(connect is null
            ? MetadataFetcherActor.Props(context, owner)
            : MetadataFetcherActor.Props(context, owner, null, connect));
        Watch(fetcher);
        try
        {
            var fetched = (MetadataFetcherActor.MetadataFetched)await owner.FishForMessageAsync(
                m => m is MetadataFetcherActor.MetadataFetched or MetadataFetcherActor.MetadataFailed, budget);
            var elapsed = clock.Elapsed;
            await ExpectTerminatedAsync(fetcher, TimeSpan.FromSeconds(5));
            return (fetched, elapsed);
        }
        catch (Exception ex) when (ex is not InvalidCastException)
        {
            throw new SwarmException($"no metadata within {budget}: {ex.Message}\n{seeder.Name}:\n{seeder.Log}");
        }
    }

    private static void AssertSameInfo(SwarmTorrent torrent, MetadataFetcherActor.MetadataFetched fetched)
    {
        var source = Parse(File.ReadAllBytes(torrent.Path));
        Assert.Equal(torrent.InfoHash, fetched.InfoHash);
        Assert.Equal(source.RawInfo.ToArray(), fetched.Metainfo.RawInfo.ToArray());
        Assert.Equal(source.TotalLength, fetched.Metainfo.TotalLength);
        Assert.Equal(source.RawInfo.ToArray(), Parse(fetched.TorrentFile).RawInfo.ToArray());
    }

    private static TorrentMetainfo Parse(byte[] file) =>
        TorrentMetainfo.Parse(file).Metainfo ?? throw new InvalidOperationException("unparseable torrent");

    protected override void Dispose(bool disposing)
    {
        // The actor system first (its connections close), then the tools and the folder.
        base.Dispose(disposing);
        if (disposing)
        {
            _swarm.Dispose();
        }
    }
}
