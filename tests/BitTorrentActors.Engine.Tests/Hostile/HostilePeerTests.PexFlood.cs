using System.Globalization;
using System.Text.RegularExpressions;
using BitTorrentActors.Engine.Tests.Swarm;

namespace BitTorrentActors.Engine.Tests.Hostile;

/// <summary>
/// BEP 11 abuse beside a real libtorrent seeder: scripted peers offer 10,000 dead loopback addresses in every ut_pex
/// message, one within libtorrent's six a minute and one past it. The client takes 50 a message, closes and bans the
/// peer past the limit, dials only what it took, and downloads everything from the seeder.
/// </summary>
public sealed partial class HostilePeerTests
{
    [Fact]
    public async Task Pex_messages_of_ten_thousand_addresses_grow_neither_the_roster_nor_memory_and_the_libtorrent_seeder_delivers()
    {
        // 64 pieces of 64 KiB; the seeder capped at 1 MB/s, so the floods arrive while the download runs (about 4 s).
        var content = SwarmContent.SingleFile("pexflood.bin", 4_194_000, seed: 52);
        var seedRoot = _dir.Sub("seed");
        content.WriteTo(seedRoot);
        var torrent = SwarmTorrent.Build(content, _dir.Path, DeadTrackerUrl);
        // No PEX on the seeder's side: nothing but the scripted peers names addresses.
        using var seeder = LibtorrentPeer.Start(torrent.Path, seedRoot, _dir.Path, Lifetime, uploadLimit: 1_000_000, pex: false);
        await seeder.WaitForFinishedAsync(TimeSpan.FromSeconds(30));
        using var flooder = new ScriptedPeer(torrent, HostileBehaviour.PexAddressFlood, Lifetime);
        using var atLimit = new ScriptedPeer(torrent, HostileBehaviour.PexAddressesAtLimit, Lifetime);
        var outputDir = _dir.Sub("out");

        var before = GC.GetTotalMemory(forceFullCollection: true);
        using var sampling = new CancellationTokenSource();
        var peak = SamplePeakMemoryAsync(sampling.Token);
        var run = await BtaClientRun.RunAsync(torrent, outputDir, _dir.Path, ClientTimeout, extraArgs:
        [
            .. ClientArgs(flooder, atLimit), "--peer", seeder.EndPoint.ToString(),
            // Debug for the PEX and dial lines counted below; the default retry backoff, so a dead address is
            // dialled about once while the download lasts.
            "--set", "bta.logging.level=Debug", "--set", "akka.loglevel=DEBUG",
            "--set", "bta.peer-retry.min-backoff=5s",
        ]);
        await sampling.CancelAsync();
        var growth = await peak - before;
        await flooder.WaitForFirstCloseAsync(TimeSpan.FromSeconds(5));

        var offers = PexOfferLine().Matches(run.Stderr).Select(m => (Peer: m.Groups[1].Value,
            Offered: int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
            Taken: int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture))).ToList();
        var known = PexKnownLine().Matches(run.Stderr).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        var dials = DeadDialLine().Matches(run.Stderr).Select(m => m.Groups[1].Value).ToList();
        var uploaded = await seeder.GetUploadedAsync();
        output.WriteLine($"PEX messages taken: {offers.Count} ({offers.Sum(o => o.Offered)} addresses offered, "
            + $"{offers.Sum(o => o.Taken)} taken); roster peak {(known.Count > 0 ? known.Max() : 0)} known; "
            + $"{dials.Count} dials to {dials.Distinct().Count()} dead addresses; managed memory +{growth / 1024} KiB "
            + $"(peak over {before / 1024} KiB); seeder uploaded {uploaded} bytes");
        output.WriteLine(flooder.Describe());
        output.WriteLine(atLimit.Describe());

