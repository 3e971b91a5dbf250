using System.Net;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Protocol.Dht;
using static BitTorrentActors.Engine.Tests.Dht.DhtIds;

namespace BitTorrentActors.Engine.Tests.Dht;

public class LookupStateTests
{
    private static readonly TimeSpan T0 = TimeSpan.FromHours(5);

    /// <summary>
    /// A scripted DHT: every node has a routing table of the others (8 per bucket) and answers a lookup with
    /// the 8 nodes it knows closest to the target, as a real node answers find_node.
    /// </summary>
    private sealed class ScriptedNetwork
    {
        private readonly Dictionary<IPEndPoint, (DhtNode Node, List<DhtNode> Known)> _nodes = [];

        public ScriptedNetwork(int size, int seed)
        {
            var random = new Random(seed);
            All = Enumerable.Range(1, size).Select(n => new DhtNode(NodeId.Random(random), EndPoint(n))).ToList();
            foreach (var node in All)
            {
                // A Kademlia table: up to 8 nodes for every length of prefix shared with this node.
                var known = All.Where(o => o != node)
                    .OrderBy(_ => random.Next())
                    .GroupBy(o => o.Id.CommonPrefixLength(node.Id))
                    .SelectMany(g => g.Take(8))
                    .ToList();
                _nodes[node.EndPoint] = (node, known);
            }
        }

        public List<DhtNode> All { get; }

        public HashSet<IPEndPoint> Silent { get; } = [];

        public int MaxInFlightSeen { get; private set; }

        public IReadOnlyList<DhtNode> Answer(IPEndPoint to, NodeId target) =>
            _nodes[to].Known.OrderBy(n => n.Id ^ target).Take(8).ToList();

        public NodeId IdOf(IPEndPoint endPoint) => _nodes[endPoint].Node.Id;

        /// <summary>Runs the lookup to the end: answers arrive 10 ms after each query, silent nodes never answer.</summary>
        public void Run(LookupState lookup, TimeSpan start)
        {
            var now = start;
            var pending = new List<(IPEndPoint To, TimeSpan At)>();
            for (var step = 0; step < 10_000 && !lookup.IsDone; step++)
            {
                foreach (var node in lookup.NextQueries(now))
                {
                    if (!Silent.Contains(node.EndPoint))
                    {
                        pending.Add((node.EndPoint, now + TimeSpan.FromMilliseconds(10)));
                    }
                }
                MaxInFlightSeen = Math.Max(MaxInFlightSeen, lookup.InFlight);
                var due = pending.Where(p => p.At <= now).ToList();
                foreach (var answer in due)
                {
                    pending.Remove(answer);
                    Assert.True(lookup.OnResponse(answer.To, IdOf(answer.To), Answer(answer.To, lookup.Target), null, now));
                }
                now += TimeSpan.FromMilliseconds(10);
            }
            Assert.True(lookup.IsDone, "the lookup never finished");
        }
    }

    [Fact]
    public void Finds_the_8_closest_nodes_of_a_scripted_network_with_3_in_flight_at_most()
    {
        var network = new ScriptedNetwork(500, seed: 1);
        var target = NodeId.Random(new Random(2));
        var lookup = new LookupState(target, network.All.Take(3));

        network.Run(lookup, T0);

        var truth = network.All.OrderBy(n => n.Id ^ target).Take(8).ToList();
        Assert.Equal(truth, lookup.Closest().Select(r => r.Node));
        Assert.Equal(3, network.MaxInFlightSeen);
        Assert.InRange(lookup.QueriesSent, 8, 60);
    }

    [Fact]
    public void A_silent_node_times_out_and_the_next_candidate_takes_its_place()
    {
        var network = new ScriptedNetwork(300, seed: 3);
        var target = NodeId.Random(new Random(4));
        var truth = network.All.OrderBy(n => n.Id ^ target).ToList();
        network.Silent.Add(truth[0].EndPoint);
        var lookup = new LookupState(target, network.All.Take(3), new LookupOptions(QueryTimeout: TimeSpan.FromSeconds(2)));

        network.Run(lookup, T0);

        Assert.Equal(truth.Skip(1).Take(8), lookup.Closest().Select(r => r.Node));
        Assert.True(lookup.Failures >= 1);
    }

