using BitTorrentActors.Engine.Tests.Swarm;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Hostile;

/// <summary>
/// Our client (<c>bta download</c>, in-process) against one scripted broken or lying peer and one honest scripted
/// peer, all on 127.0.0.1. The honest peer is slowed so the download lasts a few seconds and the hostile peer is met
/// mid-download; each test asserts how fast and how the hostile connection ended, and that the download completed.
/// A short handshake timeout and retry backoff make a wrong "not banned" visible as a second connection.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed partial class HostilePeerTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Dropped "quickly": well under a second on loopback; two allow for a loaded machine.</summary>
    private static readonly TimeSpan Quickly = TimeSpan.FromSeconds(2);

    private readonly SwarmTempDir _dir = new("hostile");

    [Fact]
    public async Task A_peer_answering_with_a_wrong_info_hash_is_dropped_and_banned()
    {
        var (run, hostile, honest) = await DownloadWithAsync(HostileBehaviour.WrongInfoHash, seed: 41);

        var first = AssertDroppedByClient(hostile, within: HandshakeTimeout, run);
        AssertMisbehaved(run, hostile, "wrong info-hash");
        AssertDroppedBeforeTheDownloadEnded(first, honest, hostile, run);
        Assert.True(hostile.Connections.Count == 1, $"a banned peer was dialled again\n{hostile.Describe()}");
    }

    [Theory]
    [InlineData(HostileBehaviour.OversizedLength, "length prefix 2147483647")]
    [InlineData(HostileBehaviour.NegativeLength, "length prefix 4294967280")]
    public async Task A_huge_or_negative_length_prefix_is_refused_from_the_prefix_alone(HostileBehaviour behaviour, string reason)
    {
        var (run, hostile, honest) = await DownloadWithAsync(behaviour, seed: 42);

        var first = AssertDroppedByClient(hostile, within: Quickly, run);
        AssertMisbehaved(run, hostile, reason);
        AssertDroppedBeforeTheDownloadEnded(first, honest, hostile, run);
        // The client does not wait for (or buffer) the announced body: it closes while we are still pushing.
        Assert.True(first.BytesPushedAfterBad <= 16 * 1024,
            $"the peer pushed {first.BytesPushedAfterBad} bytes after the bad prefix before the close\n{hostile.Describe()}");
        Assert.True(hostile.Connections.Count == 1, $"a banned peer was dialled again\n{hostile.Describe()}");
    }

    [Fact]
    public async Task A_bitfield_of_the_wrong_size_is_dropped()
    {
        var (run, hostile, honest) = await DownloadWithAsync(HostileBehaviour.WrongSizeBitfield, seed: 43);

        var first = AssertDroppedByClient(hostile, within: Quickly, run);
        AssertMisbehaved(run, hostile, "bitfield of");
        AssertDroppedBeforeTheDownloadEnded(first, honest, hostile, run);
        Assert.True(hostile.Connections.Count == 1, $"a banned peer was dialled again\n{hostile.Describe()}");
    }

    [Fact]
    public async Task A_stream_of_blocks_we_never_requested_is_dropped()
    {
        var (run, hostile, honest) = await DownloadWithAsync(HostileBehaviour.UnrequestedBlocks, seed: 44);

        var first = AssertDroppedByClient(hostile, within: Quickly, run);
        AssertMisbehaved(run, hostile, "blocks we never requested");
        AssertDroppedBeforeTheDownloadEnded(first, honest, hostile, run);
        // 9 blocks are enough to be dropped; socket buffers may hold some more, but not a stream of them.
        Assert.True(first.BytesPushedAfterBad <= 64 * 16 * 1024,
            $"{first.BytesPushedAfterBad} bytes of unrequested blocks went out before the close\n{hostile.Describe()}");
        Assert.True(hostile.Connections.Count == 1, $"a banned peer was dialled again\n{hostile.Describe()}");
    }

    [Fact]
    public async Task A_flood_of_requests_is_dropped()
    {
        var (run, hostile, honest) = await DownloadWithAsync(HostileBehaviour.RequestFlood, seed: 45);

        var first = AssertDroppedByClient(hostile, within: Quickly, run);
        // Dropped for the flood whichever limit trips first: too many queued (unchoked) or refused (choked) requests.
        AssertMisbehaved(run, hostile, "requests");
        AssertDroppedBeforeTheDownloadEnded(first, honest, hostile, run);
        Assert.True(hostile.Connections.Count == 1, $"a banned peer was dialled again\n{hostile.Describe()}");
    }

    [Fact]
    public async Task A_flood_of_have_messages_is_dropped()
    {
        var (run, hostile, honest) = await DownloadWithAsync(HostileBehaviour.HaveFlood, seed: 48);

        var first = AssertDroppedByClient(hostile, within: Quickly, run);
        AssertMisbehaved(run, hostile, "have messages");
        AssertDroppedBeforeTheDownloadEnded(first, honest, hostile, run);
        // 16 pieces allow 128 haves; one or two 4 KiB chunks (455 haves each) trip it, socket buffers hold a few more.
        Assert.True(first.BytesPushedAfterBad <= 64 * 4096,
            $"{first.BytesPushedAfterBad} bytes of haves went out before the close\n{hostile.Describe()}");
        Assert.True(hostile.Connections.Count == 1, $"a banned peer was dialled again\n{hostile.Describe()}");
    }

    [Fact]
    public async Task A_malformed_extended_message_closes_that_peer_only()
    {
        var (run, hostile, honest) = await DownloadWithAsync(HostileBehaviour.MalformedExtended, seed: 50);

        var first = AssertDroppedByClient(hostile, within: Quickly, run);
        AssertMisbehaved(run, hostile, "extension handshake is not bencode");
        AssertDroppedBeforeTheDownloadEnded(first, honest, hostile, run);
        Assert.True(hostile.Connections.Count == 1, $"a banned peer was dialled again\n{hostile.Describe()}");
    }

    [Fact]
    public async Task Seven_pex_messages_within_a_minute_close_that_peer_only()
    {
        var (run, hostile, honest) = await DownloadWithAsync(HostileBehaviour.PexFlood, seed: 51);

        var first = AssertDroppedByClient(hostile, within: Quickly, run);
        AssertMisbehaved(run, hostile, "more than 6 ut_pex messages within 60 s");
        AssertDroppedBeforeTheDownloadEnded(first, honest, hostile, run);
        Assert.True(hostile.Connections.Count == 1, $"a banned peer was dialled again\n{hostile.Describe()}");
    }

    [Fact]
    public async Task Peers_that_claim_every_piece_and_never_unchoke_are_evicted_for_a_waiting_seeder()
    {
        // Three useless peers fill all three connection slots before the one real seeder is dialled.
        var content = SwarmContent.SingleFile("turnover.bin", 300_007, seed: 49);
        var torrent = SwarmTorrent.Build(content, _dir.Path, DeadTrackerUrl);
        var useless = Enumerable.Range(0, 3).Select(_ => new ScriptedPeer(torrent, HostileBehaviour.NeverUnchokes, Lifetime)).ToList();
        using var honest = new ScriptedPeer(torrent, HostileBehaviour.Honest, Lifetime);
        try
        {
            var outputDir = _dir.Sub("out");
            var run = await BtaClientRun.RunAsync(torrent, outputDir, _dir.Path, ClientTimeout, extraArgs:
            [
                .. ClientArgs([.. useless, honest]),
                "--set", "bta.max-peers-per-torrent=3",
                "--set", "bta.upload.rechoke-interval=1s",
                "--set", "bta.upload.optimistic-unchoke-interval=2s",
            ]);
            useless.ForEach(p => output.WriteLine(p.Describe()));
            output.WriteLine(honest.Describe());

            run.AssertSucceeded();
            content.AssertDownloaded(outputDir);
            var first = useless.Select(p => p.Connections[0]).MinBy(c => c.ClosedAt)!;
            Assert.True(first.ClosedByClient && first.CloseDelay < TimeSpan.FromSeconds(10),
                $"no useless peer was closed within 10 s: {first}\n{run.Output}");
            Assert.DoesNotContain("Banned peer", run.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            useless.ForEach(p => p.Dispose());
        }
    }

    [Fact]
    public async Task A_peer_that_never_speaks_is_dropped_after_the_handshake_timeout()
    {
        var (run, hostile, honest) = await DownloadWithAsync(HostileBehaviour.Silent, seed: 46);

        var first = AssertDroppedByClient(hostile, within: HandshakeTimeout + Quickly, run);
        Assert.True(first.CloseDelay >= HandshakeTimeout - TimeSpan.FromMilliseconds(100),
            $"dropped before the handshake timeout of {HandshakeTimeout}\n{hostile.Describe()}");
        AssertDroppedBeforeTheDownloadEnded(first, honest, hostile, run);
        // Silence is not proof of malice: the peer is not banned, so it may be dialled again after the backoff.
        Assert.DoesNotContain($"Banned peer {hostile.PeerArgument}", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_message_ids_are_ignored()
    {
        var content = SwarmContent.SingleFile("unknown.bin", 700_001, seed: 47);
        var torrent = SwarmTorrent.Build(content, _dir.Path, DeadTrackerUrl);
        using var peer = new ScriptedPeer(torrent, HostileBehaviour.UnknownIdsThenHonest, Lifetime);
        var outputDir = _dir.Sub("out");

        var run = await BtaClientRun.RunAsync(torrent, outputDir, _dir.Path, ClientTimeout, extraArgs: ClientArgs(peer));
        output.WriteLine(peer.Describe());

        run.AssertSucceeded();
        content.AssertDownloaded(outputDir);
        // The only source: it served the whole torrent on one connection, never dropped for its unknown ids.
        Assert.True(peer.Connections.Count == 1, peer.Describe());
        Assert.DoesNotContain("misbehaved", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(peer.PieceCount, peer.Connections[0].PiecesServed.Count);
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>Nothing listens there: the client's announces fail fast and only <c>--peer</c> peers exist.</summary>
    private const string DeadTrackerUrl = "http://127.0.0.1:9/announce";

    private async Task<(BtaClientRun Run, ScriptedPeer Hostile, ScriptedPeer Honest)> DownloadWithAsync(
        HostileBehaviour behaviour, int seed)
    {
        // 16 pieces of 64 KiB; 62 blocks at 40 ms each from the honest peer: about 2.5 s of download.
        var content = SwarmContent.SingleFile($"{behaviour}.bin", 1_000_003, seed);
        var torrent = SwarmTorrent.Build(content, _dir.Path, DeadTrackerUrl);
        using var hostile = new ScriptedPeer(torrent, behaviour, Lifetime);
        using var honest = new ScriptedPeer(torrent, HostileBehaviour.Honest, Lifetime, blockDelay: TimeSpan.FromMilliseconds(40));
        var outputDir = _dir.Sub("out");

        var run = await BtaClientRun.RunAsync(torrent, outputDir, _dir.Path, ClientTimeout,
            extraArgs: ClientArgs(hostile, honest));
        // The client has exited, so every connection it made is over; wait for the peers to have seen that.
        await hostile.WaitForFirstCloseAsync(TimeSpan.FromSeconds(5));
        output.WriteLine(hostile.Describe());
        output.WriteLine(honest.Describe());

        run.AssertSucceeded();
        content.AssertDownloaded(outputDir);
        return (run, hostile, honest);
    }

    private static string[] ClientArgs(params ScriptedPeer[] peers) =>
    [
        .. peers.SelectMany(p => new[] { "--peer", p.PeerArgument }),
        "--log-level", "Information",
        "--set", $"bta.timeouts.handshake={HandshakeTimeout.TotalMilliseconds}ms",
        "--set", "bta.peer-retry.min-backoff=200ms",
    ];

    private static ScriptedConnection AssertDroppedByClient(ScriptedPeer hostile, TimeSpan within, BtaClientRun run)
    {
        Assert.NotEmpty(hostile.Connections);
        var first = hostile.Connections[0];
        Assert.True(first.ClosedByClient, $"the client never closed the connection\n{hostile.Describe()}\n{run.Output}");
        Assert.True(first.CloseDelay is { } delay && delay <= within,
            $"not dropped within {within}: {first}\n{run.Output}");
        return first;
    }

    private static void AssertMisbehaved(BtaClientRun run, ScriptedPeer hostile, string reason)
    {
        var line = run.Stderr.Split('\n').FirstOrDefault(l => l.Contains($"Peer {hostile.PeerArgument} misbehaved", StringComparison.Ordinal));
        Assert.True(line is not null && line.Contains(reason, StringComparison.Ordinal),
            $"no 'misbehaved: ...{reason}...' line for {hostile.PeerArgument}\n{run.Output}");
        Assert.Contains($"Banned peer {hostile.PeerArgument}", run.Stderr, StringComparison.Ordinal);
    }

    /// <summary>The drop came from the misbehaviour, not from the client closing everything once complete.</summary>
    private static void AssertDroppedBeforeTheDownloadEnded(ScriptedConnection first, ScriptedPeer honest, ScriptedPeer hostile, BtaClientRun run)
    {
        var honestEnd = honest.Connections.Select(c => c.ClosedAt).Max();
        Assert.True(first.ClosedAt < honestEnd,
            $"the hostile connection outlived the download\n{hostile.Describe()}\n{honest.Describe()}\n{run.Output}");
    }
}