        run.AssertSucceeded();
        content.AssertDownloaded(outputDir);
        // The scripted peers never unchoke: every byte came from the honest seeder.
        Assert.True(uploaded >= content.TotalLength, $"the libtorrent seeder uploaded only {uploaded} bytes\n{run.Output}");

        // Past the limit: closed at its seventh message, banned, not dialled again.
        var first = AssertDroppedByClient(flooder, within: Quickly, run);
        AssertMisbehaved(run, flooder, $"more than {ScriptedPeer.PexMessagesAllowed} ut_pex messages within 60 s");
        Assert.True(flooder.Connections.Count == 1, $"a banned peer was dialled again\n{flooder.Describe()}");
        // Not a stream for seconds (hundreds of messages): what socket buffers hold, at most 64 messages of about
        // 7 bytes an address.
        Assert.True(first.BytesPushedAfterBad <= 64 * 7 * ScriptedPeer.PexFloodSize,
            $"{first.BytesPushedAfterBad} bytes of PEX went out before the close\n{flooder.Describe()}");
        // Within it: all six taken, and no reason to drop it.
        Assert.DoesNotContain($"Peer {atLimit.PeerArgument} misbehaved", run.Stderr, StringComparison.Ordinal);

        // Six messages from each, every one offering 10,000 and yielding 50 at most.
        const int bound = 2 * ScriptedPeer.PexMessagesAllowed * 50;
        // The roster also holds the three --peer addresses.
        Assert.True(known.Count > 0 && known.Max() <= bound + 3, $"the roster grew to {(known.Count > 0 ? known.Max() : 0)} peers\n{run.Output}");
        foreach (var peer in new[] { flooder, atLimit })
        {
            var fromPeer = offers.Where(o => o.Peer == peer.PeerArgument).ToList();
            Assert.True(fromPeer.Count == ScriptedPeer.PexMessagesAllowed,
                $"{fromPeer.Count} PEX messages of {peer.PeerArgument} were taken\n{run.Output}");
            Assert.All(fromPeer, o => Assert.Equal((ScriptedPeer.PexFloodSize, 50), (o.Offered, o.Taken)));
        }
        // Dialled: only addresses the roster took, each at most once more after a 5 s backoff while the download ran.
        Assert.True(dials.Count > 0, $"no flooded address was dialled\n{run.Output}");
        Assert.True(dials.Distinct().Count() <= bound && dials.Count <= 2 * bound,
            $"{dials.Count} dials to {dials.Distinct().Count()} dead addresses\n{run.Output}");
        // Nothing near 10,000 addresses a message (or what decoding them all costs) was held on to. The heap is the
        // test process's: it includes the client's actor system, its download buffers, the scripted peers' messages
        // and whatever tests of other collections allocate meanwhile (about 35 MB measured alone).
        Assert.True(growth < 128L * 1024 * 1024, $"managed memory grew by {growth} bytes during the download");
    }

    /// <summary>The highest managed heap size seen, sampled every 20 ms until cancelled.</summary>
    private static async Task<long> SamplePeakMemoryAsync(CancellationToken stop)
    {
        long peak = 0;
        while (!stop.IsCancellationRequested)
        {
            peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
            try
            {
                await Task.Delay(20, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        return Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
    }

    /// <summary>The peer actor's line for a PEX message offering more than it takes.</summary>
    [GeneratedRegex(@"Peer (127\.0\.0\.1:\d+): PEX offered (\d+) peers, (\d+) taken")]
    private static partial Regex PexOfferLine();

    /// <summary>The coordinator's line after adding PEX peers to its roster.</summary>
    [GeneratedRegex(@"\d+ new peers from ""?Pex""? \((\d+) known\)")]
    private static partial Regex PexKnownLine();

    /// <summary>A dial to one of the flooded addresses (127.1.0.0 and up, port 9), refused.</summary>
    [GeneratedRegex(@"Peer (127\.(?:[1-9]\d*)\.\d+\.\d+:9) closed: connect")]
    private static partial Regex DeadDialLine();
}
