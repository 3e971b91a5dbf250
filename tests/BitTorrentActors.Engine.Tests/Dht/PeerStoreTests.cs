using System.Net;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Engine.Tests.Dht.DhtIds;

namespace BitTorrentActors.Engine.Tests.Dht;

public class PeerStoreTests
{
    private static readonly TimeSpan T0 = TimeSpan.FromHours(6);
    private static readonly Random Random = new(1);

    private static InfoHash Hash(int n) => new([.. new byte[19], (byte)n]);

    [Fact]
    public void Announced_peers_are_handed_out_by_family_until_they_expire()
    {
        var store = new PeerStore(peerLifetime: Minutes(30));
        store.Announce(Hash(1), EndPoint(1), T0);
        store.Announce(Hash(1), IPEndPoint.Parse("[::ffff:127.0.0.2]:6881"), T0);
        store.Announce(Hash(1), IPEndPoint.Parse("[2001:db8::1]:6881"), T0 + Minutes(10));

        Assert.Equal([EndPoint(1), EndPoint(2)], store.Peers(Hash(1), 10, ipv4: true, T0, Random).Order(Comparer<IPEndPoint>.Create((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()))));
        Assert.Equal([IPEndPoint.Parse("[2001:db8::1]:6881")], store.Peers(Hash(1), 10, ipv4: false, T0 + Minutes(10), Random));
        Assert.Empty(store.Peers(Hash(2), 10, ipv4: true, T0, Random));

        // A re-announce keeps a peer alive; the others expire.
        store.Announce(Hash(1), EndPoint(1), T0 + Minutes(20));
        Assert.Equal([EndPoint(1)], store.Peers(Hash(1), 10, ipv4: true, T0 + Minutes(35), Random));
        store.Expire(T0 + Minutes(45));
        Assert.Equal(1, store.PeerCount);
        store.Expire(T0 + Minutes(50));
        Assert.Equal(0, store.TorrentCount);
    }

    [Fact]
    public void Torrents_and_peers_per_torrent_are_bounded()
    {
        var store = new PeerStore(maxTorrents: 3, maxPeersPerTorrent: 4);
        for (var n = 0; n < 10; n++)
        {
            store.Announce(Hash(n), EndPoint(1), T0 + TimeSpan.FromSeconds(n));
        }
        for (var p = 0; p < 10; p++)
        {
            store.Announce(Hash(9), EndPoint(100 + p), T0 + TimeSpan.FromSeconds(20 + p));
        }

        Assert.Equal(3, store.TorrentCount);
        Assert.Empty(store.Peers(Hash(0), 10, ipv4: true, T0 + Minutes(1), Random));
        // The freshest four peers of the full torrent stay.
        Assert.Equal(
            Enumerable.Range(106, 4).Select(EndPoint).ToHashSet(),
            store.Peers(Hash(9), 10, ipv4: true, T0 + Minutes(1), Random).ToHashSet());
    }

    [Fact]
    public void More_peers_than_asked_give_a_random_choice()
    {
        var store = new PeerStore();
        for (var p = 0; p < 300; p++)
        {
            store.Announce(Hash(1), EndPoint(p + 1), T0);
        }

        var first = store.Peers(Hash(1), 100, ipv4: true, T0, new Random(1));
        var second = store.Peers(Hash(1), 100, ipv4: true, T0, new Random(2));

        Assert.Equal(100, first.Count);
        Assert.Equal(100, first.Distinct().Count());
        Assert.NotEqual(first.ToHashSet(), second.ToHashSet());
    }
}
