using System.Net;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Protocol.Dht;
using static BitTorrentActors.Engine.Tests.Dht.DhtIds;

namespace BitTorrentActors.Engine.Tests.Dht;

public class RoutingTableTests
{
    private static readonly TimeSpan T0 = TimeSpan.FromHours(1);

    private static RoutingTable Table() => new(Own, T0);

    /// <summary>Fills bucket 0 (ids differing from ours in the first bit) with 8 answered nodes, 1..8.</summary>
    private static RoutingTable TableWithFullFarBucket()
    {
        var table = Table();
        for (var n = 1; n <= 8; n++)
        {
            Assert.Equal(RoutingUpdate.Added, table.Responded(At(0, n), EndPoint(n), T0).Update);
        }
        // A ninth far node splits the table once (bucket 0 held our id's range too), then waits as a replacement.
        Assert.Equal(RoutingUpdate.Replacement, table.Responded(At(0, 9), EndPoint(9), T0).Update);
        return table;
    }

    [Fact]
    public void Buckets_of_8_split_only_where_our_own_id_falls()
    {
        var table = TableWithFullFarBucket();
        Assert.Equal(2, table.BucketCount);
        Assert.Equal(8, table.Count);
        Assert.Equal(1, table.ReplacementCount);

        // Nine nodes sharing 5 bits with us: the near bucket splits down to a bucket for exactly 5 bits.
        for (var n = 1; n <= 8; n++)
        {
            Assert.Equal(RoutingUpdate.Added, table.Responded(At(5, n), EndPoint(100 + n), T0).Update);
        }
        Assert.Equal(RoutingUpdate.Replacement, table.Responded(At(5, 9), EndPoint(109), T0).Update);
        Assert.Equal(7, table.BucketCount);

        // Far buckets never split: more far nodes only go to the replacement cache.
        for (var n = 10; n < 40; n++)
        {
            table.Responded(At(0, n), EndPoint(n), T0);
        }
        Assert.Equal(7, table.BucketCount);
        Assert.Equal(16, table.Count);
        Assert.All(table.Nodes(T0).GroupBy(n => n.Bucket), g => Assert.True(g.Count() <= 8));
        Assert.Equal([0, 5], table.Nodes(T0).Select(n => n.Bucket).Distinct().Order());
    }

    [Fact]
    public void Good_questionable_and_bad_follow_BEP_5()
    {
        var table = Table();
        table.Responded(At(0, 1), EndPoint(1), T0);
        table.Queried(At(0, 2), EndPoint(2), T0);

        Assert.Equal(NodeStatus.Good, table.StatusOf(EndPoint(1), T0 + Minutes(14.9)));
        Assert.Equal(NodeStatus.Questionable, table.StatusOf(EndPoint(1), T0 + Minutes(15)));
        // A node that answered once is good again while it keeps querying us.
        table.Queried(At(0, 1), EndPoint(1), T0 + Minutes(20));
        Assert.Equal(NodeStatus.Good, table.StatusOf(EndPoint(1), T0 + Minutes(30)));
        // One that only ever queried us is never good.
        Assert.Equal(NodeStatus.Questionable, table.StatusOf(EndPoint(2), T0));

        table.Failed(EndPoint(1), T0 + Minutes(31));
        table.Failed(EndPoint(1), T0 + Minutes(31));
        Assert.Equal(NodeStatus.Good, table.StatusOf(EndPoint(1), T0 + Minutes(31)));
        table.Failed(EndPoint(1), T0 + Minutes(31));
        Assert.Equal(NodeStatus.Bad, table.StatusOf(EndPoint(1), T0 + Minutes(31)));
        // An answer clears the failures.
        table.Responded(At(0, 1), EndPoint(1), T0 + Minutes(32));
        Assert.Equal(NodeStatus.Good, table.StatusOf(EndPoint(1), T0 + Minutes(32)));

        // A node that never answered is bad after one failure.
        table.Failed(EndPoint(2), T0);
        Assert.Equal(NodeStatus.Bad, table.StatusOf(EndPoint(2), T0));
        Assert.Equal(1, table.GoodCount(T0 + Minutes(32)));
    }

