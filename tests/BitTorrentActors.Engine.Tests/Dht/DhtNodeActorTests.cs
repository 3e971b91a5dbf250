using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Protocol.Dht;
using BitTorrentActors.Protocol.Metainfo;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Dht;

/// <summary>The DHT node actor against a scripted transport and a simulated DHT (<see cref="SimulatedDht"/>).</summary>
public sealed class DhtNodeActorTests(ITestOutputHelper output) : TestKit
{
    private static readonly IPEndPoint A = IPEndPoint.Parse("127.0.0.2:6881");
    private static readonly IPEndPoint B = IPEndPoint.Parse("127.0.0.3:6881");
    private static readonly IPEndPoint Peer = IPEndPoint.Parse("127.0.9.9:5555");

    /// <summary>A clock the test moves; read by the actor on its own thread.</summary>
    private sealed class ManualClock
    {
        private long _ticks = TimeSpan.FromHours(1).Ticks;

        public TimeSpan Now => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    private static ReadOnlyMemory<byte> Tid(int n) => new byte[] { (byte)'q', (byte)n };

    private static InfoHash Hash(int seed) => new(NodeId.Random(new Random(seed)).ToArray());

    private IActorRef Node(ScriptedDhtTransport transport, DhtNodeOptions? options = null)
    {
        var node = Sys.ActorOf(DhtNodeActor.Props(transport, TestActor, options ?? new DhtNodeOptions(Id: DhtIds.Own, Seed: 1)));
        AwaitCondition(() => transport.Started, TimeSpan.FromSeconds(3));
        return node;
    }

    private static Task<DhtNodeActor.DhtStatus> Status(IActorRef node, int seconds = 5) =>
        node.Ask<DhtNodeActor.DhtStatus>(DhtNodeActor.GetStatus.Instance, TimeSpan.FromSeconds(seconds));

    private static List<T> AnswersTo<T>(ScriptedDhtTransport transport, IPEndPoint to) where T : KrpcMessage =>
        transport.SentOf<T>().Where(s => s.To.Equals(to)).Select(s => s.Message).ToList();

    [Fact]
    public async Task Queries_are_answered_as_a_full_node_and_garbage_is_dropped()
    {
        var transport = new ScriptedDhtTransport();
        var node = Node(transport);

        transport.Deliver(new PingQuery(Tid(1), DhtIds.At(3, 1)), A);
        transport.Deliver(new FindNodeQuery(Tid(2), DhtIds.At(4, 1), DhtIds.At(10, 1)), B);
        transport.Deliver("not bencode at all"u8.ToArray(), A);
        transport.Deliver("d1:t2:zz1:y1:q1:q4:pinge"u8.ToArray(), B);
        var status = await Status(node);

        var pong = Assert.Single(AnswersTo<KrpcResponse>(transport, A));
        Assert.Equal(DhtIds.Own, pong.Sender);
        Assert.True(pong.TransactionId.Span.SequenceEqual(Tid(1).Span));
        Assert.Equal(A, pong.ExternalAddress);
        Assert.Single(AnswersTo<KrpcResponse>(transport, B));
        // The query without arguments gets 203 with its transaction id; the garbage gets nothing.
        var refused = Assert.Single(AnswersTo<KrpcError>(transport, B));
        Assert.Equal((int)KrpcErrorCode.Protocol, refused.Code);
        Assert.Equal(3, transport.SentCount);
        Assert.Equal(2, status.QueriesAnswered);
        Assert.Equal(2, status.Nodes);
    }

    [Fact]
    public async Task A_flooding_address_is_throttled_while_another_keeps_its_answers()
    {
        var clock = new ManualClock();
        var transport = new ScriptedDhtTransport();
        var node = Node(transport, new DhtNodeOptions(Id: DhtIds.Own, QueriesPerSecond: 1, QueryBurst: 5, Clock: () => clock.Now, Seed: 1));

        for (var i = 0; i < 20; i++)
        {
            transport.Deliver(new PingQuery(Tid(i), DhtIds.At(3, 1)), A);
        }
        transport.Deliver(new PingQuery(Tid(99), DhtIds.At(4, 1)), B);
        var status = await Status(node);

        Assert.Equal(5, AnswersTo<KrpcResponse>(transport, A).Count);
        Assert.Single(AnswersTo<KrpcResponse>(transport, B));
        Assert.Equal(6, status.QueriesAnswered);
        Assert.Equal(15, status.QueriesThrottled);
    }

