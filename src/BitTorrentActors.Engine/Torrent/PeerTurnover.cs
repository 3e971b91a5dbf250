namespace BitTorrentActors.Engine.Torrent;

/// <summary>One connected peer (handshake done) as the turnover sees it at a rechoke.</summary>
/// <param name="ConnectedAt">When the connection was made (the clock of the caller).</param>
/// <param name="Unchoked">Whether we unchoke it now.</param>
public readonly record struct TurnoverPeer<TKey>(TKey Key, TimeSpan ConnectedAt, bool Unchoked);

/// <summary>
/// Peer turnover, libtorrent style, pure and clock-free (the coordinator drives it from its rechoke): which
/// connections to close because they move nothing while better candidates wait, and which unchoked peers waste
/// their unchoke slot. Without it, peers that claim every piece but never unchoke us (or, when seeding,
/// interested peers that never request) fill every connection slot and every unchoke slot for good.
/// </summary>
/// <param name="uselessAfter">How long a connection may move no bytes either way before it is worth replacing.</param>
/// <param name="wastedAfter">How long an unchoked peer may take nothing from us before its slot counts as
/// wasted: it then ranks behind every peer that did not waste one, until it takes data.</param>
public sealed class PeerTurnover<TKey>(TimeSpan uselessAfter, TimeSpan wastedAfter)
    where TKey : notnull
{
    private readonly Dictionary<TKey, State> _states = [];

    /// <summary>Bytes moved with a peer (from its periodic report).</summary>
    public void Transferred(TKey key, long downloaded, long uploaded, TimeSpan now)
    {
        if (downloaded <= 0 && uploaded <= 0)
        {
            return;
        }

        var state = StateOf(key);
        state.LastMoved = now;
        if (uploaded > 0)
        {
            state.LastTook = now;
            state.Wasted = false;
        }
    }

    /// <summary>We choked or unchoked the peer: the wasted-slot clock starts at the unchoke.</summary>
    public void ChokeChanged(TKey key, bool unchoked, TimeSpan now) => StateOf(key).UnchokedAt = unchoked ? now : null;

    /// <summary>
    /// Brings the book up to date with the connected peers (forgetting those gone) and returns the connections
    /// to close: the ones that moved no bytes for <c>uselessAfter</c>, longest idle first, at most one in ten of
    /// <paramref name="limit"/> per call, and only when someone could use the slot: <paramref name="waiting"/>
    /// addresses are ready to be dialled, or the connections are at <paramref name="limit"/> (incoming peers
    /// are being refused).
    /// </summary>
    public IReadOnlyList<TKey> Evict(IReadOnlyList<TurnoverPeer<TKey>> peers, int waiting, int limit, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(peers);
        Update(peers, now);
        var perRound = Math.Max(1, limit / 10);
        var budget = waiting > 0 ? Math.Min(waiting, perRound) : peers.Count >= limit ? perRound : 0;
        if (budget == 0)
        {
            return [];
        }

        return peers
            .Select(p => (p.Key, Idle: now - (_states[p.Key].LastMoved ?? p.ConnectedAt)))
            .Where(p => p.Idle >= uselessAfter)
            .OrderByDescending(p => p.Idle)
            .Take(budget)
            .Select(p => p.Key)
            .ToList();
    }

    /// <summary>
    /// The connection a newcomer may take the place of when the torrent is full: the one that moved no bytes either
    /// way for longest, and for at least <paramref name="minIdle"/>. Waiting for the periodic eviction is not enough:
    /// a leecher refused at the limit (aria2, for one) does not try again for a tracker interval, so 50 interested
    /// connections that never request would keep every newcomer out (issue 17 item 6). A peer that moves data is
    /// never picked.
    /// </summary>
    public bool TryPickReplaceable(IReadOnlyList<TurnoverPeer<TKey>> peers, TimeSpan minIdle, TimeSpan now, out TKey key)
    {
        ArgumentNullException.ThrowIfNull(peers);
        key = default!;
        var best = TimeSpan.MinValue;
        foreach (var peer in peers)
        {
            var idle = now - (_states.TryGetValue(peer.Key, out var state) && state.LastMoved is { } moved ? moved : peer.ConnectedAt);
            if (idle >= minIdle && idle > best)
            {
                best = idle;
                key = peer.Key;
            }
        }

        return best != TimeSpan.MinValue;
    }

    /// <summary>True when the peer held an unchoke slot for <c>wastedAfter</c> and took nothing (it stays so,
    /// once choked, until it takes data again).</summary>
    public bool IsWasting(TKey key) => _states.TryGetValue(key, out var state) && state.Wasted;

    private void Update(IReadOnlyList<TurnoverPeer<TKey>> peers, TimeSpan now)
    {
        var present = new HashSet<TKey>();
        foreach (var peer in peers)
        {
            present.Add(peer.Key);
            var state = StateOf(peer.Key);
            if (!peer.Unchoked)
            {
                state.UnchokedAt = null;
                continue;
            }

            state.UnchokedAt ??= now;
            var took = state.LastTook is { } last && last >= state.UnchokedAt;
            if (!took && now - state.UnchokedAt >= wastedAfter)
            {
                state.Wasted = true;
            }
        }

        foreach (var gone in _states.Keys.Where(k => !present.Contains(k)).ToList())
        {
            _states.Remove(gone);
        }
    }

    private State StateOf(TKey key)
    {
        if (!_states.TryGetValue(key, out var state))
        {
            state = new State();
            _states.Add(key, state);
        }

        return state;
    }

    private sealed class State
    {
        public TimeSpan? LastMoved { get; set; }

        public TimeSpan? LastTook { get; set; }

        public TimeSpan? UnchokedAt { get; set; }

        public bool Wasted { get; set; }
    }
}