    [Fact]
    public void A_node_gone_bad_is_replaced_from_the_replacement_cache()
    {
        var table = TableWithFullFarBucket();

        for (var i = 0; i < 3; i++)
        {
            table.Failed(EndPoint(4), T0 + Minutes(1));
        }

        Assert.False(table.Contains(At(0, 4)));
        Assert.True(table.Contains(At(0, 9)));
        Assert.Equal(8, table.Count);
        Assert.Equal(0, table.ReplacementCount);
    }

    [Fact]
    public void A_bad_node_gives_way_to_a_newcomer_at_once()
    {
        var table = TableWithFullFarBucket();
        table.Remove(EndPoint(9));
        table.Failed(EndPoint(3), T0);
        table.Failed(EndPoint(3), T0);
        table.Failed(EndPoint(3), T0);

        Assert.Equal(RoutingUpdate.Added, table.Queried(At(0, 20), EndPoint(20), T0).Update);
        Assert.False(table.Contains(At(0, 3)));
        Assert.True(table.Contains(At(0, 20)));
    }

    [Fact]
    public void A_full_bucket_of_stale_nodes_asks_for_the_stalest_to_be_pinged()
    {
        var table = TableWithFullFarBucket();
        table.Responded(At(0, 2), EndPoint(2), T0 + Minutes(5));

        var outcome = table.Responded(At(0, 30), EndPoint(30), T0 + Minutes(16));

        Assert.Equal(RoutingUpdate.Replacement, outcome.Update);
        // Nodes 1 and 3..8 were last seen at T0, node 2 later: the first stale one in the bucket is the one to ping.
        Assert.Equal(new DhtNode(At(0, 1), EndPoint(1)), outcome.Ping);
        // While all are good, nothing is asked.
        Assert.Null(table.Responded(At(0, 31), EndPoint(31), T0 + Minutes(1)).Ping);
    }

    [Fact]
    public void Only_a_node_that_answered_displaces_a_never_confirmed_one()
    {
        var table = Table();
        for (var n = 1; n <= 8; n++)
        {
            table.AddUnconfirmed(At(0, n), EndPoint(n), T0);
        }
        table.Responded(At(3, 1), EndPoint(50), T0); // splits off the near half

        Assert.Equal(RoutingUpdate.Replacement, table.Queried(At(0, 9), EndPoint(9), T0).Update);
        Assert.Equal(RoutingUpdate.Added, table.Responded(At(0, 10), EndPoint(10), T0).Update);
        Assert.True(table.Contains(At(0, 10)));
        Assert.Equal(8, table.Nodes(T0).Count(n => n.Bucket == 0));
    }