    [Fact]
    public async Task Announce_peer_needs_the_token_given_to_that_address_and_a_stale_one_gets_203()
    {
        var clock = new ManualClock();
        var transport = new ScriptedDhtTransport();
        var node = Node(transport, new DhtNodeOptions(Id: DhtIds.Own, Clock: () => clock.Now, Seed: 1));
        var hash = Hash(5);

        transport.Deliver(new GetPeersQuery(Tid(1), DhtIds.At(3, 1), hash), A);
        await Status(node);
        var token = Assert.Single(AnswersTo<KrpcResponse>(transport, A)).Token!.Value.ToArray();
        transport.Deliver(new AnnouncePeerQuery(Tid(2), DhtIds.At(3, 1), hash, 7000, false, "wrong"u8.ToArray()), A);
        transport.Deliver(new AnnouncePeerQuery(Tid(3), DhtIds.At(4, 1), hash, 7000, false, token), B);
        transport.Deliver(new AnnouncePeerQuery(Tid(4), DhtIds.At(3, 1), hash, 7000, false, token), A);
        transport.Deliver(new GetPeersQuery(Tid(5), DhtIds.At(4, 1), hash), B);
        var status = await Status(node);

        Assert.Equal((int)KrpcErrorCode.Protocol, Assert.Single(AnswersTo<KrpcError>(transport, A)).Code);
        Assert.Equal((int)KrpcErrorCode.Protocol, Assert.Single(AnswersTo<KrpcError>(transport, B)).Code);
        var values = AnswersTo<KrpcResponse>(transport, B).Single(r => r.TransactionId.Span.SequenceEqual(Tid(5).Span)).Values;
        Assert.Equal([new IPEndPoint(A.Address, 7000)], values);
        Assert.Equal(1, status.StoredPeers);

        clock.Advance(TimeSpan.FromMinutes(11));
        transport.Deliver(new AnnouncePeerQuery(Tid(6), DhtIds.At(3, 1), hash, 7001, false, token), A);
        await Status(node);
        Assert.Equal(2, AnswersTo<KrpcError>(transport, A).Count);
    }

    [Fact]
    public async Task A_get_peers_lookup_converges_on_the_closest_nodes_and_reports_their_peers()
    {
        var dht = new SimulatedDht(200, seed: 7);
        var hash = Hash(8);
        var target = NodeId.FromInfoHash(hash);
        var closest = dht.ClosestTo(target, 8);
        dht.Peers[closest[0].Id] = [Peer];
        var transport = new ScriptedDhtTransport { Network = dht.Answer };
        var node = Node(transport);

        node.Tell(new DhtNodeActor.Bootstrap([dht.AllNodes[0].EndPoint]));
        node.Tell(new DhtNodeActor.GetPeers(hash));

        var bootstrap = ExpectMsg<DhtNodeActor.LookupFinished>(TimeSpan.FromSeconds(5));
        Assert.Equal(DhtLookupKind.Bootstrap, bootstrap.Kind);
        Assert.Equal(8, bootstrap.Responded);
        var found = ExpectMsg<DhtNodeActor.PeersFound>(TimeSpan.FromSeconds(5));
        Assert.Equal(hash, found.InfoHash);
        Assert.Equal([Peer], found.Peers);
        var lookup = ExpectMsg<DhtNodeActor.LookupFinished>(TimeSpan.FromSeconds(5));
        Assert.Equal(DhtLookupKind.GetPeers, lookup.Kind);
        Assert.Equal(8, lookup.Responded);
        var asked = transport.SentOf<GetPeersQuery>().Select(s => s.To).ToHashSet();
        Assert.All(closest, c => Assert.Contains(c.EndPoint, asked));
        Assert.True(asked.Count < 60, $"{asked.Count} nodes asked of 200");
        var status = await Status(node);
        Assert.Equal(0, status.Lookups);
        Assert.Equal(0, status.PendingQueries);
        Assert.True(status.GoodNodes >= 8, $"{status.GoodNodes} good nodes");
    }

