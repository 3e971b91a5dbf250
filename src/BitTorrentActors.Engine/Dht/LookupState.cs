using System.Net;
using BitTorrentActors.Protocol.Dht;

namespace BitTorrentActors.Engine.Dht;

/// <summary>Bounds of one iterative lookup.</summary>
/// <param name="Alpha">Queries in flight at once (BEP 5 / Kademlia: 3).</param>
/// <param name="K">How many closest nodes must answer before the lookup is done (8).</param>
/// <param name="QueryTimeout">How long a query may go unanswered before its node counts as failed.</param>
/// <param name="MaxCandidates">Nodes remembered, the closest kept; a flood of far nodes cannot grow the state.</param>
/// <param name="MaxQueries">Queries sent at most, so a network that keeps offering "closer" nodes cannot keep a lookup alive.</param>
public sealed record LookupOptions(
    int Alpha = 3,
    int K = 8,
    TimeSpan? QueryTimeout = null,
    int MaxCandidates = 64,
    int MaxQueries = 128)
{
    public static LookupOptions Default { get; } = new();

    public TimeSpan Timeout => QueryTimeout ?? TimeSpan.FromSeconds(10);
}

/// <summary>A node that answered a lookup, with the write token its <c>get_peers</c> answer carried (for <c>announce_peer</c>).</summary>
public readonly record struct LookupResult(DhtNode Node, ReadOnlyMemory<byte>? Token);

/// <summary>
/// One iterative Kademlia lookup (<c>find_node</c> or <c>get_peers</c> towards a target) as a pure state
/// machine: the DHT actor sends what <see cref="NextQueries"/> returns, feeds answers, errors and its timer in,
/// and stops when <see cref="IsDone"/>. Clock-free: every call takes <c>now</c>.
/// <para>
/// Candidates are ordered by XOR distance to the target. The lookup queries the closest not-yet-queried
/// candidates among the <c>K</c> closest that have not failed, at most <c>Alpha</c> at a time, and is done when
/// those <c>K</c> closest have all answered (nothing closer came back), when nothing is left to ask, or when
/// <c>MaxQueries</c> were sent. A query unanswered after <c>QueryTimeout</c> fails its node, whose place in the
/// <c>K</c> the next candidate takes. Candidates are keyed by endpoint: an answer from an address we did not ask
/// is ignored.
/// </para>
/// </summary>
public sealed class LookupState
{
    private readonly LookupOptions _options;
    private readonly NodeId? _ownId;
    private readonly Dictionary<IPEndPoint, Candidate> _byEndPoint = [];
    private readonly List<Candidate> _ordered = [];

