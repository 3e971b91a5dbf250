using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>
/// The single owner of "who fetches which block". Peers report what they have and ask for work; the scheduler
/// answers with <see cref="Peers.PeerActor.AssignBlocks"/>, <see cref="Peers.PeerActor.CancelBlocks"/> and
/// <see cref="Peers.PeerActor.SetInterest"/>. It never sees payload bytes.
/// </summary>
public sealed class PieceSchedulerActor : ReceiveActor
{
    /// <summary>From the coordinator once existing data is checked: the pieces already verified on disk (wire
    /// bitfield layout). No work is handed out before it.</summary>
    /// <remarks>The scheduler's protocol stays inside one torrent on one node: not checked for serialisation.</remarks>
    public sealed record Start(ReadOnlyMemory<byte> VerifiedPieces) : INoSerializationVerificationNeeded;

    /// <summary>
    /// Which pieces to fetch, and in which order: one byte per piece, 0 = never, 1 = low, 2 = normal, 3 = high (see
    /// <see cref="FileSelection.PiecePriorities"/>). Before or after <see cref="Start"/>, and again at any time;
    /// until the first one every piece is normal. Blocks of a piece that became 0 already requested may still
    /// arrive; nothing more of it is requested, not even in endgame. Peers that have nothing wanted any more hear
    /// <see cref="PeerActor.SetInterest"/> false, those that now have something hear true. A payload of another
    /// length than the piece count is ignored with a warning.
    /// </summary>
    public sealed record SetPiecePriorities(ReadOnlyMemory<byte> Priorities) : INoSerializationVerificationNeeded;

    /// <summary>A peer's validated wire bitfield.</summary>
    public sealed record PeerBitfield(IActorRef Peer, ReadOnlyMemory<byte> Bits) : INoSerializationVerificationNeeded;

    /// <summary>BEP 6 have-all / have-none.</summary>
    public sealed record PeerHaveAll(IActorRef Peer);

    public sealed record PeerHaveNone(IActorRef Peer);

    public sealed record PeerHave(IActorRef Peer, int Piece);

    /// <summary>The peer choked us: its outstanding requests are void and go back to the pool.</summary>
    public sealed record PeerChoked(IActorRef Peer);

    public sealed record PeerUnchoked(IActorRef Peer);

    /// <summary>
    /// The peer wants <paramref name="Count"/> more blocks on top of those it asked for before and has not been
    /// assigned yet; asks add up until served. With <paramref name="Resync"/> the count replaces every earlier ask
    /// (the peer's safety net after a long silence). Demand the scheduler drops, it says so: the peer hears
    /// <see cref="PeerActor.SetInterest"/> false, or it was choked, and forgets its asks too.
    /// </summary>
    public sealed record RequestBlocks(IActorRef Peer, int Count, bool Resync = false);

    /// <summary>A block the peer had been assigned arrived (its bytes went to the writer).</summary>
    public sealed record BlockReceived(IActorRef Peer, BlockRequest Block);

    /// <summary>Blocks of one read that the peer had been assigned arrived, each as a <see cref="BlockReceived"/>.</summary>
    public sealed record BlocksReceived(IActorRef Peer, BlockRequest[] Blocks);

    /// <summary>Blocks the peer gives back unanswered: rejected (BEP 6), timed out, or the peer was snubbed.</summary>
    public sealed record BlocksReleased(IActorRef Peer, IReadOnlyList<BlockRequest> Blocks);

    /// <summary>From the coordinator after the writer's verdict.</summary>
    public sealed record PieceVerified(int Piece);

    /// <summary>From the coordinator: the piece failed its hash; every block of it is fetched again.</summary>
    public sealed record PieceFailed(int Piece);

    /// <summary>Reply to <see cref="GetStatus"/> (tests and diagnostics; never on the per-block path).</summary>
    public sealed record Status(int VerifiedPieces, int PiecesInProgress, int AssignedBlocks, bool Endgame, int Peers);

    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <summary>From the coordinator's stall detector: log what the scheduler holds, peer by peer.</summary>
    public sealed record LogState
    {
        public static readonly LogState Instance = new();
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly PiecePicker<IActorRef> _picker;
    private readonly int _pieceCount;
    // Work peers asked for and did not get yet (before Start, or when every block was taken or the in-flight cap
    // was reached): served as soon as something frees up, so a peer never idles until its own retry.
    private readonly Dictionary<IActorRef, int> _demand = [];
    private readonly HashSet<IActorRef> _watched = [];
    private bool _started;
    private bool _endgameLogged;