    [Fact]
    public async Task Announce_goes_to_the_closest_token_holders_again_each_interval_until_stopped()
    {
        var dht = new SimulatedDht(120, seed: 9);
        var hash = Hash(10);
        var closest = dht.ClosestTo(NodeId.FromInfoHash(hash), 8).Select(n => n.EndPoint).ToHashSet();
        // Two of the closest give no token, or an empty one: they get no announce.
        dht.WithoutToken.Add(closest.First());
        dht.EmptyToken.Add(closest.Last());
        var holders = closest.Except(dht.WithoutToken).Except(dht.EmptyToken).ToHashSet();
        var transport = new ScriptedDhtTransport { Network = dht.Answer };
        // The interval runs on a clock the test moves: on a real one, a loaded machine could let a second round
        // start before the first round's count is read (CI once read 36 where 6 were due).
        var clock = new ManualClock();
        var interval = TimeSpan.FromSeconds(10);
        var node = Node(transport, new DhtNodeOptions(Id: DhtIds.Own, TickInterval: TimeSpan.FromMilliseconds(50),
            AnnounceInterval: interval, Clock: () => clock.Now, Seed: 1));

        node.Tell(new DhtNodeActor.Bootstrap([dht.AllNodes[5].EndPoint]));
        node.Tell(new DhtNodeActor.Announce(hash, 7000));
        FishForMessage<DhtNodeActor.LookupFinished>(m => m.Kind == DhtLookupKind.Bootstrap, TimeSpan.FromSeconds(5));
        var first = FishForMessage<DhtNodeActor.LookupFinished>(m => m.Kind == DhtLookupKind.Announce, TimeSpan.FromSeconds(5));

        Assert.Equal(6, first.AnnouncedTo);
        await AwaitAssertAsync(async () => Assert.Equal(6, (await Status(node)).AnnouncesAccepted), TimeSpan.FromSeconds(3));
        Assert.Equal(holders, dht.Announced.Select(a => a.To).ToHashSet());
        Assert.Equal(6, transport.SentOf<AnnouncePeerQuery>().Count);
        Assert.All(dht.Announced, a =>
        {
            Assert.Equal(7000, a.Query.Port);
            Assert.False(a.Query.ImpliedPort);
            Assert.Equal(hash, a.Query.InfoHash);
        });

        // Nothing more until the interval has passed; then the same holders again.
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal(6, transport.SentOf<AnnouncePeerQuery>().Count);
        clock.Advance(interval);
        var again = FishForMessage<DhtNodeActor.LookupFinished>(m => m.Kind == DhtLookupKind.Announce, TimeSpan.FromSeconds(5));
        Assert.Equal(6, again.AnnouncedTo);
        await AwaitAssertAsync(async () => Assert.Equal(12, (await Status(node)).AnnouncesAccepted), TimeSpan.FromSeconds(3));
        node.Tell(new DhtNodeActor.StopAnnouncing(hash));
        await Status(node);
        clock.Advance(interval);
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        Assert.Equal(12, (await Status(node)).AnnouncesAccepted);
        Assert.Equal(12, transport.SentOf<AnnouncePeerQuery>().Count);

        // Implied port: the transport's port travels, and the flag tells the node to use the source port.
        var implied = Hash(11);
        node.Tell(new DhtNodeActor.Announce(implied, ImpliedPort: true));
        FishForMessage<DhtNodeActor.LookupFinished>(m => m.Kind == DhtLookupKind.Announce, TimeSpan.FromSeconds(5));
        node.Tell(new DhtNodeActor.StopAnnouncing(implied));
        await AwaitAssertAsync(() => Assert.True(dht.Announced.Count(a => a.Query.InfoHash == implied) >= 6), TimeSpan.FromSeconds(3));
        Assert.All(dht.Announced.Where(a => a.Query.InfoHash == implied), a =>
        {
            Assert.True(a.Query.ImpliedPort);
            Assert.Equal(transport.LocalEndPoint.Port, a.Query.Port);
        });
    }

    [Fact]
    public async Task A_bucket_unchanged_for_fifteen_minutes_gets_a_refresh_lookup()
    {
        var clock = new ManualClock();
        var dht = new SimulatedDht(100, seed: 14);
        var transport = new ScriptedDhtTransport { Network = dht.Answer };
        var node = Node(transport, new DhtNodeOptions(Id: DhtIds.Own, TickInterval: TimeSpan.FromMilliseconds(50),
            Clock: () => clock.Now, Seed: 1));
        node.Tell(new DhtNodeActor.Bootstrap([dht.AllNodes[1].EndPoint]));
        FishForMessage<DhtNodeActor.LookupFinished>(m => m.Kind == DhtLookupKind.Bootstrap, TimeSpan.FromSeconds(5));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        var buckets = (await Status(node)).Buckets;

        clock.Advance(TimeSpan.FromMinutes(16));

        var refreshes = Enumerable.Range(0, buckets)
            .Select(_ => ExpectMsg<DhtNodeActor.LookupFinished>(TimeSpan.FromSeconds(5)))
            .ToList();
        Assert.All(refreshes, r => Assert.Equal(DhtLookupKind.Refresh, r.Kind));
        Assert.All(refreshes, r => Assert.True(r.Responded > 0));
        // Each bucket's target lies in that bucket's range of ids.
        Assert.Equal(Enumerable.Range(0, buckets), refreshes.Select(r => Math.Min(DhtIds.Own.CommonPrefixLength(r.Target), buckets - 1)).Order());
    }

