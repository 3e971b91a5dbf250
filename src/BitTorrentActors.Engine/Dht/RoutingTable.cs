using System.Net;
using BitTorrentActors.Protocol.Dht;

namespace BitTorrentActors.Engine.Dht;

/// <summary>BEP 5 node states, from our point of view.</summary>
public enum NodeStatus
{
    /// <summary>Answered one of our queries in the last 15 minutes, or answered once and queried us in the last 15.</summary>
    Good,
    /// <summary>Not known to be good any more (or never answered us), not known to be bad either: worth a ping.</summary>
    Questionable,
    /// <summary>Failed several queries in a row (or never answered and failed one): the first to be replaced.</summary>
    Bad,
}

/// <summary>What became of a node offered to the table.</summary>
public enum RoutingUpdate
{
    /// <summary>Put in its bucket (possibly in place of a bad or never-confirmed node).</summary>
    Added,
    /// <summary>Already in the table; its times were updated.</summary>
    Updated,
    /// <summary>Its bucket is full of live nodes: kept in the bucket's replacement cache.</summary>
    Replacement,
    /// <summary>Not kept: our own id, an endpoint that belongs to another id, or nowhere to put it.</summary>
    Refused,
}

/// <summary>The outcome of offering a node; <see cref="Ping"/> is the bucket's stalest questionable node when a full
/// bucket left the newcomer in the replacement cache (BEP 5: ping it, and it is replaced if it fails).</summary>
public readonly record struct RoutingOutcome(RoutingUpdate Update, DhtNode? Ping = null);

/// <summary>A node of the table as <c>bta dht</c> and the DHT actor see it.</summary>
public sealed record RoutingNode(
    NodeId Id,
    IPEndPoint EndPoint,
    NodeStatus Status,
    TimeSpan? LastResponse,
    TimeSpan? LastQuery,
    int Failures,
    int Bucket);

/// <summary>Bounds and times of the table; the defaults are BEP 5's.</summary>
/// <param name="BucketSize">k: live nodes per bucket.</param>
/// <param name="ReplacementsPerBucket">Nodes kept aside per bucket for when a live one goes bad.</param>
/// <param name="GoodFor">How long an answer keeps a node good (15 minutes).</param>
/// <param name="FailuresUntilBad">Failed queries in a row after which a node that once answered is bad.</param>
/// <param name="RefreshAfter">A bucket not changed for this long is due for a refresh lookup (15 minutes).</param>
public sealed record RoutingTableOptions(
    int BucketSize = 8,
    int ReplacementsPerBucket = 8,
    TimeSpan? GoodFor = null,
    int FailuresUntilBad = 3,
    TimeSpan? RefreshAfter = null)
{
    public static RoutingTableOptions Default { get; } = new();

    public TimeSpan GoodTime => GoodFor ?? TimeSpan.FromMinutes(15);

    public TimeSpan RefreshTime => RefreshAfter ?? TimeSpan.FromMinutes(15);
}

/// <summary>
/// A Kademlia routing table (BEP 5), a plain class owned by the DHT actor, clock-free (every call takes
/// <c>now</c> on the caller's clock, a monotonic <see cref="TimeSpan"/>).
/// <para>
/// Bucket <c>i</c> holds the nodes whose id shares exactly <c>i</c> leading bits with ours; the last bucket holds
/// everything sharing at least its index, and it is the only one that splits when full, so the table stays dense
/// near our own id and sparse far from it (at most 160 buckets of k nodes plus k replacements: bounded memory
/// whatever the network sends).
/// </para>
/// <para>
/// Anti-poisoning: only a node that answered us (<see cref="Responded"/>) may displace another or take an endpoint
/// over from a changed id; a query or a hearsay mention (<see cref="Queried"/>, <see cref="AddUnconfirmed"/>) fills
/// only free room, since the source address of a query can be forged.
/// </para>
/// </summary>
public sealed class RoutingTable
{
    private readonly RoutingTableOptions _options;
    private readonly List<Bucket> _buckets = [];