    public LookupState(NodeId target, IEnumerable<DhtNode> seeds, LookupOptions? options = null, NodeId? ownId = null)
    {
        Target = target;
        _options = options ?? LookupOptions.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.Alpha, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.K, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxCandidates, _options.K);
        _ownId = ownId;
        foreach (var seed in seeds)
        {
            Consider(seed);
        }
    }

    public NodeId Target { get; }

    public int InFlight { get; private set; }

    public int QueriesSent { get; private set; }

    public int Failures { get; private set; }

    public int CandidateCount => _ordered.Count;

    public bool IsDone
    {
        get
        {
            // Walk the K closest candidates that have not failed: done once they all answered; any of them in
            // flight, or still to ask while the query budget lasts, keeps the lookup going.
            var answered = 0;
            foreach (var candidate in _ordered)
            {
                switch (candidate.State)
                {
                    case CandidateState.Failed:
                        continue;
                    case CandidateState.Responded:
                        if (++answered == _options.K)
                        {
                            return true;
                        }
                        continue;
                    case CandidateState.InFlight:
                        return false;
                    default:
                        if (QueriesSent < _options.MaxQueries)
                        {
                            return false;
                        }
                        // The budget is spent: this one will never be asked, so it does not hold the lookup up.
                        continue;
                }
            }
            return true;
        }
    }

    /// <summary>When the earliest query in flight times out; null with nothing in flight (for the actor's timer).</summary>
    public TimeSpan? NextTimeout =>
        InFlight == 0 ? null : _ordered.Where(c => c.State == CandidateState.InFlight).Min(c => c.SentAt) + _options.Timeout;

    /// <summary>
    /// Fails the queries that timed out, then returns the nodes to query now (each counted as in flight from
    /// <paramref name="now"/>); empty when the lookup waits for answers or is done.
    /// </summary>
    public IReadOnlyList<DhtNode> NextQueries(TimeSpan now)
    {
        Expire(now);
        var next = new List<DhtNode>();
        if (IsDone)
        {
            return next;
        }
        var rank = 0;
        foreach (var candidate in _ordered)
        {
            if (InFlight >= _options.Alpha || rank >= _options.K || QueriesSent >= _options.MaxQueries)
            {
                break;
            }
            if (candidate.State == CandidateState.Failed)
            {
                continue;
            }
            rank++;
            if (candidate.State == CandidateState.Fresh)
            {
                candidate.State = CandidateState.InFlight;
                candidate.SentAt = now;
                InFlight++;
                QueriesSent++;
                next.Add(candidate.Node);
            }
        }
        return next;
    }

    /// <summary>
    /// An answer from <paramref name="from"/>: the node answered as <paramref name="responder"/> and offered
    /// <paramref name="closer"/> nodes. False (and nothing changes) when no query to that endpoint is in flight.
    /// </summary>
    public bool OnResponse(IPEndPoint from, NodeId responder, IEnumerable<DhtNode> closer, ReadOnlyMemory<byte>? token, TimeSpan now)
    {
        _ = now;
        if (!_byEndPoint.TryGetValue(CompactNodeInfo.Normalise(from), out var candidate)
            || candidate.State != CandidateState.InFlight)
        {
            return false;
        }
        InFlight--;
        candidate.State = CandidateState.Responded;
        candidate.Token = token;
        if (candidate.Node.Id != responder)
        {
            // The node's own word for its id wins over whoever referred us to it.
            _ordered.Remove(candidate);
            candidate.Node = candidate.Node with { Id = responder };
            Insert(candidate);
        }
        foreach (var node in closer)
        {
            Consider(node);
        }
        return true;
    }

    /// <summary>The node answered with an error, or the query could not be sent: it fails at once.</summary>
    public void OnFailure(IPEndPoint from, TimeSpan now)
    {
        _ = now;
        if (_byEndPoint.TryGetValue(CompactNodeInfo.Normalise(from), out var candidate) && candidate.State == CandidateState.InFlight)
        {
            Fail(candidate);
        }
    }

    /// <summary>Fails every query in flight for longer than the timeout; returns their nodes (for the routing table's <c>Failed</c>).</summary>
    public IReadOnlyList<DhtNode> Expire(TimeSpan now)
    {
        var expired = new List<DhtNode>();
        foreach (var candidate in _ordered)
        {
            if (candidate.State == CandidateState.InFlight && now - candidate.SentAt >= _options.Timeout)
            {
                Fail(candidate);
                expired.Add(candidate.Node);
            }
        }
        return expired;
    }

    /// <summary>The closest nodes that answered, nearest first, at most K, with their tokens.</summary>
    public IReadOnlyList<LookupResult> Closest() =>
        _ordered.Where(c => c.State == CandidateState.Responded)
            .Take(_options.K)
            .Select(c => new LookupResult(c.Node, c.Token))
            .ToList();

    private void Consider(DhtNode node)
    {
        var endPoint = CompactNodeInfo.Normalise(node.EndPoint);
        if (endPoint.Port == 0 || node.Id == _ownId || _byEndPoint.ContainsKey(endPoint))
        {
            return;
        }
        var candidate = new Candidate(node with { EndPoint = endPoint });
        if (_ordered.Count >= _options.MaxCandidates)
        {
            // Full: the newcomer replaces the farthest candidate not yet asked, if it is closer; else it is ignored.
            var farthest = _ordered.FindLastIndex(c => c.State == CandidateState.Fresh);
            if (farthest < 0 || Target.CompareDistance(node.Id, _ordered[farthest].Node.Id) >= 0)
            {
                return;
            }
            _byEndPoint.Remove(_ordered[farthest].Node.EndPoint);
            _ordered.RemoveAt(farthest);
        }
        _byEndPoint[endPoint] = candidate;
        Insert(candidate);
    }

    private void Insert(Candidate candidate)
    {
        var distance = candidate.Node.Id ^ Target;
        var index = _ordered.FindIndex(c => (c.Node.Id ^ Target) > distance);
        _ordered.Insert(index < 0 ? _ordered.Count : index, candidate);
    }

    private void Fail(Candidate candidate)
    {
        candidate.State = CandidateState.Failed;
        InFlight--;
        Failures++;
    }

    private enum CandidateState
    {
        Fresh,
        InFlight,
        Responded,
        Failed,
    }

    private sealed class Candidate(DhtNode node)
    {
        public DhtNode Node { get; set; } = node;
        public CandidateState State { get; set; }
        public TimeSpan SentAt { get; set; }
        public ReadOnlyMemory<byte>? Token { get; set; }
    }
}
