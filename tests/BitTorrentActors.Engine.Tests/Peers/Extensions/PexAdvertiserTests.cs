using System.Net;
using BitTorrentActors.Engine.Peers.Extensions;
using BitTorrentActors.Protocol.Extensions;

namespace BitTorrentActors.Engine.Tests.Peers.Extensions;

public sealed class PexAdvertiserTests
{
    [Fact]
    public void The_first_message_lists_up_to_100_peers_and_later_ones_50_added_and_50_dropped()
    {
        var advertiser = new PexAdvertiser<string>();
        var current = Peers(1, 150);

        var first = advertiser.Next("a", self: null, current)!;
        var second = advertiser.Next("a", self: null, current)!;
        var third = advertiser.Next("a", self: null, current);

        Assert.Equal(100, first.Added.Count);
        Assert.Empty(first.Dropped);
        Assert.Equal(50, second.Added.Count);
        Assert.Empty(first.Added.Select(p => p.EndPoint).Intersect(second.Added.Select(p => p.EndPoint)));
        Assert.Null(third);

        var fewer = Peers(71, 150);
        var fourth = advertiser.Next("a", self: null, fewer)!;
        var fifth = advertiser.Next("a", self: null, fewer)!;
        Assert.Empty(fourth.Added);
        Assert.Equal(50, fourth.Dropped.Count);
        Assert.Equal(20, fifth.Dropped.Count);
        Assert.Equal(Peers(1, 70).Keys.Order(Comparer), fourth.Dropped.Concat(fifth.Dropped).Order(Comparer));
    }

    [Fact]
    public void A_peer_is_never_told_about_itself_and_flags_go_with_each_peer()
    {
        var advertiser = new PexAdvertiser<string>();
        var self = Address(1);
        var current = new Dictionary<IPEndPoint, PexFlags>
        {
            [self] = PexFlags.Reachable,
            [Address(2)] = PexFlags.Seed | PexFlags.Reachable,
            [Address(3)] = PexFlags.None,
        };

        var message = advertiser.Next("a", self, current)!;

        Assert.Equal([new PexPeer(Address(2), PexFlags.Seed | PexFlags.Reachable), new PexPeer(Address(3), PexFlags.None)], message.Added);
    }

    [Fact]
    public void Each_peer_has_its_own_book_and_a_forgotten_one_starts_afresh()
    {
        var advertiser = new PexAdvertiser<string>();
        var current = Peers(1, 3);
        Assert.Equal(3, advertiser.Next("a", null, current)!.Added.Count);
        Assert.Equal(3, advertiser.Next("b", null, current)!.Added.Count);
        Assert.Null(advertiser.Next("a", null, current));

        advertiser.Forget("a");

        Assert.Equal(3, advertiser.Next("a", null, current)!.Added.Count);
        Assert.Null(advertiser.Next("b", null, current));
    }

    private static readonly Comparer<IPEndPoint> Comparer = Comparer<IPEndPoint>.Create((x, y) => string.CompareOrdinal(x.ToString(), y.ToString()));

    private static Dictionary<IPEndPoint, PexFlags> Peers(int from, int to) =>
        Enumerable.Range(from, to - from + 1).ToDictionary(Address, _ => PexFlags.Reachable);

    private static IPEndPoint Address(int i) => new(new IPAddress([127, 0, 1, (byte)i]), 6881);
}
