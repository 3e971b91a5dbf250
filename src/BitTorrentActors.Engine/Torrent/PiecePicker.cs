using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>
/// Block-level piece picking, kept free of actors so every rule is unit-testable: finish started pieces first,
/// then rarest-first with a random tie-break, and endgame once every missing block is already requested (the
/// last blocks then go to several peers and the losers are cancelled). Generic over the peer handle so the
/// scheduler uses <c>IActorRef</c> and tests use strings.
/// </summary>
internal sealed class PiecePicker<TPeer> where TPeer : notnull
{
    /// <summary>In endgame a block is requested from at most this many peers at once.</summary>
    public const int MaxEndgameRequesters = 3;

    private readonly int _blockSize;
    private readonly Func<int, int> _pieceSize;
    private readonly Random _random;
    private readonly int _maxInProgress;
    private readonly Bitfield _verified;
    private readonly int[] _availability;
    // Pieces with some blocks requested or received, in the order they were started.
    private readonly Dictionary<int, PartialPiece<TPeer>> _inProgress = [];
    private readonly Dictionary<TPeer, PeerState> _peers = [];
    private int _freeBlocksInProgress;

    /// <param name="maxInProgress">How many pieces may be started and not yet verified at once; pieces waiting
    /// for their hash and write count too, so this bounds the memory their blocks sit in.</param>
    public PiecePicker(int pieceCount, Func<int, int> pieceSize, int blockSize, Random random, int maxInProgress = int.MaxValue)
    {
        _maxInProgress = Math.Max(2, maxInProgress);
        _pieceSize = pieceSize;
        _blockSize = blockSize;
        _random = random;
        _verified = new Bitfield(pieceCount);
        _availability = new int[pieceCount];
    }

    public int PieceCount => _availability.Length;
    public int VerifiedCount => _verified.Count;
    public bool IsComplete => _verified.IsComplete;
    public int PiecesInProgress => _inProgress.Count;
    public int PeerCount => _peers.Count;
    public int AssignedBlocks => _peers.Values.Sum(p => p.Assigned.Count);

    /// <summary>True when no block is left that nobody has requested: the last blocks go to several peers.</summary>
    public bool InEndgame => _freeBlocksInProgress == 0 && !HasUnstartedMissingPiece();

    public bool IsVerified(int piece) => _verified.Get(piece);

    /// <summary>Whether the peer has any piece we still need (what our interested flag should say).</summary>
    public bool Wants(TPeer peer) => _peers.TryGetValue(peer, out var state) && state.Needed > 0;

    public int Availability(int piece) => _availability[piece];

    public void MarkVerified(ReadOnlySpan<byte> wireBits)
    {
        if (Bitfield.TryFromWire(wireBits, PieceCount, out var have))
        {
            foreach (var piece in have.GetSetIndices())
            {
                PieceVerified(piece);
            }
        }
    }

    /// <summary>Records what a peer has (replacing what it said before); returns whether we are interested.</summary>
    public bool SetPeerPieces(TPeer peer, Bitfield pieces)
    {
        var state = GetOrAdd(peer);
        foreach (var piece in state.Has.GetSetIndices())
        {
            _availability[piece]--;
        }
        state.Has = pieces;
        state.Needed = 0;
        foreach (var piece in pieces.GetSetIndices())
        {
            _availability[piece]++;
            if (!_verified.Get(piece))
            {
                state.Needed++;
            }
        }
        return state.Needed > 0;
    }

    /// <summary>A have message; returns whether we are interested in the peer afterwards.</summary>
    public bool PeerHas(TPeer peer, int piece)
    {
        var state = GetOrAdd(peer);
        if (state.Has.Set(piece))
        {
            _availability[piece]++;
            if (!_verified.Get(piece))
            {
                state.Needed++;
            }
        }
        return state.Needed > 0;
    }

    /// <summary>Hands the peer up to <paramref name="count"/> blocks it can serve.</summary>
    public IReadOnlyList<BlockRequest> Pick(TPeer peer, int count)
    {
        if (count <= 0 || !_peers.TryGetValue(peer, out var state) || state.Needed == 0)
        {
            return [];
        }
        var picked = new List<BlockRequest>(Math.Min(count, 64));
        // 1. Finish what is started, so partial pieces (and their buffers) do not pile up.
        foreach (var partial in _inProgress.Values)
        {
            if (picked.Count == count)
            {
                return picked;
            }
            if (partial.FreeBlocks > 0 && state.Has.Get(partial.Piece))
            {
                TakeFreeBlocks(partial, peer, state, picked, count);
            }
        }
        // 2. Start the rarest pieces this peer has.
        while (picked.Count < count && _inProgress.Count < _maxInProgress && PickRarestUnstarted(state) is var piece && piece >= 0)
        {
            var partial = new PartialPiece<TPeer>(piece, _pieceSize(piece), _blockSize);
            _inProgress.Add(piece, partial);
            _freeBlocksInProgress += partial.FreeBlocks;
            TakeFreeBlocks(partial, peer, state, picked, count);
        }
        // 3. Endgame: everything missing is requested already, so ask this peer too for blocks it is not on.
        if (picked.Count < count && InEndgame)
        {
            TakeEndgameBlocks(peer, state, picked, count);
        }
        return picked;
    }