    public PieceSchedulerActor(TorrentContext context, Random? random = null)
    {
        var metainfo = context.Metainfo;
        _pieceCount = metainfo.PieceCount;
        var maxInProgress = (int)Math.Min(int.MaxValue, context.Settings.Download.MaxBufferedBytes / metainfo.PieceLength);
        _picker = new PiecePicker<IActorRef>(
            metainfo.PieceCount, metainfo.GetPieceSize, context.Settings.BlockSize, random ?? new Random(), maxInProgress);

        Receive<Start>(OnStart);
        Receive<SetPiecePriorities>(OnSetPiecePriorities);
        Receive<PeerBitfield>(m => OnPeerPieces(m.Peer, Bitfield.FromWire(m.Bits.Span, _pieceCount)));
        Receive<PeerHaveAll>(m => OnPeerPieces(m.Peer, Bitfield.AllSet(_pieceCount)));
        Receive<PeerHaveNone>(m => OnPeerPieces(m.Peer, Bitfield.None(_pieceCount)));
        Receive<PeerHave>(OnPeerHave);
        Receive<PeerChoked>(OnPeerChoked);
        Receive<PeerUnchoked>(m => Watch(m.Peer));
        Receive<RequestBlocks>(OnRequestBlocks);
        Receive<BlockReceived>(m => OnBlockReceived(m.Peer, m.Block));
        Receive<BlocksReceived>(m => Array.ForEach(m.Blocks, block => OnBlockReceived(m.Peer, block)));
        Receive<BlocksReleased>(m =>
        {
            _picker.Release(m.Peer, m.Blocks);
            FeedDemand();
        });
        Receive<PieceVerified>(OnPieceVerified);
        Receive<PieceFailed>(m =>
        {
            _picker.PieceFailed(m.Piece);
            FeedDemand();
        });
        Receive<Terminated>(OnPeerTerminated);
        Receive<LogState>(_ => OnLogState());
        Receive<GetStatus>(_ => Sender.Tell(new Status(
            _picker.VerifiedCount, _picker.PiecesInProgress, _picker.AssignedBlocks, _picker.InEndgame, _picker.PeerCount)));
    }

    public static Props Props(TorrentContext context, Random? random = null) =>
        Akka.Actor.Props.Create(() => new PieceSchedulerActor(context, random));

    private void OnLogState()
    {
        _log.Warning("Scheduler: {Verified} pieces verified, {InProgress} in progress, {Assigned} blocks assigned, endgame {Endgame}, {Peers} peers",
            $"{_picker.VerifiedCount}/{_pieceCount}", _picker.PiecesInProgress, _picker.AssignedBlocks, _picker.InEndgame, _picker.PeerCount);
        _log.Warning("Scheduler: {Waiting} peers wait for {Demand} blocks", _demand.Count, _demand.Values.Sum());
        foreach (var peer in _watched)
        {
            _log.Warning("Scheduler: peer {Peer} has {Assigned} blocks assigned, wants work: {Wants}, owed {Owed}",
                peer.Path.Name, _picker.AssignedTo(peer).Count, _picker.Wants(peer), _demand.GetValueOrDefault(peer));
        }
    }

    private void OnStart(Start message)
    {
        _picker.MarkVerified(message.VerifiedPieces.Span);
        _started = true;
        _log.Debug("Scheduler started with {Verified}/{Pieces} pieces verified", _picker.VerifiedCount, _pieceCount);
        FeedDemand();
    }

    private void OnSetPiecePriorities(SetPiecePriorities message)
    {
        if (message.Priorities.Length != _pieceCount)
        {
            _log.Warning("Ignoring piece priorities for {Count} pieces: the torrent has {PieceCount}",
                message.Priorities.Length, _pieceCount);
            return;
        }
        var (interesting, uninteresting) = _picker.SetPiecePriorities(message.Priorities.Span);
        foreach (var peer in uninteresting)
        {
            _demand.Remove(peer);
            peer.Tell(new PeerActor.SetInterest(false));
        }
        foreach (var peer in interesting)
        {
            peer.Tell(new PeerActor.SetInterest(true));
        }
        _log.Debug("Piece priorities set: {Wanted} of {PieceCount} pieces wanted", CountWanted(message.Priorities.Span), _pieceCount);
        FeedDemand();
    }