    [Fact]
    public async Task An_error_answer_fails_the_lookup_but_not_the_node_in_the_table()
    {
        var id = DhtIds.At(2, 9);
        var transport = new ScriptedDhtTransport
        {
            Network = (message, _) => message switch
            {
                FindNodeQuery q => new KrpcResponse(q.TransactionId, id),
                KrpcQuery q => new KrpcError(q.TransactionId, KrpcErrorCode.Server, "busy"),
                _ => null,
            },
        };
        var node = Node(transport);
        node.Tell(new DhtNodeActor.Bootstrap([A]));
        ExpectMsg<DhtNodeActor.LookupFinished>(TimeSpan.FromSeconds(3));

        node.Tell(new DhtNodeActor.GetPeers(Hash(15)));

        var lookup = ExpectMsg<DhtNodeActor.LookupFinished>(TimeSpan.FromSeconds(3));
        Assert.Equal(DhtLookupKind.GetPeers, lookup.Kind);
        Assert.Equal(0, lookup.Responded);
        var entry = Assert.Single((await Status(node)).Table);
        Assert.Equal(id, entry.Id);
        Assert.Equal(0, entry.Failures);
        Assert.Equal(NodeStatus.Good, entry.Status);
    }

    [Fact]
    public async Task Unanswered_queries_time_out_and_fail_the_lookup()
    {
        var transport = new ScriptedDhtTransport();
        var node = Node(transport, new DhtNodeOptions(Id: DhtIds.Own, QueryTimeout: TimeSpan.FromMilliseconds(200),
            TickInterval: TimeSpan.FromMilliseconds(50), Seed: 1));

        node.Tell(new DhtNodeActor.Bootstrap([A, B]));

        var finished = ExpectMsg<DhtNodeActor.LookupFinished>(TimeSpan.FromSeconds(3));
        Assert.Equal(DhtLookupKind.Bootstrap, finished.Kind);
        Assert.Equal(0, finished.Responded);
        Assert.Equal(2, transport.SentOf<FindNodeQuery>().Count);
        Assert.Equal(0, (await Status(node)).PendingQueries);
    }

    [Fact]
    public async Task An_answer_from_another_endpoint_or_with_an_unknown_transaction_is_ignored()
    {
        var transport = new ScriptedDhtTransport();
        var node = Node(transport);
        node.Tell(new DhtNodeActor.Bootstrap([A]));
        await Status(node);
        var query = Assert.Single(transport.SentOf<FindNodeQuery>());

        transport.Deliver(new KrpcResponse(query.Message.TransactionId, DhtIds.At(2, 1)), B);
        transport.Deliver(new KrpcResponse(new byte[] { 1, 2 }, DhtIds.At(2, 2)), A);
        var status = await Status(node);

        Assert.Equal(0, status.Nodes);
        Assert.Equal(1, status.PendingQueries);
        transport.Deliver(new KrpcResponse(query.Message.TransactionId, DhtIds.At(2, 3)), A);
        Assert.Equal(DhtLookupKind.Bootstrap, ExpectMsg<DhtNodeActor.LookupFinished>(TimeSpan.FromSeconds(3)).Kind);
        Assert.Equal(1, (await Status(node)).GoodNodes);
    }

