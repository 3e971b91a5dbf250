using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Engine.Tests.Torrent;

public sealed class PeerTurnoverTests
{
    private static readonly TimeSpan UselessAfter = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan WastedAfter = TimeSpan.FromSeconds(5);

    [Fact]
    public void Peers_that_moved_nothing_for_the_interval_are_evicted_when_addresses_wait_longest_idle_first()
    {
        var turnover = new PeerTurnover<string>(UselessAfter, WastedAfter);
        // 60 peers that claim every piece and never unchoke us: no byte ever moves. One delivers.
        var peers = Enumerable.Range(0, 60).Select(i => Peer($"useless{i}", connectedAt: S(i))).Append(Peer("giver", S(0))).ToList();
        turnover.Transferred("giver", downloaded: 16384, uploaded: 0, S(40));

        Assert.Empty(turnover.Evict(peers, waiting: 5, limit: 60, S(29)));
        var evicted = turnover.Evict(peers, waiting: 5, limit: 60, S(41));

        // At most what waits, at most a tenth of the limit per round; the ones idle longest go first.
        Assert.Equal(["useless0", "useless1", "useless2", "useless3", "useless4"], evicted);
        Assert.Equal(6, turnover.Evict(peers, waiting: 100, limit: 60, S(90)).Count);
    }

    [Fact]
    public void Nobody_is_evicted_when_nobody_could_use_the_slot()
    {
        var turnover = new PeerTurnover<string>(UselessAfter, WastedAfter);
        var peers = Enumerable.Range(0, 10).Select(i => Peer($"p{i}", S(0))).ToList();

        Assert.Empty(turnover.Evict(peers, waiting: 0, limit: 50, S(600)));
        // At the connection limit, incoming peers are being refused: that is someone waiting too.
        Assert.Single(turnover.Evict(peers, waiting: 0, limit: 10, S(600)));
    }

    [Fact]
    public void Bytes_either_way_keep_a_peer_and_a_quiet_spell_after_them_counts_from_the_last_bytes()
    {
        var turnover = new PeerTurnover<string>(UselessAfter, WastedAfter);
        List<TurnoverPeer<string>> peers = [Peer("leecher", S(0)), Peer("seed", S(0))];
        turnover.Transferred("leecher", downloaded: 0, uploaded: 100, S(20));
        turnover.Transferred("seed", downloaded: 100, uploaded: 0, S(25));

        Assert.Empty(turnover.Evict(peers, waiting: 5, limit: 50, S(45)));
        Assert.Equal(["leecher"], turnover.Evict(peers, waiting: 5, limit: 50, S(52)));
    }

    [Fact]
    public void An_unchoked_peer_that_takes_nothing_wastes_its_slot_until_it_takes_data()
    {
        var turnover = new PeerTurnover<string>(UselessAfter, WastedAfter);
        turnover.ChokeChanged("idle", unchoked: true, S(0));
        turnover.ChokeChanged("real", unchoked: true, S(0));
        turnover.Transferred("real", downloaded: 0, uploaded: 16384, S(2));
        List<TurnoverPeer<string>> peers = [Peer("idle", S(0), unchoked: true), Peer("real", S(0), unchoked: true)];

        turnover.Evict(peers, waiting: 0, limit: 50, S(4));
        Assert.False(turnover.IsWasting("idle"));
        turnover.Evict(peers, waiting: 0, limit: 50, S(6));
        Assert.True(turnover.IsWasting("idle"));
        Assert.False(turnover.IsWasting("real"));

        // Choked, it stays behind the others; once it takes data (it was unchoked again) it is forgiven.
        turnover.ChokeChanged("idle", unchoked: false, S(6));
        turnover.Evict([Peer("idle", S(0)), Peer("real", S(0), unchoked: true)], waiting: 0, limit: 50, S(20));
        Assert.True(turnover.IsWasting("idle"));
        turnover.Transferred("idle", downloaded: 0, uploaded: 1, S(21));
        Assert.False(turnover.IsWasting("idle"));
    }

    [Fact]
    public void A_peer_that_left_is_forgotten()
    {
        var turnover = new PeerTurnover<string>(UselessAfter, WastedAfter);
        turnover.ChokeChanged("gone", unchoked: true, S(0));
        turnover.Evict([Peer("gone", S(0), unchoked: true)], waiting: 0, limit: 50, S(10));
        Assert.True(turnover.IsWasting("gone"));

        turnover.Evict([], waiting: 0, limit: 50, S(11));

        Assert.False(turnover.IsWasting("gone"));
    }

    [Fact]
    public void A_newcomer_at_the_limit_replaces_the_connection_idle_longest_but_never_one_that_moves_data_or_just_came()
    {
        var turnover = new PeerTurnover<string>(UselessAfter, WastedAfter);
        // 50 interested connections that never request, then a real leecher that took data, and one just connected.
        var peers = Enumerable.Range(0, 50).Select(i => Peer($"idle{i}", S(i * 0.1))).Append(Peer("leecher", S(0))).ToList();
        turnover.Transferred("leecher", downloaded: 0, uploaded: 16384, S(9));

        Assert.True(turnover.TryPickReplaceable(peers, WastedAfter, S(10), out var first));
        Assert.Equal("idle0", first);
        Assert.False(turnover.TryPickReplaceable(peers, WastedAfter, S(4), out _));
        Assert.False(turnover.TryPickReplaceable([Peer("leecher", S(0))], WastedAfter, S(10), out _));
    }

    private static TurnoverPeer<string> Peer(string key, TimeSpan connectedAt, bool unchoked = false) => new(key, connectedAt, unchoked);

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);
}