    [Fact]
    public void Expire_reports_the_timed_out_nodes_and_NextTimeout_is_the_earliest_deadline()
    {
        var seeds = new[] { new DhtNode(At(0, 1), EndPoint(1)), new DhtNode(At(0, 2), EndPoint(2)) };
        var lookup = new LookupState(Own, seeds, new LookupOptions(QueryTimeout: TimeSpan.FromSeconds(5)));

        Assert.Null(lookup.NextTimeout);
        Assert.Equal(2, lookup.NextQueries(T0).Count);
        Assert.Equal(T0 + TimeSpan.FromSeconds(5), lookup.NextTimeout);
        Assert.Empty(lookup.Expire(T0 + TimeSpan.FromSeconds(4.9)));

        Assert.Equal(seeds.OrderBy(s => s.Id ^ Own), lookup.Expire(T0 + TimeSpan.FromSeconds(5)).OrderBy(s => s.Id ^ Own));
        Assert.Equal(0, lookup.InFlight);
        Assert.True(lookup.IsDone);
        Assert.Empty(lookup.Closest());
    }

    [Fact]
    public void Done_when_nothing_closer_comes_back_with_the_tokens_of_those_that_answered()
    {
        var seeds = Enumerable.Range(1, 3).Select(n => new DhtNode(At(0, n), EndPoint(n))).ToList();
        var lookup = new LookupState(Own, seeds);

        var sent = lookup.NextQueries(T0);
        Assert.Equal(3, sent.Count);
        Assert.False(lookup.IsDone);
        foreach (var node in sent)
        {
            lookup.OnResponse(node.EndPoint, node.Id, [], new byte[] { (byte)node.EndPoint.Address.GetAddressBytes()[3] }, T0);
        }

        Assert.True(lookup.IsDone);
        Assert.Empty(lookup.NextQueries(T0));
        Assert.Equal(3, lookup.Closest().Count);
        Assert.All(lookup.Closest(), r => Assert.Equal(r.Node.EndPoint.Address.GetAddressBytes()[3], r.Token!.Value.Span[0]));
    }

    [Fact]
    public void Answers_from_addresses_not_asked_and_errors_count_as_they_should()
    {
        var seeds = new[] { new DhtNode(At(0, 1), EndPoint(1)), new DhtNode(At(0, 2), EndPoint(2)) };
        var lookup = new LookupState(Own, seeds, new LookupOptions(Alpha: 1));

        var first = Assert.Single(lookup.NextQueries(T0));
        var other = seeds.Single(s => s != first);

        // Not asked yet (alpha 1): an answer from it is unsolicited and changes nothing.
        Assert.False(lookup.OnResponse(other.EndPoint, other.Id, [new DhtNode(At(9, 1), EndPoint(9))], null, T0));
        Assert.Equal(2, lookup.CandidateCount);

        lookup.OnFailure(first.EndPoint, T0);
        Assert.Equal(1, lookup.Failures);
        Assert.Equal(other, Assert.Single(lookup.NextQueries(T0)));
        Assert.True(lookup.OnResponse(other.EndPoint, other.Id, [], null, T0));
        // A second answer to the same query is not counted twice.
        Assert.False(lookup.OnResponse(other.EndPoint, other.Id, [], null, T0));
        Assert.True(lookup.IsDone);
    }

    [Fact]
    public void A_flood_of_nodes_is_bounded_and_our_own_id_is_never_a_candidate()
    {
        var lookup = new LookupState(Own, [new DhtNode(At(0, 1), EndPoint(1))], ownId: At(150, 0));
        var seed = Assert.Single(lookup.NextQueries(T0));
        var flood = Enumerable.Range(2, 1000).Select(n => new DhtNode(At(n % 100, n), EndPoint(n)))
            .Append(new DhtNode(At(150, 0), EndPoint(5000)))
            .ToList();

        lookup.OnResponse(seed.EndPoint, seed.Id, flood, null, T0);

        Assert.Equal(LookupOptions.Default.MaxCandidates, lookup.CandidateCount);
        var asked = lookup.NextQueries(T0);
        Assert.Equal(3, asked.Count);
        Assert.DoesNotContain(asked, n => n.Id == At(150, 0));
        // The closest of the flood are kept and asked first.
        var closest = flood.Where(n => n.Id != At(150, 0)).OrderBy(n => n.Id ^ Own).Take(3);
        Assert.Equal(closest, asked);
    }

    [Fact]
    public void The_query_budget_ends_a_lookup_that_keeps_being_offered_closer_nodes()
    {
        var network = new ScriptedNetwork(400, seed: 8);
        var lookup = new LookupState(NodeId.Random(new Random(9)), network.All.Take(3), new LookupOptions(MaxQueries: 5));

        network.Run(lookup, T0);

        Assert.Equal(5, lookup.QueriesSent);
    }

    [Fact]
    public void The_responders_own_id_replaces_the_one_it_was_referred_by()
    {
        var lookup = new LookupState(Own, [new DhtNode(At(0, 1), EndPoint(1))]);
        var seed = Assert.Single(lookup.NextQueries(T0));

        lookup.OnResponse(seed.EndPoint, At(4, 1), [], null, T0);

        Assert.Equal(new DhtNode(At(4, 1), EndPoint(1)), Assert.Single(lookup.Closest()).Node);
    }
}
