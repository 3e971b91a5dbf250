using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Protocol.Dht;
using static BitTorrentActors.Engine.Tests.Dht.DhtIds;

namespace BitTorrentActors.Engine.Tests.Dht;

/// <summary>
/// BEP 42 from our external address: the <c>ip</c> responders report is voted on (<see cref="ExternalAddressVoter"/>),
/// and once a majority agrees on a public address our id does not fit, the node takes a compliant id and rebuilds
/// its table around it (<see cref="RoutingTable.WithOwnId"/>), as libtorrent's node::update_node_id does. The node
/// runs on a scripted transport: no datagram goes anywhere.
/// </summary>
public sealed class ExternalAddressTests : TestKit
{
    // Public addresses, built from bytes: the test checker refuses IP literals beyond loopback in tests, and none of
    // these is ever sent to (the voter and the scripted transport only compare them). The first is BEP 42's
    // first vector; the others are arbitrary public addresses.
    private static readonly IPAddress External = new([124, 31, 75, 21]);
    private static readonly IPAddress OtherExternal = new([21, 75, 31, 124]);
    private static readonly IPAddress Private = new([192, 168, 1, 10]);

    private static IPAddress Voter(int n) => new([127, 0, 50, (byte)n]);

    [Fact]
    public void The_voter_agrees_once_four_distinct_responders_name_the_address_by_a_majority()
    {
        var voter = new ExternalAddressVoter();

        // One responder saying it again and again is one vote.
        for (var i = 0; i < 10; i++)
        {
            Assert.False(voter.Vote(Voter(1), External));
        }
        Assert.False(voter.Vote(Voter(2), External));
        Assert.False(voter.Vote(Voter(3), External));
        Assert.Null(voter.Agreed);

        Assert.True(voter.Vote(Voter(4), External));
        Assert.Equal(External, voter.Agreed);
        // The same address again changes nothing.
        Assert.False(voter.Vote(Voter(5), External));
    }

    [Fact]
    public void A_split_vote_agrees_on_nothing_and_local_addresses_never_count()
    {
        var voter = new ExternalAddressVoter();

        voter.Vote(Voter(1), External);
        voter.Vote(Voter(2), External);
        voter.Vote(Voter(3), OtherExternal);
        voter.Vote(Voter(4), OtherExternal);
        for (var n = 10; n < 30; n++)
        {
            // Loopback and private addresses are what a LAN or a loopback mesh says: BEP 42 does not cover them.
            voter.Vote(Voter(n), n % 2 == 0 ? IPAddress.Loopback : Private);
        }

        Assert.Null(voter.Agreed);
        Assert.Equal(4, voter.Votes);
    }

    [Fact]
    public void The_voter_remembers_a_bounded_number_of_responders()
    {
        var voter = new ExternalAddressVoter(maxVoters: 50);

        for (var n = 0; n < 5000; n++)
        {
            voter.Vote(new IPAddress([127, 1, (byte)(n >> 8), (byte)n]), OtherExternal);
        }

        Assert.Equal(50, voter.Votes);
        Assert.Equal(OtherExternal, voter.Agreed);
    }

    [Fact]
    public void A_table_rebuilt_around_a_new_id_keeps_its_nodes_and_what_it_knows_of_them()
    {
        var t0 = TimeSpan.FromHours(1);
        var table = new RoutingTable(Own, t0);
        for (var n = 1; n <= 12; n++)
        {
            table.Responded(At(n % 4, n), EndPoint(n), t0);
        }
        table.Failed(EndPoint(1), t0);
        var newId = NodeIdSecurity.Generate(External, new Random(3));

        var rebuilt = table.WithOwnId(newId, t0 + TimeSpan.FromMinutes(1));

        Assert.Equal(newId, rebuilt.OwnId);
        Assert.Equal(table.Count + table.ReplacementCount, rebuilt.Count + rebuilt.ReplacementCount);
        Assert.Equal(
            table.Nodes(t0).Select(n => (n.Id, n.EndPoint, n.LastResponse, n.Failures)).OrderBy(n => n.EndPoint.ToString()),
            rebuilt.Nodes(t0).Select(n => (n.Id, n.EndPoint, n.LastResponse, n.Failures)).OrderBy(n => n.EndPoint.ToString()));
    }

    [Fact]
    public async Task Responders_agreeing_on_a_public_address_give_the_node_a_bep42_id_for_it_and_it_keeps_its_table()
    {
        var dht = new SimulatedDht(60, seed: 41);
        var transport = new ScriptedDhtTransport { Network = (m, to) => dht.Answer(m, to) is { } a ? a with { ExternalAddress = new IPEndPoint(External, 6881) } : null };
        var node = Sys.ActorOf(DhtNodeActor.Props(transport, TestActor, new DhtNodeOptions(Id: Own, Seed: 1)));
        AwaitCondition(() => transport.Started, TimeSpan.FromSeconds(3));
        Assert.False(NodeIdSecurity.Matches(Own, External));

        node.Tell(new DhtNodeActor.Bootstrap([dht.AllNodes[0].EndPoint]));

        ExpectMsg<DhtNodeActor.LookupFinished>(TimeSpan.FromSeconds(5));
        var status = await node.Ask<DhtNodeActor.DhtStatus>(DhtNodeActor.GetStatus.Instance, TimeSpan.FromSeconds(5));
        Assert.Equal(External, status.ExternalAddress);
        Assert.Equal(1, status.IdChanges);
        Assert.NotEqual(Own, status.Id);
        Assert.True(NodeIdSecurity.Matches(status.Id, External), status.Id.ToHex());
        Assert.True(status.Nodes >= 8, $"{status.Nodes} nodes kept");
        // Queries sent after the change carry the new id.
        node.Tell(new DhtNodeActor.Bootstrap([dht.AllNodes[1].EndPoint]));
        ExpectMsg<DhtNodeActor.LookupFinished>(TimeSpan.FromSeconds(5));
        Assert.Equal(status.Id, transport.SentOf<FindNodeQuery>().Last().Message.Sender);
        Assert.Equal(1, (await node.Ask<DhtNodeActor.DhtStatus>(DhtNodeActor.GetStatus.Instance, TimeSpan.FromSeconds(5))).IdChanges);
    }

    [Fact]
    public async Task An_id_that_already_fits_and_a_loopback_address_leave_the_id_alone()
    {
        var fitting = NodeIdSecurity.Generate(External, new Random(5));
        foreach (var (id, reported) in new[] { (fitting, External), (Own, IPAddress.Loopback) })
        {
            var dht = new SimulatedDht(30, seed: 43);
            var transport = new ScriptedDhtTransport { Network = (m, to) => dht.Answer(m, to) is { } a ? a with { ExternalAddress = new IPEndPoint(reported, 6881) } : null };
            var node = Sys.ActorOf(DhtNodeActor.Props(transport, TestActor, new DhtNodeOptions(Id: id, Seed: 1)));
            AwaitCondition(() => transport.Started, TimeSpan.FromSeconds(3));

            node.Tell(new DhtNodeActor.Bootstrap([dht.AllNodes[0].EndPoint]));

            ExpectMsg<DhtNodeActor.LookupFinished>(TimeSpan.FromSeconds(5));
            var status = await node.Ask<DhtNodeActor.DhtStatus>(DhtNodeActor.GetStatus.Instance, TimeSpan.FromSeconds(5));
            Assert.Equal(id, status.Id);
            Assert.Equal(0, status.IdChanges);
        }
    }
}