    [Fact]
    public void A_forged_query_cannot_take_an_endpoint_over_but_an_answer_from_a_restarted_node_can()
    {
        var table = Table();
        table.Responded(At(0, 1), EndPoint(1), T0);

        Assert.Equal(RoutingUpdate.Refused, table.Queried(At(0, 2), EndPoint(1), T0).Update);
        Assert.True(table.Contains(At(0, 1)));

        Assert.Equal(RoutingUpdate.Added, table.Responded(At(0, 2), EndPoint(1), T0).Update);
        Assert.False(table.Contains(At(0, 1)));
        Assert.True(table.Contains(At(0, 2)));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void A_good_id_is_not_moved_to_another_endpoint()
    {
        var table = Table();
        table.Responded(At(0, 1), EndPoint(1), T0);

        Assert.Equal(RoutingUpdate.Refused, table.Responded(At(0, 1), EndPoint(2), T0).Update);
        Assert.Equal(EndPoint(1), Assert.Single(table.Nodes(T0)).EndPoint);
        // Once it is no longer good, an answer from the new endpoint moves it.
        Assert.Equal(RoutingUpdate.Added, table.Responded(At(0, 1), EndPoint(2), T0 + Minutes(16)).Update);
        Assert.Equal(EndPoint(2), Assert.Single(table.Nodes(T0)).EndPoint);
    }

    [Fact]
    public void Our_own_id_port_0_and_mapped_addresses()
    {
        var table = Table();

        Assert.Equal(RoutingUpdate.Refused, table.Responded(Own, EndPoint(1), T0).Update);
        Assert.Equal(RoutingUpdate.Refused, table.Responded(At(0, 1), new IPEndPoint(IPAddress.Loopback, 0), T0).Update);
        table.Responded(At(0, 1), IPEndPoint.Parse("[::ffff:127.0.0.1]:6881"), T0);
        Assert.Equal(RoutingUpdate.Updated, table.Responded(At(0, 1), IPEndPoint.Parse("127.0.0.1:6881"), T0).Update);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Closest_sorts_by_xor_distance_and_leaves_out_bad_and_optionally_unconfirmed_nodes()
    {
        var table = Table();
        var random = new Random(7);
        var ids = Enumerable.Range(0, 200).Select(_ => NodeId.Random(random)).ToList();
        for (var i = 0; i < ids.Count; i++)
        {
            table.Responded(ids[i], EndPoint(i + 1), T0);
        }
        var target = NodeId.Random(random);
        var expected = table.Nodes(T0).Select(n => n.Id).OrderBy(id => id ^ target).Take(8).ToList();

        Assert.Equal(expected, table.Closest(target, 8, T0).Select(n => n.Id));

        var nearest = table.Closest(target, 1, T0)[0];
        for (var i = 0; i < 3; i++)
        {
            table.Failed(nearest.EndPoint, T0);
        }
        Assert.DoesNotContain(nearest, table.Closest(target, 8, T0));

        var fresh = Table();
        fresh.AddUnconfirmed(At(0, 1), EndPoint(1), T0);
        fresh.Responded(At(0, 2), EndPoint(2), T0);
        Assert.Equal(2, fresh.Closest(Own, 8, T0).Count);
        Assert.Equal([At(0, 2)], fresh.Closest(Own, 8, T0, confirmedOnly: true).Select(n => n.Id));
    }

    [Fact]
    public void A_bucket_unchanged_for_15_minutes_is_due_for_a_refresh_in_its_range()
    {
        var table = TableWithFullFarBucket();
        var random = new Random(3);

        Assert.Empty(table.DueRefreshes(T0 + Minutes(14), random));

        var targets = table.DueRefreshes(T0 + Minutes(15), random);
        Assert.Equal(2, targets.Count);
        Assert.Equal(0, Own.CommonPrefixLength(targets[0]));
        Assert.True(Own.CommonPrefixLength(targets[1]) >= 1);
        // Not due again until another period passes without change.
        Assert.Empty(table.DueRefreshes(T0 + Minutes(16), random));
        table.Responded(At(0, 1), EndPoint(1), T0 + Minutes(29));
        // Bucket 0 changed at 29 minutes; only the near bucket is due at 30.
        Assert.True(Own.CommonPrefixLength(Assert.Single(table.DueRefreshes(T0 + Minutes(30), random))) >= 1);
    }

    [Fact]
    public void Ten_thousand_random_nodes_leave_a_bounded_table()
    {
        var table = Table();
        var random = new Random(11);
        for (var i = 0; i < 10_000; i++)
        {
            table.Responded(NodeId.Random(random), EndPoint(i + 1), T0);
        }

        Assert.InRange(table.BucketCount, 8, 20);
        Assert.True(table.Count <= table.BucketCount * 8);
        Assert.True(table.ReplacementCount <= table.BucketCount * 8);
        Assert.All(table.Nodes(T0), n => Assert.Equal(Math.Min(Own.CommonPrefixLength(n.Id), table.BucketCount - 1), n.Bucket));
    }

    [Fact]
    public void The_table_splits_down_to_160_buckets_for_the_id_next_to_ours_and_no_further()
    {
        var table = new RoutingTable(Own, T0, new RoutingTableOptions(BucketSize: 1));
        table.Responded(At(0, 1), EndPoint(1), T0);

        // The only id sharing 159 bits with ours forces every split there is.
        Assert.Equal(RoutingUpdate.Added, table.Responded(Own.FlipBit(159), EndPoint(2), T0).Update);
        Assert.Equal(RoutingUpdate.Added, table.Responded(Own.FlipBit(158), EndPoint(3), T0).Update);

        Assert.Equal(160, table.BucketCount);
        Assert.Equal(3, table.Count);
        Assert.Equal([0, 158, 159], table.Nodes(T0).Select(n => n.Bucket).Order());
    }
}
