using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Engine.Tests.Torrent;

public sealed class ChokerTests
{
    [Fact]
    public void Regular_slots_go_to_the_interested_peers_that_upload_to_us_fastest()
    {
        var choker = new Choker<string>(slots: 2, new Random(1));
        ChokeCandidate<string>[] peers =
        [
            Peer("slow", download: 10), Peer("fast", download: 1000), Peer("medium", download: 500),
            Peer("fastest-but-not-interested", download: 5000, interested: false),
        ];

        var unchoked = choker.Rechoke(peers, seeding: false, rotateOptimistic: true);

        Assert.Contains("fast", unchoked);
        Assert.Contains("medium", unchoked);
        // The one interested peer left gets the optimistic unchoke; the uninterested one stays choked.
        Assert.Equal("slow", choker.Optimistic);
        Assert.DoesNotContain("fastest-but-not-interested", unchoked);
        Assert.Equal(3, unchoked.Count);
    }

    [Fact]
    public void When_seeding_slots_go_to_the_peers_we_upload_to_fastest()
    {
        var choker = new Choker<string>(slots: 1, new Random(1));
        ChokeCandidate<string>[] peers = [Peer("a", download: 9000, upload: 10), Peer("b", upload: 800), Peer("c", upload: 50)];

        var unchoked = choker.Rechoke(peers, seeding: true, rotateOptimistic: false);

        Assert.Contains("b", unchoked);
        Assert.Equal(2, unchoked.Count);
        Assert.NotEqual("b", choker.Optimistic);
    }

    [Fact]
    public void The_optimistic_unchoke_stays_between_rotations_and_moves_at_a_rotation()
    {
        var choker = new Choker<string>(slots: 1, new Random(3));
        var peers = Enumerable.Range(0, 6).Select(i => Peer($"p{i}", download: i == 0 ? 1000 : 0)).ToList();

        choker.Rechoke(peers, seeding: false, rotateOptimistic: true);
        var first = choker.Optimistic;
        Assert.NotNull(first);
        Assert.NotEqual("p0", first);
        for (var i = 0; i < 5; i++)
        {
            choker.Rechoke(peers, seeding: false, rotateOptimistic: false);
            Assert.Equal(first, choker.Optimistic);
        }

        var seen = new HashSet<string>();
        for (var i = 0; i < 50; i++)
        {
            choker.Rechoke(peers, seeding: false, rotateOptimistic: true);
            seen.Add(choker.Optimistic!);
        }
        Assert.True(seen.Count >= 3, $"the optimistic unchoke rotated among only {seen.Count} peers");
        Assert.DoesNotContain("p0", seen);
    }

    [Fact]
    public void New_peers_are_three_times_as_likely_to_get_the_optimistic_unchoke()
    {
        var choker = new Choker<string>(slots: 1, new Random(5));
        ChokeCandidate<string>[] peers = [Peer("regular", download: 100), Peer("old"), Peer("new", isNew: true)];
        var counts = new Dictionary<string, int> { ["old"] = 0, ["new"] = 0 };

        for (var i = 0; i < 4000; i++)
        {
            choker.Rechoke(peers, seeding: false, rotateOptimistic: true);
            counts[choker.Optimistic!]++;
        }

        var ratio = counts["new"] / (double)counts["old"];
        Assert.InRange(ratio, 2.2, 4.0);
    }

    [Fact]
    public void A_newly_interested_peer_finds_a_free_slot_until_slots_plus_one_are_unchoked()
    {
        var choker = new Choker<string>(slots: 2);

        Assert.True(choker.HasFreeSlot(0));
        Assert.True(choker.HasFreeSlot(2));
        Assert.False(choker.HasFreeSlot(3));
    }

    [Fact]
    public void A_peer_that_left_is_no_longer_the_optimistic_unchoke()
    {
        var choker = new Choker<string>(slots: 1, new Random(1));
        choker.Rechoke([Peer("a", download: 5), Peer("b")], seeding: false, rotateOptimistic: true);
        Assert.Equal("b", choker.Optimistic);

        choker.Remove("b");

        Assert.Null(choker.Optimistic);
        var unchoked = choker.Rechoke([Peer("a", download: 5), Peer("c")], seeding: false, rotateOptimistic: false);
        Assert.Equal(["a", "c"], unchoked.Order());
    }

    [Fact]
    public void Peers_that_wasted_a_slot_rank_behind_a_newcomer_and_never_get_the_optimistic_unchoke_before_it()
    {
        // Seeding, 50 interested peers that never request (all wasted their slot) and one real leecher, new,
        // with no rate yet: every rechoke gives the leecher a regular slot, whatever the order of the list.
        var choker = new Choker<string>(slots: 4, new Random(5));
        var idle = Enumerable.Range(0, 50).Select(i => Peer($"idle{i}", wasting: true)).ToList();

        var unchoked = choker.Rechoke([.. idle, Peer("leecher", isNew: true)], seeding: true, rotateOptimistic: true);

        Assert.Contains("leecher", unchoked);
        Assert.NotEqual("leecher", choker.Optimistic);
        Assert.Equal(5, unchoked.Count);
    }

    [Fact]
    public void A_leecher_that_came_after_50_untried_idle_peers_gets_a_regular_slot_at_the_next_rechoke()
    {
        // Seeding, 50 interested connections that never request and have not had their turn yet (none wasted a
        // slot), then a real leecher: in connection order it would wait a dozen rechokes for its turn.
        var choker = new Choker<string>(slots: 4, new Random(5));
        var idle = Enumerable.Range(0, 50).Select(i => Peer($"idle{i}") with { ConnectedAt = TimeSpan.FromMilliseconds(100 * i) });
        var leecher = Peer("leecher", isNew: true) with { ConnectedAt = TimeSpan.FromSeconds(10) };

        var unchoked = choker.Rechoke([.. idle, leecher, Peer("uploader", upload: 1000)], seeding: true, rotateOptimistic: false);

        Assert.Contains("leecher", unchoked);
        // Data still outranks novelty: the peer that takes data keeps its slot.
        Assert.Contains("uploader", unchoked);
    }

    [Fact]
    public void The_optimistic_unchoke_goes_to_an_untried_peer_before_one_that_wasted_a_slot()
    {
        var choker = new Choker<string>(slots: 1, new Random(7));
        for (var round = 0; round < 20; round++)
        {
            List<ChokeCandidate<string>> peers = [Peer("uploader", upload: 1000), .. Enumerable.Range(0, 30).Select(i => Peer($"idle{i}", wasting: true)), Peer("untried")];

            choker.Rechoke(peers, seeding: true, rotateOptimistic: true);

            Assert.Equal("untried", choker.Optimistic);
        }
    }

    private static ChokeCandidate<string> Peer(
        string key, long download = 0, long upload = 0, bool interested = true, bool isNew = false, bool wasting = false) =>
        new(key, interested, download, upload, isNew, wasting);
}