    [Fact]
    public async Task The_table_is_saved_and_a_restarted_node_finds_the_swarm_without_a_bootstrap_node()
    {
        using var dir = new SwarmTempDir("dht-state");
        var path = Path.Combine(dir.Path, "dht.dat");
        var dht = new SimulatedDht(150, seed: 12);
        var hash = Hash(13);
        dht.Peers[dht.ClosestTo(NodeId.FromInfoHash(hash), 1)[0].Id] = [Peer];
        var first = new ScriptedDhtTransport { Network = dht.Answer };
        var node = Node(first, new DhtNodeOptions(StatePath: path, Seed: 2));
        node.Tell(new DhtNodeActor.Bootstrap([dht.AllNodes[3].EndPoint]));
        ExpectMsg<DhtNodeActor.LookupFinished>(TimeSpan.FromSeconds(5));
        var before = await Status(node);

        var saved = await node.Ask<DhtNodeActor.TableSaved>(DhtNodeActor.SaveTable.Instance, TimeSpan.FromSeconds(5));
        Assert.Null(saved.Error);
        Assert.Equal(before.Nodes, saved.Nodes);
        Watch(node);
        Sys.Stop(node);
        ExpectTerminated(node);
        Assert.True(first.Disposed);

        var second = new ScriptedDhtTransport { Network = dht.Answer };
        var restarted = Node(second, new DhtNodeOptions(StatePath: path, Seed: 3));
        restarted.Tell(new DhtNodeActor.GetPeers(hash));

        var rejoined = ExpectMsg<DhtNodeActor.LookupFinished>(TimeSpan.FromSeconds(5));
        Assert.Equal(DhtLookupKind.Bootstrap, rejoined.Kind);
        Assert.Equal(8, rejoined.Responded);
        Assert.Equal([Peer], ExpectMsg<DhtNodeActor.PeersFound>(TimeSpan.FromSeconds(5)).Peers);
        var after = await Status(restarted);
        Assert.Equal(before.Id, after.Id);
    }

    [Fact]
    public async Task A_damaged_state_file_is_ignored_with_a_fresh_table()
    {
        using var dir = new SwarmTempDir("dht-state");
        var path = Path.Combine(dir.Path, "dht.dat");
        await File.WriteAllBytesAsync(path, "this is no bencode"u8.ToArray());
        var transport = new ScriptedDhtTransport();
        var node = Node(transport, new DhtNodeOptions(StatePath: path, Seed: 4));

        var status = await Status(node);

        Assert.Equal(0, status.Nodes);
        Assert.Empty(transport.Sent);
    }

    [Fact]
    public async Task The_address_guard_refuses_a_bootstrap_node_outside_loopback()
    {
        // Bound to 127.0.0.1, the socket could not reach 192.0.2.1 (TEST-NET-1) even if the guard failed.
        using var transport = new DhtUdpTransport(new IPEndPoint(IPAddress.Loopback, 0), IPAddress.IsLoopback);
        var node = Sys.ActorOf(DhtNodeActor.Props(transport, TestActor, new DhtNodeOptions(Seed: 5)));

        node.Tell(new DhtNodeActor.Bootstrap([IPEndPoint.Parse("192.0.2.1:6881")]));

        var finished = ExpectMsg<DhtNodeActor.LookupFinished>(TimeSpan.FromSeconds(3));
        Assert.Equal(0, finished.Responded);
        Assert.Equal(1, transport.Refused);
        Assert.Equal(0, (await Status(node)).PendingQueries);
    }

    [Fact]
    public async Task Ten_thousand_nodes_offered_leave_a_bounded_table_and_memory()
    {
        var transport = new ScriptedDhtTransport { Record = false };
        var node = Node(transport, new DhtNodeOptions(Id: DhtIds.Own, Seed: 6));
        await Status(node);
        var before = GC.GetTotalMemory(forceFullCollection: true);

        const int offered = 10_000;
        for (var n = 0; n < offered; n++)
        {
            // Every bucket depth gets nodes, so the table fills as deep as it can split.
            transport.Deliver(new PingQuery(Tid(n), DhtIds.At(n % 136, n / 136)), DhtIds.EndPoint(70_000 + n));
        }
        // The status query waits behind all 10,000 queries in the mailbox: 1-2 s alone, more beside a CI run's other
        // test projects (a 5 s wait timed out there).
        var status = await Status(node, seconds: 60);
        var after = GC.GetTotalMemory(forceFullCollection: true);

        var grown = (after - before) / 1024.0 / 1024.0;
        output.WriteLine($"offered {offered} nodes: table {status.Nodes} nodes in {status.Buckets} buckets, answered {status.QueriesAnswered}; managed heap grew {grown:F1} MiB");
        Assert.Equal(offered, status.QueriesAnswered);
        Assert.InRange(status.Nodes, 1000, 160 * 8);
        Assert.True(grown < 32, $"managed heap grew {grown:F1} MiB");
        GC.KeepAlive(node);
    }
}
