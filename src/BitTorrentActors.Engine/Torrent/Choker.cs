namespace BitTorrentActors.Engine.Torrent;

/// <summary>One peer as the choker sees it.</summary>
/// <param name="DownloadRate">Bytes/s the peer sends us (tit-for-tat while downloading).</param>
/// <param name="UploadRate">Bytes/s we send the peer (the ranking while seeding).</param>
/// <param name="IsNew">Connected recently: three times as likely to get the optimistic unchoke (BEP 3 tradition),
/// so a newcomer with nothing to trade yet gets its first pieces quickly.</param>
/// <param name="Wasting">Held an unchoke slot and took nothing (<see cref="PeerTurnover{TKey}"/>): ranked behind
/// every other interested peer, and the optimistic unchoke goes to it only when nobody else is left.</param>
/// <param name="ConnectedAt">When the connection was made: among peers equal on rates, the newest comes first.</param>
public readonly record struct ChokeCandidate<TKey>(TKey Key, bool Interested, long DownloadRate, long UploadRate, bool IsNew,
    bool Wasting = false, TimeSpan ConnectedAt = default);

/// <summary>
/// The standard choking algorithm, pure and clock-free (the coordinator drives it from its timers): a fixed
/// number of regular unchoke slots go to the interested peers that upload to us fastest, or, when seeding, that
/// we upload to fastest; one optimistic unchoke rotates among the other interested peers; everyone else is
/// choked. A newly interested peer is unchoked at once when a slot is free rather than at the next rechoke.
/// </summary>
public sealed class Choker<TKey>
    where TKey : notnull
{
    private readonly int _slots;
    private readonly Random _random;

    public Choker(int slots, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        _slots = slots;
        _random = random ?? Random.Shared;
    }

    /// <summary>The current optimistic unchoke, if any.</summary>
    public TKey? Optimistic { get; private set; }

    /// <summary>Regular slots plus the optimistic one.</summary>
    public int MaxUnchoked => _slots + 1;

    /// <summary>
    /// Ranks the peers and returns the set to unchoke. <paramref name="rotateOptimistic"/> picks a new optimistic
    /// unchoke (every optimistic interval); otherwise the current one stays while it is interested and not
    /// already among the regular slots.
    /// </summary>
    public IReadOnlySet<TKey> Rechoke(IReadOnlyList<ChokeCandidate<TKey>> peers, bool seeding, bool rotateOptimistic)
    {
        ArgumentNullException.ThrowIfNull(peers);
        var interested = peers.Where(p => p.Interested).ToList();
        var regular = interested
            .OrderBy(p => p.Wasting)
            .ThenByDescending(p => seeding ? p.UploadRate : p.DownloadRate)
            .ThenByDescending(p => seeding ? p.DownloadRate : p.UploadRate)
            // Ties (no bytes yet) go to the newest: otherwise 50 interested connections that never request hold
            // the slots in connection order, four per rechoke, and a leecher that came after them waits minutes
            // for its turn (issue 17 item 6). A peer that takes data outranks any newcomer, so churn cannot
            // displace it; the idle ones are marked wasting after their turn and evicted by the turnover.
            .ThenByDescending(p => p.ConnectedAt)
            .Take(_slots)
            .Select(p => p.Key)
            .ToHashSet();
        var others = interested.Where(p => !regular.Contains(p.Key)).ToList();
        var keep = !rotateOptimistic && Optimistic is { } current && others.Exists(p => p.Key.Equals(current));
        if (!keep)
        {
            Optimistic = PickOptimistic(others);
        }

        var unchoke = new HashSet<TKey>(regular);
        if (Optimistic is { } optimistic)
        {
            unchoke.Add(optimistic);
        }

        return unchoke;
    }

    /// <summary>True when a peer that just became interested can be unchoked now: fewer interested peers are
    /// unchoked than the slots (regular plus optimistic) allow.</summary>
    public bool HasFreeSlot(int interestedUnchoked) => interestedUnchoked < MaxUnchoked;

    /// <summary>Forget a peer that left (it can no longer be the optimistic unchoke).</summary>
    public void Remove(TKey key)
    {
        if (Optimistic is { } optimistic && optimistic.Equals(key))
        {
            Optimistic = default;
        }
    }

    private TKey? PickOptimistic(List<ChokeCandidate<TKey>> others)
    {
        if (others.Count == 0)
        {
            return default;
        }

        // Peers that wasted a slot already had their chance: the optimistic unchoke is for the untried.
        if (others.Exists(p => !p.Wasting))
        {
            others = others.FindAll(p => !p.Wasting);
        }

        var total = others.Sum(p => p.IsNew ? 3 : 1);
        var pick = _random.Next(total);
        foreach (var peer in others)
        {
            pick -= peer.IsNew ? 3 : 1;
            if (pick < 0)
            {
                return peer.Key;
            }
        }

        return others[^1].Key;
    }
}
