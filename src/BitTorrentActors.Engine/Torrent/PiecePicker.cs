using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>
/// Block-level piece picking, kept free of actors so every rule is unit-testable: finish started pieces first,
/// then rarest-first with a random tie-break, and endgame once every missing block is already requested (the
/// last blocks then go to several peers and the losers are cancelled). Generic over the peer handle so the
/// scheduler uses <c>IActorRef</c> and tests use strings.
/// </summary>
/// <remarks>
/// Piece priorities (<see cref="SetPiecePriorities"/>, from a <see cref="FileSelection"/>): a priority 0 piece is
/// never handed out, not even in endgame, and does not make a peer interesting; blocks of it already requested may
/// still arrive. Higher classes go first, each class by the rules above (started pieces, then rarest-first), so
/// with one class (the default: all pieces normal) picking is exactly as without priorities. Started pieces that
/// became unwanted are forgotten once nothing of them is requested any more, so they hold no in-progress slot.
/// </remarks>
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
    // One byte per piece, FileSelection's scale: 0 = not wanted, 1 = low, 2 = normal, 3 = high.
    private readonly byte[] _priority;
    // How many pieces each priority has (verified or not): classes with none are skipped when picking.
    private readonly int[] _classCount = new int[FileSelection.HighPiece + 1];
    // Free blocks of wanted pieces in progress: 0 (with no wanted piece left to start) means endgame.
    private int _freeBlocksInProgress;
    // Wanted pieces not verified yet, and how many of them are in progress.
    private int _wantedMissing;
    private int _wantedInProgress;

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
        _priority = new byte[pieceCount];
        Array.Fill(_priority, FileSelection.NormalPiece);
        _classCount[FileSelection.NormalPiece] = pieceCount;
        _wantedMissing = pieceCount;
    }

    public int PieceCount => _availability.Length;
    public int VerifiedCount => _verified.Count;
    public bool IsComplete => _verified.IsComplete;
    /// <summary>Every wanted piece is verified (the unwanted ones may be missing).</summary>
    public bool WantedComplete => _wantedMissing == 0;
    public int PiecesInProgress => _inProgress.Count;
    public int PeerCount => _peers.Count;
    public int AssignedBlocks => _peers.Values.Sum(p => p.Assigned.Count);

    /// <summary>True when no block is left that nobody has requested: the last blocks go to several peers.</summary>
    public bool InEndgame => _freeBlocksInProgress == 0 && !HasUnstartedMissingPiece();

    public bool IsVerified(int piece) => _verified.Get(piece);

    public byte PriorityOf(int piece) => _priority[piece];

    /// <summary>
    /// Replaces every piece's priority (one byte per piece, see <see cref="FileSelection.PiecePriorities"/>; above
    /// 3 counts as 3). Returns the peers that became interesting (they have a wanted piece now) and those that
    /// stopped being so. Rare (a user's choice), so it may walk every peer's pieces.
    /// </summary>
    public (IReadOnlyList<TPeer> Interesting, IReadOnlyList<TPeer> Uninteresting) SetPiecePriorities(ReadOnlySpan<byte> priorities)
    {
        if (priorities.Length != PieceCount)
        {
            throw new ArgumentException($"{priorities.Length} priorities for {PieceCount} pieces", nameof(priorities));
        }
        Array.Clear(_classCount);
        for (var piece = 0; piece < priorities.Length; piece++)
        {
            var old = _priority[piece];
            var now = Math.Min(priorities[piece], FileSelection.HighPiece);
            _priority[piece] = now;
            _classCount[now]++;
            if (old == 0 == (now == 0))
            {
                continue;
            }
            var delta = now == 0 ? -1 : 1;
            if (!_verified.Get(piece))
            {
                _wantedMissing += delta;
            }
            if (_inProgress.TryGetValue(piece, out var partial))
            {
                _wantedInProgress += delta;
                _freeBlocksInProgress += delta * partial.FreeBlocks;
            }
        }
        foreach (var partial in _inProgress.Values.ToList())
        {
            ForgetIfAbandoned(partial);
        }
        var interesting = new List<TPeer>();
        var uninteresting = new List<TPeer>();
        foreach (var (peer, state) in _peers)
        {
            var was = state.Needed > 0;
            state.Needed = 0;
            foreach (var piece in state.Has.GetSetIndices())
            {
                if (IsWanted(piece))
                {
                    state.Needed++;
                }
            }
            if (was != state.Needed > 0)
            {
                (was ? uninteresting : interesting).Add(peer);
            }
        }
        return (interesting, uninteresting);
    }

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
            if (IsWanted(piece))
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
            if (IsWanted(piece))
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
        // Class by class, highest first; with a single class (no priorities set) this is one pass.
        for (var priority = FileSelection.HighPiece; priority > 0 && picked.Count < count; priority--)
        {
            if (_classCount[priority] == 0)
            {
                continue;
            }
            // 1. Finish what is started, so partial pieces (and their buffers) do not pile up.
            foreach (var partial in _inProgress.Values)
            {
                if (picked.Count == count)
                {
                    return picked;
                }
                if (partial.FreeBlocks > 0 && _priority[partial.Piece] == priority && state.Has.Get(partial.Piece))
                {
                    TakeFreeBlocks(partial, peer, state, picked, count);
                }
            }
            // 2. Start the rarest pieces of this class the peer has.
            while (picked.Count < count && _inProgress.Count < _maxInProgress
                && PickRarestUnstarted(state, (byte)priority) is var piece && piece >= 0)
            {
                var partial = new PartialPiece<TPeer>(piece, _pieceSize(piece), _blockSize);
                _inProgress.Add(piece, partial);
                _wantedInProgress++;
                _freeBlocksInProgress += partial.FreeBlocks;
                TakeFreeBlocks(partial, peer, state, picked, count);
            }
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
        if (wasFree && IsWantedPiece(block.Piece))
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
        ForgetIfAbandoned(partial);
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
                if (IsWantedPiece(block.Piece))
                {
                    _freeBlocksInProgress++;
                }
                else
                {
                    ForgetIfAbandoned(partial);
                }
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
        var wanted = IsWanted(piece);
        if (!_verified.Set(piece))
        {
            return [];
        }
        RemoveInProgress(piece);
        if (!wanted)
        {
            // An unwanted piece (its last blocks arrived after it was deselected) never counted as needed.
            return [];
        }
        _wantedMissing--;
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
    public void PieceFailed(int piece) => RemoveInProgress(piece);

    private void RemoveInProgress(int piece)
    {
        if (!_inProgress.Remove(piece, out var partial))
        {
            return;
        }
        if (IsWantedPiece(piece))
        {
            _wantedInProgress--;
            _freeBlocksInProgress -= partial.FreeBlocks;
        }
        foreach (var (index, requester) in partial.Reset())
        {
            _peers.GetValueOrDefault(requester)?.Assigned.Remove(partial.Block(index));
        }
    }

    // A started piece nobody is fetching any more and nobody wants: dropped, so it holds no in-progress slot.
    // Its received blocks are the writer's business (it drops blocks of unwanted pieces); wanted again later, the
    // piece starts over.
    private void ForgetIfAbandoned(PartialPiece<TPeer> partial)
    {
        if (!IsWantedPiece(partial.Piece) && partial.FreeBlocks + partial.ReceivedBlocks == partial.BlockCount)
        {
            _inProgress.Remove(partial.Piece);
        }
    }

    private bool IsWantedPiece(int piece) => _priority[piece] != 0;

    // Wanted and still missing: what makes a peer interesting.
    private bool IsWanted(int piece) => _priority[piece] != 0 && !_verified.Get(piece);

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
            if (!state.Has.Get(partial.Piece) || !IsWantedPiece(partial.Piece))
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

    /// <summary>The rarest piece of priority <paramref name="priority"/> the peer has that is neither verified nor
    /// started; ties broken at random by reservoir sampling, so equally rare pieces spread across peers.</summary>
    private int PickRarestUnstarted(PeerState state, byte priority)
    {
        var best = -1;
        var bestAvailability = int.MaxValue;
        var ties = 0;
        foreach (var piece in state.Has.GetSetIndices())
        {
            if (_priority[piece] != priority || _verified.Get(piece) || _inProgress.ContainsKey(piece))
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

    private bool HasUnstartedMissingPiece() => _wantedMissing > _wantedInProgress;

    private sealed class PeerState(Bitfield has)
    {
        public Bitfield Has { get; set; } = has;
        public int Needed { get; set; }
        public HashSet<BlockRequest> Assigned { get; } = [];
    }
}
