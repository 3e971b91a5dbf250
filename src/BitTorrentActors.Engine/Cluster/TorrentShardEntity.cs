using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.DistributedData;
using Akka.Event;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Cluster;

/// <summary>
/// One torrent as a cluster sharding entity (entity id = its info-hash hex). The entity owns where the torrent
/// runs, not how: it hands the torrent to the session of the node it lives on (that node's listener, UDP, DHT and
/// download folder) and forwards every command for it there, so a cluster node runs the torrent with the same
/// code as a single-node daemon. When its shard restarts elsewhere (remember-entities, after a crash or a
/// rebalance) the new entity reads the torrent's <see cref="TorrentSpec"/> from Distributed Data and adds it to
/// its own session. On handoff (<see cref="HandOff"/>, the region's stop message) the torrent is parked: stopped
/// announced, resume data saved, kept in the node's state folder, and only then does the entity stop.
/// </summary>
public sealed class TorrentShardEntity : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    /// <summary>Add the torrent (the first time: the spec is written to Distributed Data). Reply: the session's
    /// <see cref="TorrentSessionActor.TorrentAdded"/> or <see cref="TorrentSessionActor.CommandRefused"/>.</summary>
    /// <param name="Restore">A node re-adding a torrent from its own state folder at start (not a user's add): refused
    /// for a torrent removed from the cluster meanwhile, so a node that was away does not bring it back.</param>
    public sealed record Host(TorrentSpec Spec, bool Restore = false) : ITorrentCommand
    {
        public InfoHash InfoHash => Spec.InfoHash;
    }

    /// <summary>The shard region's handoff stop message (not PoisonPill): park the torrent, then stop.</summary>
    public sealed record HandOff
    {
        public static readonly HandOff Instance = new();
    }

    private sealed record ParkOverdue
    {
        public static readonly ParkOverdue Instance = new();
    }

    /// <summary>How long the spec read may take before the local replica is used (ReadMajority needs a majority
    /// of nodes reachable).</summary>
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Bounds the park: the session bounds a coordinator's stop by 30 s itself.</summary>
    private static readonly TimeSpan ParkBudget = TimeSpan.FromSeconds(35);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly InfoHash _infoHash;
    private readonly ICanTell _session;
    private readonly IActorRef _replicator;
    private readonly LWWRegisterKey<TorrentSpec> _key;
    private readonly UniqueAddress _self;
    private TorrentSpec? _spec;
    private bool _readLocal;
    // The spec read at start was a tombstone: the torrent was removed from the cluster.
    private bool _removed;

    public TorrentShardEntity(InfoHash infoHash, ICanTell session, IActorRef replicator, UniqueAddress self)
    {
        _infoHash = infoHash;
        _session = session;
        _replicator = replicator;
        _self = self;
        _key = TorrentSpec.KeyOf(infoHash);
        Loading();
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="session">The session of this node (an ActorSelection of /user/session in the daemon).</param>
    public static Props Props(string entityId, ICanTell session, IActorRef replicator, UniqueAddress self) =>
        Akka.Actor.Props.Create(() => new TorrentShardEntity(ParseEntityId(entityId), session, replicator, self));

    private static InfoHash ParseEntityId(string entityId) => InfoHash.TryParseHex(entityId, out var hash)
        ? hash
        : throw new ArgumentException($"a torrent entity id is an info-hash in hex, not '{entityId}'", nameof(entityId));

    protected override void PreStart() => _replicator.Tell(Dsl.Get(_key, new ReadMajority(ReadTimeout)));

    /// <summary>Until the spec is read, commands wait: a restarted entity must add its torrent before anything
    /// else reaches the session.</summary>
    private void Loading()
    {
        Receive<GetSuccess>(g =>
        {
            var spec = g.Get(_key).Value;
            if (spec is { Removed: false })
            {
                _spec = spec;
                _log.Info("Torrent {InfoHash} starts on this node", _infoHash);
                AddToSession(spec, Self);
                BecomeStashed(Hosting);
            }
            else
            {
                _removed = spec is { Removed: true };
                BecomeStashed(Empty);
            }
        });
        Receive<NotFound>(_ => BecomeStashed(Empty));
        Receive<GetFailure>(_ =>
        {
            if (_readLocal)
            {
                BecomeStashed(Empty);
                return;
            }
            // No majority reachable (a node just died): what this node's replica holds is the best there is.
            _readLocal = true;
            _replicator.Tell(Dsl.Get(_key, ReadLocal.Instance));
        });
        Receive<HandOff>(_ => Context.Stop(Self));
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>No torrent by this info-hash: a <see cref="Host"/> makes one; any other command is refused and the
    /// entity passivates (so remember-entities forgets it).</summary>
    private void Empty()
    {
        Receive<Host>(m => m.Restore && _removed, m =>
        {
            Sender.Tell(new TorrentSessionActor.CommandRefused($"torrent {m.InfoHash} was removed from the cluster"));
            Passivate();
        });
        Receive<Host>(m =>
        {
            _removed = false;
            _spec = m.Spec with { Removed = false };
            Write(_spec);
            AddToSession(_spec, Sender);
            Become(Hosting);
        });
        Receive<HandOff>(_ => Context.Stop(Self));
        Receive<ITorrentCommand>(m =>
        {
            Sender.Tell(new TorrentSessionActor.CommandRefused($"no torrent with info-hash {m.InfoHash}"));
            Passivate();
        });
        Receive<IUpdateResponse>(_ => { });
    }

    private void Hosting()
    {
        // Again (a node re-adding its stored copy, a duplicate add): the session answers duplicate.
        Receive<Host>(_ => AddToSession(_spec!, Sender));
        Receive<TorrentSessionActor.RemoveTorrent>(m =>
        {
            Write(_spec! with { Metainfo = null, Magnet = null, Removed = true });
            _session.Tell(m, Sender);
            Passivate();
            Become(Removing);
        });
        Receive<TorrentSessionActor.StartTorrent>(m =>
        {
            SetPaused(false);
            _session.Tell(m, Sender);
        });
        Receive<TorrentSessionActor.StopTorrent>(m =>
        {
            SetPaused(true);
            _session.Tell(m, Sender);
        });
        Receive<HandOff>(_ =>
        {
            _log.Info("Torrent {InfoHash} hands off: parking it on this node", _infoHash);
            _session.Tell(new TorrentSessionActor.ParkTorrent(_infoHash), Self);
            Timers.StartSingleTimer("park", ParkOverdue.Instance, ParkBudget);
            Become(Parking);
        });
        Receive<ITorrentCommand>(m => _session.Tell(m, Sender));
        Receive<TorrentSessionActor.CommandRefused>(m => _log.Warning("Torrent {InfoHash}: {Reason}", _infoHash, m.Reason));
        // The session's answer to an add this entity made itself, and the replicator's to a write.
        ReceiveAny(_ => { });
    }

    private void Removing()
    {
        Receive<HandOff>(_ => Context.Stop(Self));
        ReceiveAny(_ => { });
    }

    private void Parking()
    {
        Receive<TorrentSessionActor.CommandDone>(_ => Context.Stop(Self));
        Receive<ParkOverdue>(_ =>
        {
            _log.Warning("Torrent {InfoHash} did not park within {Budget}; the entity stops anyway", _infoHash, ParkBudget);
            Context.Stop(Self);
        });
        ReceiveAny(_ => { });
    }

    private void BecomeStashed(Action behaviour)
    {
        Become(behaviour);
        Stash.UnstashAll();
    }

    private void AddToSession(TorrentSpec spec, IActorRef replyTo)
    {
        var options = new AddTorrentOptions(Paused: spec.Paused);
        object add = spec.Metainfo is { } bytes
            ? new TorrentSessionActor.AddTorrent(bytes, options)
            : new TorrentSessionActor.AddMagnet(spec.Magnet ?? "", options);
        _session.Tell(add, replyTo);
    }

    private void SetPaused(bool paused)
    {
        if (_spec is { } spec && spec.Paused != paused)
        {
            _spec = spec with { Paused = paused };
            Write(_spec);
        }
    }

    /// <summary>Written to a majority (the reply is not awaited: the local replica has it at once and gossip
    /// carries it to the rest).</summary>
    private void Write(TorrentSpec spec) => _replicator.Tell(Dsl.Update(_key, new LWWRegister<TorrentSpec>(_self, spec),
        new WriteMajority(WriteTimeout), register => register.WithValue(_self, spec)));

    private void Passivate() => Context.Parent.Tell(new Passivate(HandOff.Instance));
}