    private static int CountWanted(ReadOnlySpan<byte> priorities) => priorities.Length - priorities.Count((byte)0);

    private void OnPeerPieces(IActorRef peer, Bitfield? pieces)
    {
        if (pieces is null)
        {
            // The peer actor validates bitfields, so this is a bug upstream, not a hostile peer.
            _log.Warning("Ignoring a malformed bitfield from {Peer}", peer.Path.Name);
            return;
        }
        Watch(peer);
        var interested = _picker.SetPeerPieces(peer, pieces);
        if (!interested)
        {
            // The peer forgets its asks when it hears we are not interested; so does the scheduler.
            _demand.Remove(peer);
        }
        peer.Tell(new PeerActor.SetInterest(interested));
        Serve(peer);
    }

    private void OnPeerHave(PeerHave message)
    {
        if ((uint)message.Piece >= (uint)_pieceCount)
        {
            return;
        }
        Watch(message.Peer);
        var wasInterested = _picker.Wants(message.Peer);
        if (_picker.PeerHas(message.Peer, message.Piece) && !wasInterested)
        {
            message.Peer.Tell(new PeerActor.SetInterest(true));
        }
        Serve(message.Peer);
    }

    private void OnPeerChoked(PeerChoked message)
    {
        // A choked peer cannot use work; it asks again when unchoked.
        _demand.Remove(message.Peer);
        _picker.ReleaseAll(message.Peer);
        FeedDemand();
    }

    private void OnRequestBlocks(RequestBlocks message)
    {
        Watch(message.Peer);
        // Asks are increments: keeping only the latest one would leave the peer waiting for blocks it was told
        // it would get (one block per round trip after the in-flight cap held work back for a moment).
        var earlier = message.Resync ? 0 : _demand.GetValueOrDefault(message.Peer);
        _demand[message.Peer] = earlier + message.Count;
        Serve(message.Peer);
    }

    /// <summary>Hands a peer what it asked for, as far as there is work; the rest stays as demand.</summary>
    private void Serve(IActorRef peer)
    {
        if (!_started || !_demand.TryGetValue(peer, out var count))
        {
            return;
        }
        var wasEndgame = _picker.InEndgame;
        var blocks = _picker.Pick(peer, count);
        if (blocks.Count > 0)
        {
            peer.Tell(new PeerActor.AssignBlocks(blocks));
        }
        if (blocks.Count >= count)
        {
            _demand.Remove(peer);
        }
        else
        {
            _demand[peer] = count - blocks.Count;
        }
        if (!wasEndgame && _picker.InEndgame)
        {
            if (!_endgameLogged)
            {
                _endgameLogged = true;
                _log.Debug("Endgame: the last blocks are requested from several peers");
            }
            // Everything is requested now: the peers still waiting may take duplicates of the last blocks.
            FeedDemand();
        }
    }

    private void FeedDemand()
    {
        if (!_started || _demand.Count == 0)
        {
            return;
        }
        foreach (var peer in _demand.Keys.ToList())
        {
            Serve(peer);
        }
    }

    private void OnBlockReceived(IActorRef peer, BlockRequest block)
    {
        var others = _picker.BlockReceived(peer, block);
        if (others.Count == 0)
        {
            return;
        }
        IReadOnlyList<BlockRequest> cancel = [block];
        foreach (var other in others)
        {
            other.Tell(new PeerActor.CancelBlocks(cancel));
        }
    }

    private void OnPieceVerified(PieceVerified message)
    {
        foreach (var peer in _picker.PieceVerified(message.Piece))
        {
            _demand.Remove(peer);
            peer.Tell(new PeerActor.SetInterest(false));
        }
        FeedDemand();
    }

    private void OnPeerTerminated(Terminated message)
    {
        _watched.Remove(message.ActorRef);
        _demand.Remove(message.ActorRef);
        _picker.RemovePeer(message.ActorRef);
        FeedDemand();
    }

    private void Watch(IActorRef peer)
    {
        if (_watched.Add(peer))
        {
            Context.Watch(peer);
        }
    }
}
