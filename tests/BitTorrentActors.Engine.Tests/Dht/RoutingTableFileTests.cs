using System.Net;
using System.Text;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Protocol.Dht;
using static BitTorrentActors.Engine.Tests.Dht.DhtIds;

namespace BitTorrentActors.Engine.Tests.Dht;

public class RoutingTableFileTests
{
    private static readonly TimeSpan T0 = TimeSpan.FromHours(2);

    private static SavedRoutingTable Load(byte[] file)
    {
        Assert.True(RoutingTableFile.TryLoad(file, out var saved, out var error), error);
        return saved;
    }

    private static string Refused(byte[] file)
    {
        Assert.False(RoutingTableFile.TryLoad(file, out var saved, out var error));
        Assert.Null(saved);
        return error;
    }

    [Fact]
    public void The_format_is_a_bencoded_id_nodes_and_nodes6()
    {
        var id = Hex("0102030405060708090a0b0c0d0e0f1011121314");
        var node = new DhtNode(Hex("ffffffffffffffffffffffffffffffffffffffff"), IPEndPoint.Parse("127.0.0.1:6881"));

        var file = Encoding.Latin1.GetString(RoutingTableFile.Encode(id, [node]));

        Assert.Equal(
            "d2:id20:\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000a\u000b\u000c\u000d\u000e\u000f\u0010\u0011\u0012\u0013\u0014"
            + "5:nodes26:" + new string('\u00ff', 20) + "\u007f\0\0\u0001\u001a\u00e1" + "6:nodes60:e",
            file);
    }

    [Fact]
    public void A_saved_table_loads_back_as_unconfirmed_nodes_with_its_id()
    {
        var table = new RoutingTable(Own, T0);
        table.Responded(At(0, 1), EndPoint(1), T0);
        table.Responded(At(3, 2), IPEndPoint.Parse("[::1]:7000"), T0);
        table.Queried(At(0, 3), EndPoint(3), T0);           // never answered: not worth saving
        table.Responded(At(0, 4), EndPoint(4), T0);
        table.Failed(EndPoint(4), T0);
        table.Failed(EndPoint(4), T0);
        table.Failed(EndPoint(4), T0);                      // bad: not saved

        var saved = Load(RoutingTableFile.Save(table, T0));

        Assert.Equal(Own, saved.OwnId);
        Assert.Equal(
            new[] { new DhtNode(At(0, 1), EndPoint(1)), new DhtNode(At(3, 2), IPEndPoint.Parse("[::1]:7000")) }.OrderBy(n => n.Id),
            saved.Nodes.OrderBy(n => n.Id));

        var restarted = new RoutingTable(saved.OwnId!.Value, T0 + TimeSpan.FromDays(1));
        Assert.Equal(2, RoutingTableFile.Restore(restarted, saved, T0 + TimeSpan.FromDays(1)));
        Assert.All(restarted.Nodes(T0 + TimeSpan.FromDays(1)), n => Assert.Equal(NodeStatus.Questionable, n.Status));
    }

    [Theory]
    [InlineData("", "not bencode")]
    [InlineData("d2:id20:abc", "not bencode")]
    [InlineData("le", "not a dictionary")]
    [InlineData("d1:xllllleeeeee", "deeper than 2")]
    public void A_damaged_file_gives_one_error_and_no_nodes(string text, string reason)
    {
        Assert.Contains(reason, Refused(Encoding.Latin1.GetBytes(text)));
    }

    [Fact]
    public void An_oversized_file_is_refused_before_it_is_parsed()
    {
        Assert.Contains("at most", Refused(new byte[RoutingTableFile.MaxFileLength + 1]));
    }

    [Fact]
    public void A_bad_id_and_a_partial_node_are_skipped_and_the_node_count_is_bounded()
    {
        var nodes = CompactNodeInfo.EncodeIPv4(
            Enumerable.Range(1, RoutingTableFile.MaxNodes + 10).Select(n => new DhtNode(At(0, n), EndPoint(n))));
        var file = Encoding.Latin1.GetBytes("d2:id3:abc5:nodes" + (nodes.Length + 5) + ":")
            .Concat(nodes).Concat(new byte[5]).Concat("e"u8.ToArray()).ToArray();

        var saved = Load(file);

        Assert.Null(saved.OwnId);
        Assert.Equal(RoutingTableFile.MaxNodes, saved.Nodes.Count);
    }

    [Fact]
    public void Mutated_files_never_throw()
    {
        var table = new RoutingTable(Own, T0);
        for (var n = 1; n < 40; n++)
        {
            table.Responded(At(n % 5, n), EndPoint(n), T0);
        }
        var good = RoutingTableFile.Save(table, T0);
        var random = new Random(5);
        for (var i = 0; i < 5_000; i++)
        {
            var file = (byte[])good.Clone();
            for (var flips = random.Next(1, 5); flips > 0; flips--)
            {
                file[random.Next(file.Length)] = (byte)random.Next(256);
            }
            var loaded = RoutingTableFile.TryLoad(file.AsMemory(0, random.Next(file.Length + 1)), out var saved, out var error);
            Assert.True(loaded == (saved is not null) && loaded == (error is null));
            if (saved is not null)
            {
                RoutingTableFile.Restore(new RoutingTable(Own, T0), saved, T0);
            }
        }
    }
}
