using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;

namespace BitTorrentActors.ClusterSim;

/// <summary>
/// Lives on the driver node at /user/collector and sees every entity start ("announce") and handoff stop in the
/// cluster, stamped with the driver's Stopwatch on arrival, plus the cluster events about the victim node. From that
/// it answers: how many distinct entities run, how many incarnations there were, where each runs, which of the
/// victim's entities are running again elsewhere and when the last one came back, and whether any entity was seen
/// starting on one live node while it still ran on another (a duplicate, which must never happen).
/// </summary>
public sealed class Collector : ReceiveActor
{
    public sealed record Started(string InfoHash, string Node);

    public sealed record Stopped(string InfoHash, string Node);

    /// <summary>From now on the entities running on <paramref name="Node"/> are the victims; killed: no stop reports.</summary>
    public sealed record MarkVictim(string Node, bool Killed);

    public sealed record Query
    {
        public static readonly Query Instance = new();
    }

    public sealed record Report(
        int Distinct,
        int Incarnations,
        IReadOnlyDictionary<string, int> RunningPerNode,
        long LastStartTicks,
        int VictimTotal,
        int VictimRestarted,
        long VictimFirstRestartTicks,
        long VictimLastRestartTicks,
        IReadOnlyList<long> VictimRestartTicks,
        int OtherRestarts,
        int VictimStopped,
        long VictimFirstStopTicks,
        long VictimLastStopTicks,
        int Duplicates,
        long VictimUnreachableTicks,
        long VictimDownTicks,
        long VictimRemovedTicks);

    private sealed class Entity
    {
        public string Node = "";
        public bool Running;
        public int Starts;
    }

    private readonly Dictionary<string, Entity> _entities = new();
    private readonly HashSet<string> _victims = new();
    private readonly HashSet<string> _victimsBack = new();
    private readonly List<long> _victimRestartTicks = new();
    private string? _victimNode;
    private bool _victimKilled;
    private int _incarnations;
    private long _lastStart;
    private long _victimFirstRestart;
    private long _victimLastRestart;
    private int _otherRestarts;
    private int _victimStopped;
    private long _victimFirstStop;
    private long _victimLastStop;
    private int _duplicates;
    private long _unreachable;
    private long _down;
    private long _removed;

    public Collector()
    {
        Receive<Started>(OnStarted);
        Receive<Stopped>(m =>
        {
            var now = Stopwatch.GetTimestamp();
            if (_entities.TryGetValue(m.InfoHash, out var e) && e.Node == m.Node) e.Running = false;
            if (m.Node == _victimNode)
            {
                _victimStopped++;
                if (_victimFirstStop == 0) _victimFirstStop = now;
                _victimLastStop = now;
            }
        });
        Receive<MarkVictim>(m =>
        {
            _victimNode = m.Node;
            _victimKilled = m.Killed;
            _victims.Clear();
            _victimsBack.Clear();
            _victimRestartTicks.Clear();
            _victimFirstRestart = _victimLastRestart = _victimFirstStop = _victimLastStop = 0;
            _unreachable = _down = _removed = 0;
            _victimStopped = _otherRestarts = 0;
            foreach (var (id, e) in _entities)
                if (e.Running && e.Node == m.Node) _victims.Add(id);
            Sender.Tell(_victims.Count);
        });
        Receive<ClusterEvent.IMemberEvent>(m => OnMember(m.Member, m is ClusterEvent.MemberRemoved));
        Receive<ClusterEvent.UnreachableMember>(m =>
        {
            if (m.Member.Address.ToString() == _victimNode && _unreachable == 0) _unreachable = Stopwatch.GetTimestamp();
        });
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<Query>(_ => Sender.Tell(new Report(
            _entities.Count,
            _incarnations,
            _entities.Values.Where(e => e.Running).GroupBy(e => e.Node).ToDictionary(g => g.Key, g => g.Count()),
            _lastStart,
            _victims.Count,
            _victimsBack.Count,
            _victimFirstRestart,
            _victimLastRestart,
            _victimRestartTicks.ToArray(),
            _otherRestarts,
            _victimStopped,
            _victimFirstStop,
            _victimLastStop,
            _duplicates,
            _unreachable,
            _down,
            _removed)));
    }

    protected override void PreStart() =>
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    private void OnMember(Member member, bool removed)
    {
        if (member.Address.ToString() != _victimNode) return;
        var now = Stopwatch.GetTimestamp();
        if (member.Status == MemberStatus.Down && _down == 0) _down = now;
        if (removed && _removed == 0) _removed = now;
    }

    private void OnStarted(Started m)
    {
        var now = Stopwatch.GetTimestamp();
        _incarnations++;
        _lastStart = now;
        if (!_entities.TryGetValue(m.InfoHash, out var e))
        {
            e = new Entity();
            _entities[m.InfoHash] = e;
        }
        else if (e.Running && e.Node != m.Node && !(_victimKilled && e.Node == _victimNode))
        {
            // Running on a node that neither stopped it nor died: two incarnations at once.
            _duplicates++;
        }
        e.Node = m.Node;
        e.Running = true;
        e.Starts++;

        if (_victimNode is null || e.Starts == 1) return;
        if (_victims.Contains(m.InfoHash) && m.Node != _victimNode)
        {
            if (_victimsBack.Add(m.InfoHash))
            {
                if (_victimFirstRestart == 0) _victimFirstRestart = now;
                _victimRestartTicks.Add(now);
                _victimLastRestart = now;
            }
        }
        else if (!_victims.Contains(m.InfoHash))
        {
            _otherRestarts++;
        }
    }
}