    public RoutingTable(NodeId ownId, TimeSpan now, RoutingTableOptions? options = null)
    {
        OwnId = ownId;
        _options = options ?? RoutingTableOptions.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.BucketSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(_options.ReplacementsPerBucket);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.FailuresUntilBad, 1);
        _buckets.Add(new Bucket(now));
    }

    public NodeId OwnId { get; }

    public int BucketCount => _buckets.Count;

    /// <summary>Live nodes (not counting replacements).</summary>
    public int Count => _buckets.Sum(b => b.Live.Count);

    public int ReplacementCount => _buckets.Sum(b => b.Replacements.Count);

    public int GoodCount(TimeSpan now) => _buckets.Sum(b => b.Live.Count(e => StatusOf(e, now) == NodeStatus.Good));

    /// <summary>The node answered one of our queries: it becomes (or stays) good.</summary>
    public RoutingOutcome Responded(NodeId id, IPEndPoint endPoint, TimeSpan now) =>
        Offer(id, CompactNodeInfo.Normalise(endPoint), now, Heard.Response);

    /// <summary>The node sent us a query: good again if it ever answered us, otherwise only kept where there is room.</summary>
    public RoutingOutcome Queried(NodeId id, IPEndPoint endPoint, TimeSpan now) =>
        Offer(id, CompactNodeInfo.Normalise(endPoint), now, Heard.Query);

    /// <summary>A node we only heard of (a saved table, a bootstrap answer): questionable until it answers a ping.</summary>
    public RoutingOutcome AddUnconfirmed(NodeId id, IPEndPoint endPoint, TimeSpan now) =>
        Offer(id, CompactNodeInfo.Normalise(endPoint), now, Heard.Hearsay);

    /// <summary>
    /// A query to <paramref name="endPoint"/> went unanswered. Once the node is bad it is replaced by the best
    /// replacement of its bucket, if there is one; a bad replacement is dropped.
    /// </summary>
    public void Failed(IPEndPoint endPoint, TimeSpan now)
    {
        endPoint = CompactNodeInfo.Normalise(endPoint);
        foreach (var bucket in _buckets)
        {
            if (bucket.Find(endPoint, out var entry, out var isLive))
            {
                entry.Failures++;
                if (StatusOf(entry, now) != NodeStatus.Bad)
                {
                    return;
                }
                if (!isLive)
                {
                    bucket.Replacements.Remove(entry);
                }
                else if (TakeBestReplacement(bucket, now) is { } replacement)
                {
                    bucket.Live[bucket.Live.IndexOf(entry)] = replacement;
                    bucket.LastChanged = now;
                }
                return;
            }
        }
    }

    /// <summary>Removes a node outright (for example one whose answers prove it lies).</summary>
    public bool Remove(IPEndPoint endPoint)
    {
        endPoint = CompactNodeInfo.Normalise(endPoint);
        foreach (var bucket in _buckets)
        {
            if (bucket.Find(endPoint, out var entry, out var isLive))
            {
                (isLive ? bucket.Live : bucket.Replacements).Remove(entry);
                return true;
            }
        }
        return false;
    }

    public bool Contains(NodeId id) => _buckets[IndexFor(id)].Live.Any(e => e.Id == id);

    /// <summary>
    /// The <paramref name="count"/> live nodes closest to <paramref name="target"/>, nearest first, never bad ones.
    /// With <paramref name="confirmedOnly"/> (for answering other nodes) only nodes that have answered us count,
    /// so nobody learns an address from us that we never saw answer.
    /// </summary>
    public IReadOnlyList<DhtNode> Closest(NodeId target, int count, TimeSpan now, bool confirmedOnly = false) =>
        _buckets.SelectMany(b => b.Live)
            .Where(e => StatusOf(e, now) != NodeStatus.Bad && (!confirmedOnly || e.LastResponse is not null))
            .Select(e => new DhtNode(e.Id, e.EndPoint))
            .OrderBy(n => n.Id ^ target)
            .Take(Math.Max(0, count))
            .ToList();

    /// <summary>Every live node, bucket by bucket, for <c>bta dht</c> and for picking nodes to ping.</summary>
    public IReadOnlyList<RoutingNode> Nodes(TimeSpan now) =>
        _buckets.SelectMany((b, index) => b.Live.Select(e =>
            new RoutingNode(e.Id, e.EndPoint, StatusOf(e, now), e.LastResponse, e.LastQuery, e.Failures, index)))
            .ToList();

    public NodeStatus? StatusOf(IPEndPoint endPoint, TimeSpan now)
    {
        endPoint = CompactNodeInfo.Normalise(endPoint);
        foreach (var bucket in _buckets)
        {
            if (bucket.Find(endPoint, out var entry, out var isLive) && isLive)
            {
                return StatusOf(entry, now);
            }
        }
        return null;
    }

    /// <summary>
    /// Buckets not changed for <see cref="RoutingTableOptions.RefreshTime"/>: one random lookup target inside each
    /// one's range (BEP 5 refresh). Each bucket returned counts as changed now, so it is not due again until the
    /// next period; the lookup's answers will change it anyway.
    /// </summary>
    public IReadOnlyList<NodeId> DueRefreshes(TimeSpan now, Random random)
    {
        var targets = new List<NodeId>();
        for (var i = 0; i < _buckets.Count; i++)
        {
            if (now - _buckets[i].LastChanged < _options.RefreshTime)
            {
                continue;
            }
            _buckets[i].LastChanged = now;
            targets.Add(i == _buckets.Count - 1
                ? OwnId.RandomWithPrefix(i, random)
                : OwnId.FlipBit(i).RandomWithPrefix(i + 1, random));
        }
        return targets;
    }

    /// <summary>
    /// The same nodes in a table around <paramref name="ownId"/> (our id changed, BEP 42), as libtorrent's
    /// routing_table::update_node_id does: every live node is offered again first, then the replacements, each
    /// keeping what we know of it (answers, queries, failures); what no longer fits is dropped.
    /// </summary>
    public RoutingTable WithOwnId(NodeId ownId, TimeSpan now)
    {
        var table = new RoutingTable(ownId, now, _options);
        foreach (var entry in _buckets.SelectMany(b => b.Live).Concat(_buckets.SelectMany(b => b.Replacements)).ToList())
        {
            if (entry.Id == ownId)
            {
                continue;
            }
            var copy = new Entry(entry.Id, entry.EndPoint)
            {
                LastResponse = entry.LastResponse,
                LastQuery = entry.LastQuery,
                LastSeen = entry.LastSeen,
                Failures = entry.Failures,
            };
            if (!table.TryAddLive(copy, now, out var bucket))
            {
                table.AddReplacement(bucket, copy, now);
            }
        }
        return table;
    }

    /// <summary>The nodes worth saving: live and replacement nodes that have answered us and are not bad, nearest buckets first.</summary>
    public IReadOnlyList<DhtNode> NodesToSave(TimeSpan now) =>
        Enumerable.Range(0, _buckets.Count).Reverse()
            .SelectMany(i => _buckets[i].Live.Concat(_buckets[i].Replacements))
            .Where(e => e.LastResponse is not null && StatusOf(e, now) != NodeStatus.Bad)
            .Select(e => new DhtNode(e.Id, e.EndPoint))
            .ToList();

    private RoutingOutcome Offer(NodeId id, IPEndPoint endPoint, TimeSpan now, Heard heard)
    {
        if (id == OwnId || endPoint.Port == 0)
        {
            return new(RoutingUpdate.Refused);
        }
        // A known endpoint: the same node again, or a node that restarted with a new id.
        foreach (var b in _buckets)
        {
            if (!b.Find(endPoint, out var known, out var knownIsLive))
            {
                continue;
            }
            if (known.Id == id)
            {
                Touch(known, now, heard);
                if (heard == Heard.Response && knownIsLive)
                {
                    b.LastChanged = now;
                }
                if (heard == Heard.Response && !knownIsLive)
                {
                    // A replacement that answers may take the place of a live node gone bad.
                    PromoteIfRoom(b, known, now);
                }
                return new(RoutingUpdate.Updated);
            }
            if (heard != Heard.Response)
            {
                return new(RoutingUpdate.Refused);
            }
            (knownIsLive ? b.Live : b.Replacements).Remove(known);
            break;
        }

        var bucket = _buckets[IndexFor(id)];
        if (bucket.Live.Concat(bucket.Replacements).FirstOrDefault(e => e.Id == id) is { } sameId)
        {
            // The same id at another endpoint: believe it only from an answer, and only when the old one is not good.
            if (heard != Heard.Response || StatusOf(sameId, now) == NodeStatus.Good)
            {
                return new(RoutingUpdate.Refused);
            }
            bucket.Live.Remove(sameId);
            bucket.Replacements.Remove(sameId);
        }

        var entry = new Entry(id, endPoint);
        Touch(entry, now, heard);
        if (TryAddLive(entry, now, out bucket))
        {
            return new(RoutingUpdate.Added);
        }

        // Full and not splittable: a bad node gives way to anyone; a never-confirmed one only to a node that answered.
        var victim = bucket.Live.FirstOrDefault(e => StatusOf(e, now) == NodeStatus.Bad)
            ?? (heard == Heard.Response ? bucket.Live.FirstOrDefault(e => e.LastResponse is null) : null);
        if (victim is not null)
        {
            bucket.Live[bucket.Live.IndexOf(victim)] = entry;
            bucket.LastChanged = now;
            return new(RoutingUpdate.Added);
        }
        if (!AddReplacement(bucket, entry, now))
        {
            return new(RoutingUpdate.Refused);
        }
        var stalest = bucket.Live
            .Where(e => StatusOf(e, now) == NodeStatus.Questionable)
            .OrderBy(e => e.LastSeen)
            .FirstOrDefault();
        return new(RoutingUpdate.Replacement, stalest is null ? null : new DhtNode(stalest.Id, stalest.EndPoint));
    }

    /// <summary>Puts the entry in its bucket's live list, splitting the last bucket as needed; false, with the
    /// full bucket it belongs to, when there is no room.</summary>
    private bool TryAddLive(Entry entry, TimeSpan now, out Bucket bucket)
    {
        bucket = _buckets[IndexFor(entry.Id)];
        for (var guard = 0; guard <= NodeId.Bits; guard++)
        {
            var index = IndexFor(entry.Id);
            bucket = _buckets[index];
            if (bucket.Live.Count < _options.BucketSize)
            {
                bucket.Live.Add(entry);
                bucket.LastChanged = now;
                return true;
            }
            if (index == _buckets.Count - 1 && index < NodeId.Bits - 1)
            {
                Split(now);
                continue;
            }
            break;
        }
        return false;
    }

    private bool AddReplacement(Bucket bucket, Entry entry, TimeSpan now)
    {
        if (_options.ReplacementsPerBucket == 0)
        {
            return false;
        }
        if (bucket.Replacements.Count >= _options.ReplacementsPerBucket)
        {
            // Make room by dropping the least useful: bad first, then never answered, then the stalest.
            var drop = bucket.Replacements
                .OrderBy(e => StatusOf(e, now) == NodeStatus.Bad ? 0 : 1)
                .ThenBy(e => e.LastResponse is null ? 0 : 1)
                .ThenBy(e => e.LastSeen)
                .First();
            if (entry.LastResponse is null && drop.LastResponse is not null)
            {
                return false;
            }
            bucket.Replacements.Remove(drop);
        }
        bucket.Replacements.Add(entry);
        return true;
    }

    private void PromoteIfRoom(Bucket bucket, Entry replacement, TimeSpan now)
    {
        var slot = bucket.Live.Count < _options.BucketSize
            ? -1
            : bucket.Live.FindIndex(e => StatusOf(e, now) == NodeStatus.Bad || e.LastResponse is null);
        if (bucket.Live.Count >= _options.BucketSize && slot < 0)
        {
            return;
        }
        bucket.Replacements.Remove(replacement);
        if (slot < 0)
        {
            bucket.Live.Add(replacement);
        }
        else
        {
            bucket.Live[slot] = replacement;
        }
        bucket.LastChanged = now;
    }

    private Entry? TakeBestReplacement(Bucket bucket, TimeSpan now)
    {
        var best = bucket.Replacements
            .Where(e => StatusOf(e, now) != NodeStatus.Bad)
            .OrderByDescending(e => e.LastResponse ?? TimeSpan.MinValue)
            .ThenByDescending(e => e.LastSeen)
            .FirstOrDefault();
        if (best is not null)
        {
            bucket.Replacements.Remove(best);
        }
        return best;
    }

    private void Split(TimeSpan now)
    {
        var last = _buckets[^1];
        var index = _buckets.Count - 1;
        var next = new Bucket(now);
        // Nodes sharing more than `index` bits with us move on; the old bucket keeps exactly `index`.
        next.Live.AddRange(last.Live.Where(e => OwnId.CommonPrefixLength(e.Id) > index));
        next.Replacements.AddRange(last.Replacements.Where(e => OwnId.CommonPrefixLength(e.Id) > index));
        last.Live.RemoveAll(e => OwnId.CommonPrefixLength(e.Id) > index);
        last.Replacements.RemoveAll(e => OwnId.CommonPrefixLength(e.Id) > index);
        _buckets.Add(next);
        // Replacements of the old bucket fill the room the move made.
        while (last.Live.Count < _options.BucketSize && TakeBestReplacement(last, now) is { } promoted)
        {
            last.Live.Add(promoted);
        }
    }

    private int IndexFor(NodeId id) => Math.Min(OwnId.CommonPrefixLength(id), _buckets.Count - 1);

    private static void Touch(Entry entry, TimeSpan now, Heard heard)
    {
        entry.LastSeen = now;
        switch (heard)
        {
            case Heard.Response:
                entry.LastResponse = now;
                entry.Failures = 0;
                break;
            case Heard.Query:
                entry.LastQuery = now;
                break;
        }
    }

    private NodeStatus StatusOf(Entry entry, TimeSpan now)
    {
        if (entry.Failures >= _options.FailuresUntilBad || (entry.LastResponse is null && entry.Failures > 0))
        {
            return NodeStatus.Bad;
        }
        if (entry.LastResponse is { } answered
            && (now - answered < _options.GoodTime || (entry.LastQuery is { } asked && now - asked < _options.GoodTime)))
        {
            return NodeStatus.Good;
        }
        return NodeStatus.Questionable;
    }

    private enum Heard
    {
        Response,
        Query,
        Hearsay,
    }

    private sealed class Entry(NodeId id, IPEndPoint endPoint)
    {
        public NodeId Id { get; } = id;
        public IPEndPoint EndPoint { get; } = endPoint;
        public TimeSpan? LastResponse { get; set; }
        public TimeSpan? LastQuery { get; set; }
        public TimeSpan LastSeen { get; set; }
        public int Failures { get; set; }
    }

    private sealed class Bucket(TimeSpan now)
    {
        public List<Entry> Live { get; } = [];
        public List<Entry> Replacements { get; } = [];
        public TimeSpan LastChanged { get; set; } = now;

        public bool Find(IPEndPoint endPoint, out Entry entry, out bool isLive)
        {
            foreach (var e in Live)
            {
                if (e.EndPoint.Equals(endPoint))
                {
                    (entry, isLive) = (e, true);
                    return true;
                }
            }
            foreach (var e in Replacements)
            {
                if (e.EndPoint.Equals(endPoint))
                {
                    (entry, isLive) = (e, false);
                    return true;
                }
            }
            (entry, isLive) = (null!, false);
            return false;
        }
    }
}