    /// <summary>A block arrived; returns the other peers that had been asked for it (to send them cancel).</summary>
    public IReadOnlyList<TPeer> BlockReceived(TPeer peer, BlockRequest block)
    {
        if (!_inProgress.TryGetValue(block.Piece, out var partial) || partial.IndexOf(block) is var index && index < 0)
        {
            return [];
        }
        var wasFree = partial.IsFree(index);
        var requesters = partial.MarkReceived(index);
        if (requesters is null)
        {
            return [];
        }
        if (wasFree)
        {
            _freeBlocksInProgress--;
        }
        var others = new List<TPeer>(requesters.Count);
        foreach (var requester in requesters)
        {
            if (_peers.TryGetValue(requester, out var s))
            {
                s.Assigned.Remove(block);
            }
            if (!EqualityComparer<TPeer>.Default.Equals(requester, peer))
            {
                others.Add(requester);
            }
        }
        return others;
    }

    /// <summary>Blocks the peer will not deliver (choked, rejected, timed out) go back to the pool.</summary>
    public void Release(TPeer peer, IEnumerable<BlockRequest> blocks)
    {
        if (!_peers.TryGetValue(peer, out var state))
        {
            return;
        }
        foreach (var block in blocks.ToList())
        {
            if (state.Assigned.Remove(block) && _inProgress.TryGetValue(block.Piece, out var partial)
                && partial.IndexOf(block) is var index && index >= 0 && partial.RemoveRequester(index, peer))
            {
                _freeBlocksInProgress++;
            }
        }
    }

    /// <summary>Everything the peer was asked for goes back to the pool (choke, snub).</summary>
    public void ReleaseAll(TPeer peer)
    {
        if (_peers.TryGetValue(peer, out var state))
        {
            Release(peer, state.Assigned);
        }
    }

    public void RemovePeer(TPeer peer)
    {
        if (!_peers.TryGetValue(peer, out var state))
        {
            return;
        }
        ReleaseAll(peer);
        foreach (var piece in state.Has.GetSetIndices())
        {
            _availability[piece]--;
        }
        _peers.Remove(peer);
    }

    /// <summary>The piece is on disk and verified; returns peers we are no longer interested in.</summary>
    public IReadOnlyList<TPeer> PieceVerified(int piece)
    {
        if (!_verified.Set(piece))
        {
            return [];
        }
        if (_inProgress.Remove(piece, out var partial))
        {
            _freeBlocksInProgress -= partial.FreeBlocks;
            foreach (var (index, requester) in partial.Reset())
            {
                _peers.GetValueOrDefault(requester)?.Assigned.Remove(partial.Block(index));
            }
        }
        var uninteresting = new List<TPeer>();
        foreach (var (peer, state) in _peers)
        {
            if (state.Has.Get(piece) && --state.Needed == 0)
            {
                uninteresting.Add(peer);
            }
        }
        return uninteresting;
    }

    /// <summary>The piece failed its hash: all its blocks are fetched again (the peers are charged elsewhere).</summary>
    public void PieceFailed(int piece)
    {
        if (!_inProgress.Remove(piece, out var partial))
        {
            return;
        }
        _freeBlocksInProgress -= partial.FreeBlocks;
        foreach (var (index, requester) in partial.Reset())
        {
            _peers.GetValueOrDefault(requester)?.Assigned.Remove(partial.Block(index));
        }
    }

    public IReadOnlyCollection<BlockRequest> AssignedTo(TPeer peer) =>
        _peers.TryGetValue(peer, out var state) ? state.Assigned : [];

    private PeerState GetOrAdd(TPeer peer)
    {
        if (!_peers.TryGetValue(peer, out var state))
        {
            state = new PeerState(new Bitfield(PieceCount));
            _peers.Add(peer, state);
        }
        return state;
    }

    private void TakeFreeBlocks(PartialPiece<TPeer> partial, TPeer peer, PeerState state, List<BlockRequest> picked, int count)
    {
        for (var i = 0; i < partial.BlockCount && picked.Count < count && partial.FreeBlocks > 0; i++)
        {
            if (partial.IsFree(i))
            {
                partial.AddRequester(i, peer);
                _freeBlocksInProgress--;
                var block = partial.Block(i);
                state.Assigned.Add(block);
                picked.Add(block);
            }
        }
    }

    private void TakeEndgameBlocks(TPeer peer, PeerState state, List<BlockRequest> picked, int count)
    {
        foreach (var partial in _inProgress.Values)
        {
            if (!state.Has.Get(partial.Piece))
            {
                continue;
            }
            for (var i = 0; i < partial.BlockCount && picked.Count < count; i++)
            {
                if (!partial.IsReceived(i) && !partial.IsRequestedBy(i, peer)
                    && partial.RequesterCount(i) < MaxEndgameRequesters)
                {
                    partial.AddRequester(i, peer);
                    var block = partial.Block(i);
                    state.Assigned.Add(block);
                    picked.Add(block);
                }
            }
        }
    }

    /// <summary>The rarest piece the peer has that is neither verified nor started; ties broken at random by
    /// reservoir sampling, so equally rare pieces spread across peers.</summary>
    private int PickRarestUnstarted(PeerState state)
    {
        var best = -1;
        var bestAvailability = int.MaxValue;
        var ties = 0;
        foreach (var piece in state.Has.GetSetIndices())
        {
            if (_verified.Get(piece) || _inProgress.ContainsKey(piece))
            {
                continue;
            }
            var availability = _availability[piece];
            if (availability < bestAvailability)
            {
                best = piece;
                bestAvailability = availability;
                ties = 1;
            }
            else if (availability == bestAvailability && _random.Next(++ties) == 0)
            {
                best = piece;
            }
        }
        return best;
    }

    private bool HasUnstartedMissingPiece() => _verified.Count + _inProgress.Count < PieceCount;

    private sealed class PeerState(Bitfield has)
    {
        public Bitfield Has { get; set; } = has;
        public int Needed { get; set; }
        public HashSet<BlockRequest> Assigned { get; } = [];
    }
}
