using Akka.Actor;
using Akka.DistributedData;
using BitTorrentActors.Protocol.Metainfo;
using ClusterEvent = Akka.Cluster.ClusterEvent;
using ClusterExtension = Akka.Cluster.Cluster;

namespace BitTorrentActors.Engine.Cluster;

/// <summary>
/// Brings every node the torrent specs that Distributed Data's gossip leaves out. The spec replicator sends one
/// spec per gossip message (<c>max-delta-elements = 1</c>, <see cref="TorrentClusterHosting.ClusterConfig"/>), and
/// Akka.NET's replicator then starves a key: its status goes in chunks of keys by hash, and when one chunk holds two
/// specs that the other node lacks, the answer is the first key of a set that also holds the keys the other node
/// already has, so once one has arrived the same one is sent again on every tick and the other never (seen in
/// SpecGossipTests' debug log: 60 s of ticks each sending the same spec). A node missing that spec would lose the
/// torrent if the nodes that hold it died.
/// </summary>
/// <remarks>Every <see cref="Interval"/> this actor tells one other member's (at the same path) which specs it
/// holds, by info-hash. The receiver asks for those it lacked in that member's previous round too (gossip gets a
/// round to bring them), at most <see cref="MaxPerRound"/>, and the holder sends each as its replicated register,
/// which the receiver merges into its own replica: the same register, so the two replicas' digests agree and gossip
/// stops offering it. Tombstones of removed torrents are specs too and travel the same way.</remarks>
public sealed class SpecSyncActor : ReceiveActor, IWithTimers
{
    /// <summary>The specs a node holds (to one other node, each round).</summary>
    public sealed record Held(IReadOnlyList<InfoHash> InfoHashes);

    /// <summary>The answer: the specs the receiver of <see cref="Held"/> lacks and wants sent.</summary>
    public sealed record Wanted(IReadOnlyList<InfoHash> InfoHashes);

    private sealed record Round
    {
        public static readonly Round Instance = new();
    }

    /// <summary>The actor's name under /user on every node (a node addresses another's by it).</summary>
    public const string Name = "spec-sync";

    /// <summary>How often one other node is told what this one holds: a round costs one message of 43 bytes a torrent.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>How many specs one round asks for: each may be megabytes (a .torrent up to the frame).</summary>
    public const int MaxPerRound = 8;

    private readonly IActorRef _replicator;
    private readonly Address _selfAddress;
    private readonly List<Address> _others = [];

    /// <summary>The specs this node's replica held when last asked (its key ids).</summary>
    private HashSet<InfoHash> _local = [];

    /// <summary>What this node lacked of each member's last <see cref="Held"/>: what it lacks of that member's next one
    /// too, it asks for (per member: with three nodes, Helds from two members come in any order).</summary>
    private readonly Dictionary<Address, HashSet<InfoHash>> _lackedBefore = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public SpecSyncActor(IActorRef replicator)
    {
        _replicator = replicator;
        _selfAddress = ClusterExtension.Get(Context.System).SelfAddress;
        Receive<ClusterEvent.MemberUp>(m => OnMemberUp(m.Member.Address));
        Receive<ClusterEvent.MemberRemoved>(m =>
        {
            _others.Remove(m.Member.Address);
            _lackedBefore.Remove(m.Member.Address);
        });
        Receive<Round>(_ => _replicator.Tell(Dsl.GetKeyIds));
        Receive<GetKeysIdsResult>(OnKeyIds);
        Receive<Held>(OnHeld);
        Receive<Wanted>(OnWanted);
        Receive<GetSuccess>(OnLocalSpec);
        Receive<LWWRegister<TorrentSpec>>(OnSpecSent);
        // A wanted spec gone meanwhile, and the replicator's answers to the merges.
        Receive<NotFound>(_ => { });
        Receive<IUpdateResponse>(_ => { });
    }

    public static Props Props(IActorRef replicator) => Akka.Actor.Props.Create(() => new SpecSyncActor(replicator));

    protected override void PreStart()
    {
        ClusterExtension.Get(Context.System).Subscribe(Self, ClusterEvent.InitialStateAsEvents,
            typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberRemoved));
        Timers.StartPeriodicTimer("round", Round.Instance, Interval);
    }

    protected override void PostStop() => ClusterExtension.Get(Context.System).Unsubscribe(Self);

    private void OnMemberUp(Address address)
    {
        if (address != _selfAddress && !_others.Contains(address))
        {
            _others.Add(address);
        }
    }

    private void OnKeyIds(GetKeysIdsResult result)
    {
        _local = [];
        foreach (var id in result.Keys)
        {
            if (TorrentSpec.TryParseKey(id, out var hash))
            {
                _local.Add(hash);
            }
        }
        if (_others.Count > 0)
        {
            var to = _others[Random.Shared.Next(_others.Count)];
            Peer(to).Tell(new Held([.. _local]), Self);
        }
    }

    private void OnHeld(Held held)
    {
        var from = Sender.Path.Address;
        var lacked = held.InfoHashes.Where(h => !_local.Contains(h)).ToHashSet();
        var before = _lackedBefore.GetValueOrDefault(from);
        var wanted = before is null ? [] : lacked.Where(before.Contains).Take(MaxPerRound).ToList();
        _lackedBefore[from] = lacked;
        if (wanted.Count > 0)
        {
            Sender.Tell(new Wanted(wanted), Self);
        }
    }

    private void OnWanted(Wanted wanted)
    {
        foreach (var hash in wanted.InfoHashes.Take(MaxPerRound))
        {
            _replicator.Tell(Dsl.Get(TorrentSpec.KeyOf(hash), ReadLocal.Instance, Sender));
        }
    }

    private void OnLocalSpec(GetSuccess found)
    {
        if (found.Request is IActorRef to && found.Key is LWWRegisterKey<TorrentSpec> key)
        {
            to.Tell(found.Get(key), Self);
        }
    }

    private void OnSpecSent(LWWRegister<TorrentSpec> register)
    {
        if (register.Value is not { } spec)
        {
            return;
        }
        _replicator.Tell(Dsl.Update(TorrentSpec.KeyOf(spec.InfoHash), register, WriteLocal.Instance,
            existing => existing.Merge(register)));
    }

    private ActorSelection Peer(Address address) => Context.ActorSelection(new RootActorPath(address) / "user" / Name);
}
