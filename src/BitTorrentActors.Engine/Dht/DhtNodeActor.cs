using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Protocol.Dht;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Dht;

/// <summary>What a lookup was for.</summary>
public enum DhtLookupKind
{
    /// <summary>find_node on our own id from the bootstrap nodes (or the saved table).</summary>
    Bootstrap,
    /// <summary>find_node on a random id inside a bucket not changed for 15 minutes.</summary>
    Refresh,
    /// <summary>get_peers for an info-hash, peers reported as they arrive.</summary>
    GetPeers,
    /// <summary>get_peers, then announce_peer to the closest nodes that gave a token.</summary>
    Announce,
}

/// <summary>Times and bounds of the node; the defaults are BEP 5's and libtorrent's.</summary>
/// <param name="Id">Our node id; null: the saved table's, else a random one.</param>
/// <param name="StatePath">Where the routing table is saved (on <see cref="DhtNodeActor.SaveTable"/>, every
/// <see cref="SaveInterval"/> and on stop) and loaded from at start; null: not saved.</param>
/// <param name="QueriesPerSecond">Queries answered per second per source address (burst <see cref="QueryBurst"/>).</param>
/// <param name="MaxLookups">Lookups running at once; more are refused with a warning.</param>
/// <param name="MaxPendingQueries">Our queries awaiting an answer at once (each holds a transaction id).</param>
/// <param name="Clock">The monotonic clock (tests); null: a stopwatch started with the actor.</param>
public sealed record DhtNodeOptions(
    NodeId? Id = null,
    string? StatePath = null,
    TimeSpan? QueryTimeout = null,
    TimeSpan? TickInterval = null,
    TimeSpan? AnnounceInterval = null,
    TimeSpan? SaveInterval = null,
    double QueriesPerSecond = 5,
    int QueryBurst = 50,
    int MaxLookups = 32,
    int MaxPendingQueries = 512,
    Func<TimeSpan>? Clock = null,
    int? Seed = null)
{
    public TimeSpan Timeout => QueryTimeout ?? TimeSpan.FromSeconds(10);

    public TimeSpan Tick => TickInterval ?? TimeSpan.FromMilliseconds(500);

    /// <summary>libtorrent's <c>dht_announce_interval</c>: 15 minutes.</summary>
    public TimeSpan Reannounce => AnnounceInterval ?? TimeSpan.FromMinutes(15);

    public TimeSpan Save => SaveInterval ?? TimeSpan.FromMinutes(5);
}

/// <summary>
/// One Mainline DHT node (BEP 5), a full node: it owns the routing table, the write tokens, the per-address query
/// limiter and the store of peers announced to it, answers every query through <see cref="DhtResponder"/>, runs
/// iterative lookups (<see cref="LookupState"/>, alpha 3) for bootstrap, bucket refresh, get_peers and
/// announce_peer, and tells its subscriber the peers it finds. All network I/O goes through an
/// <see cref="IDhtTransport"/>; every wait is a transaction id with a deadline checked on the tick timer.
/// </summary>
public sealed class DhtNodeActor : ReceiveActor, IWithTimers
{
    /// <summary>From the transport: one datagram as received.</summary>
    public sealed record DatagramReceived(byte[] Data, IPEndPoint From) : INoSerializationVerificationNeeded;

    /// <summary>Join the DHT through these nodes (ids unknown): find_node on our own id. They are remembered
    /// and used again whenever the table runs empty.</summary>
    public sealed record Bootstrap(IReadOnlyList<IPEndPoint> Nodes);

    /// <summary>One get_peers lookup for the info-hash; peers go to the subscriber as <see cref="PeersFound"/>.</summary>
    public sealed record GetPeers(InfoHash InfoHash);

    /// <summary>Announce us as a peer of the info-hash on <paramref name="Port"/> (0: the transport's port), or
    /// on the query's source port with <paramref name="ImpliedPort"/>, now and every announce interval until
    /// <see cref="StopAnnouncing"/>. Peers found on the way go to the subscriber.</summary>
    public sealed record Announce(InfoHash InfoHash, int Port = 0, bool ImpliedPort = false);

    public sealed record StopAnnouncing(InfoHash InfoHash);

    /// <summary>A node heard of outside the DHT (a peer's PORT message, BEP 5): pinged, and put in the table if
    /// it answers (as libtorrent's add_dht_node does).</summary>
    public sealed record PingNode(IPEndPoint Node);

    /// <summary>Replied with <see cref="DhtStatus"/>.</summary>
    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <summary>The node for <c>bta dht</c> and tests: its id, table and counters.</summary>
    public sealed record DhtStatus(
        NodeId Id,
        int Nodes,
        int GoodNodes,
        int Buckets,
        int Replacements,
        int Lookups,
        int PendingQueries,
        int StoredPeers,
        long QueriesAnswered,
        long QueriesThrottled,
        long AnnouncesAccepted,
        IReadOnlyList<RoutingNode> Table)
    {
        /// <summary>Datagrams the transport refused to send (the session's loopback-only guard, or closed).</summary>
        public long SendsRefused { get; init; }

        /// <summary>Our external address as a majority of responders see it (BEP 42); null until agreed.</summary>
        public IPAddress? ExternalAddress { get; init; }

        /// <summary>Times our id was changed to one BEP 42 derives from <see cref="ExternalAddress"/>.</summary>
        public int IdChanges { get; init; }
    }

    /// <summary>Writes the table to the state path now; replied with <see cref="TableSaved"/>.</summary>
    public sealed record SaveTable
    {
        public static readonly SaveTable Instance = new();
    }

    public sealed record TableSaved(string? Path, int Nodes, string? Error);

    /// <summary>To the subscriber: peers of the info-hash that a lookup had not reported yet.</summary>
    public sealed record PeersFound(InfoHash InfoHash, IPEndPoint[] Peers);

    /// <summary>To the subscriber: a lookup ended; <paramref name="AnnouncedTo"/> counts announce_peer queries sent.</summary>
    public sealed record LookupFinished(DhtLookupKind Kind, NodeId Target, int Responded, int AnnouncedTo);

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private const string TickTimer = "tick";
    private const int MaxBootstrapNodes = 32;
    private const int MaxPendingPings = 64;

    /// <summary>BEP 20 style client version: "BA" (bta) and 0.1.</summary>
    private static readonly byte[] Version = [(byte)'B', (byte)'A', 0, 1];

    private readonly IDhtTransport _transport;
    private readonly IActorRef _subscriber;
    private readonly DhtNodeOptions _options;
    private readonly LookupOptions _lookupOptions;
    private readonly Func<TimeSpan> _clock;
    private readonly Random _random;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ExternalAddressVoter _voter = new();
    private RoutingTable _table;
    private readonly TokenSecrets _tokens;
    private readonly PeerStore _peers = new();
    private readonly QueryRateLimiter _limiter;
    private DhtResponder _responder;
    private readonly Dictionary<ushort, PendingQuery> _pending = [];
    private readonly Dictionary<int, Lookup> _lookups = [];
    private readonly Dictionary<InfoHash, Announcement> _announcements = [];
    private readonly List<Action> _afterBootstrap = [];
    private readonly List<IPEndPoint> _bootstrapNodes = [];
    private ushort _nextTransaction;
    private int _nextLookup;
    private TimeSpan _lastBootstrap = TimeSpan.MinValue;
    private TimeSpan _lastSave;
    private long _answered;
    private long _announcesAccepted;
    private long _sendsRefused;
    private int _idChanges;

    public DhtNodeActor(IDhtTransport transport, IActorRef subscriber, DhtNodeOptions? options = null)
    {
        _transport = transport;
        _subscriber = subscriber;
        _options = options ?? new DhtNodeOptions();
        _lookupOptions = new LookupOptions(QueryTimeout: _options.Timeout);
        var stopwatch = Stopwatch.StartNew();
        _clock = _options.Clock ?? (() => stopwatch.Elapsed);
        _random = _options.Seed is { } seed ? new Random(seed) : new Random();
        var now = _clock();
        var saved = Load();
        Id = _options.Id ?? saved?.OwnId ?? NodeId.Random(_random);
        _table = new RoutingTable(Id, now);
        if (saved is not null)
        {
            var restored = RoutingTableFile.Restore(_table, saved, now);
            _log.Info("DHT table loaded from {Path}: {Nodes} nodes", _options.StatePath, restored);
        }
        _tokens = new TokenSecrets(now);
        _limiter = new QueryRateLimiter(_options.QueriesPerSecond, _options.QueryBurst);
        _responder = new DhtResponder(Id, _table, _tokens, _peers, _random);
        _nextTransaction = (ushort)_random.Next(ushort.MaxValue + 1);
        _lastSave = now;

        Receive<DatagramReceived>(OnDatagram);
        Receive<Bootstrap>(OnBootstrap);
        Receive<GetPeers>(get => StartLookup(DhtLookupKind.GetPeers, NodeId.FromInfoHash(get.InfoHash), get.InfoHash));
        Receive<Announce>(OnAnnounce);
        Receive<StopAnnouncing>(stop => _announcements.Remove(stop.InfoHash));
        Receive<PingNode>(OnPingNode);
        Receive<GetStatus>(_ => Sender.Tell(Status()));
        Receive<SaveTable>(_ => SaveAsync().PipeTo(Sender));
        Receive<Tick>(_ => OnTick());
        // The periodic save's result comes back here; a failure was logged where it happened.
        Receive<TableSaved>(_ => { });
    }

    /// <summary>Ours; replaced once by a BEP 42 id when responders agree on an external address it does not fit.</summary>
    public NodeId Id { get; private set; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IDhtTransport transport, IActorRef subscriber, DhtNodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(subscriber);
        return Akka.Actor.Props.Create(() => new DhtNodeActor(transport, subscriber, options));
    }

    protected override void PreStart()
    {
        _transport.Start(Self);
        Timers.StartPeriodicTimer(TickTimer, Tick.Instance, _options.Tick);
        if (_table.Count > 0)
        {
            // A saved table is our bootstrap: ask its nodes for our own neighbourhood, which also re-confirms them.
            StartLookup(DhtLookupKind.Bootstrap, Id, null);
        }
    }

    protected override void PostStop()
    {
        if (_options.StatePath is { } path)
        {
            try
            {
                // The actor is stopping and cannot await: one small file (at most ~100 KB), written once.
                WriteAtomically(path, RoutingTableFile.Save(_table, _clock()));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Warning("DHT table not saved to {Path}: {Reason}", path, e.Message);
            }
        }
        _transport.Dispose();
    }

    private DhtStatus Status()
    {
        var now = _clock();
        return new DhtStatus(Id, _table.Count, _table.GoodCount(now), _table.BucketCount, _table.ReplacementCount,
            _lookups.Count, _pending.Count, _peers.PeerCount, _answered, _limiter.Refused, _announcesAccepted,
            _table.Nodes(now)) { SendsRefused = _sendsRefused, ExternalAddress = _voter.Agreed, IdChanges = _idChanges };
    }

    private void OnDatagram(DatagramReceived datagram)
    {
        var now = _clock();
        var from = CompactNodeInfo.Normalise(datagram.From);
        if (!KrpcCodec.TryDecode(datagram.Data, out var message, out var error))
        {
            if (DhtResponder.ErrorFor(error, from) is { } reply && _limiter.TryAcquire(from.Address, now))
            {
                Send(reply, from);
            }
            return;
        }
        switch (message)
        {
            case KrpcQuery query:
                if (!_limiter.TryAcquire(from.Address, now))
                {
                    return;
                }
                _answered++;
                Send(_responder.Answer(query, from, now), from);
                break;
            case KrpcResponse response:
                OnAnswer(response, from, now);
                break;
            case KrpcError krpcError:
                OnAnswer(krpcError, from, now);
                break;
        }
    }

    private void OnAnswer(KrpcMessage answer, IPEndPoint from, TimeSpan now)
    {
        // Only an answer to a query we sent, from the endpoint we sent it to, counts: anything else is forged or late.
        if (answer.TransactionId.Length != 2)
        {
            return;
        }
        var tid = (ushort)(answer.TransactionId.Span[0] << 8 | answer.TransactionId.Span[1]);
        if (!_pending.TryGetValue(tid, out var pending) || !pending.To.Equals(from))
        {
            return;
        }
        _pending.Remove(tid);
        if (answer.ExternalAddress is { } external)
        {
            // Only an answer to our own query votes: an unsolicited datagram could claim anything.
            OnExternalAddress(from.Address, external.Address, now);
        }
        var lookup = pending.LookupId is { } id ? _lookups.GetValueOrDefault(id) : null;
        if (answer is not KrpcResponse response)
        {
            // An error is an answer: the node is alive (the table keeps it), but it gave the lookup nothing.
            lookup?.State.OnFailure(from, now);
            if (lookup is not null)
            {
                Pump(lookup, now);
            }
            return;
        }
        if (_table.Responded(response.Sender, from, now).Ping is { } stale)
        {
            // BEP 5: a full bucket's stalest questionable node gets a ping; if it fails it makes room.
            SendQuery(stale.EndPoint, tid => new PingQuery(tid, Id), null, PendingKind.Ping, now);
        }
        if (pending.Kind == PendingKind.Announce)
        {
            _announcesAccepted++;
        }
        if (lookup is null)
        {
            return;
        }
        var nodes = CompactNodeInfo.IsIPv4(from) ? response.Nodes : response.Nodes6;
        if (lookup.State.OnResponse(from, response.Sender, nodes, response.Token, now) && lookup.InfoHash is { } hash
            && response.Values.Count > 0)
        {
            var fresh = response.Values.Where(p => lookup.Reported.Count < PeerStoreLimit && lookup.Reported.Add(p)).ToArray();
            if (fresh.Length > 0)
            {
                _subscriber.Tell(new PeersFound(hash, fresh));
            }
        }
        Pump(lookup, now);
    }

    /// <summary>
    /// BEP 42: once responders agree on our external address, our id must be one derived from it, or nodes that
    /// enforce BEP 42 (libtorrent's dht_enforce_node_id) keep us out of their tables. As libtorrent's
    /// node::update_node_id does: nothing when the id already fits, else a new compliant id and the table rebuilt
    /// around it (every node kept where it still fits). Lookups in flight finish as they are.
    /// </summary>
    private void OnExternalAddress(IPAddress voter, IPAddress external, TimeSpan now)
    {
        if (!_voter.Vote(voter, external) || _voter.Agreed is not { } agreed || NodeIdSecurity.Matches(Id, agreed))
        {
            return;
        }
        var old = Id;
        Id = NodeIdSecurity.Generate(agreed, _random);
        _table = _table.WithOwnId(Id, now);
        _responder = new DhtResponder(Id, _table, _tokens, _peers, _random);
        _idChanges++;
        _log.Info("DHT node id {Old} changed to {New}: it must derive from our external address {Address} (BEP 42); {Nodes} nodes kept",
            old, Id, agreed, _table.Count);
    }

    // Peers one lookup reports at most: a lookup asks at most 128 nodes, each sending at most 200 values.
    private const int PeerStoreLimit = 4096;

    private void OnBootstrap(Bootstrap bootstrap)
    {
        foreach (var node in bootstrap.Nodes.Select(CompactNodeInfo.Normalise))
        {
            if (!_bootstrapNodes.Contains(node) && _bootstrapNodes.Count < MaxBootstrapNodes)
            {
                _bootstrapNodes.Add(node);
            }
        }
        StartLookup(DhtLookupKind.Bootstrap, Id, null);
    }

    private void OnPingNode(PingNode ping)
    {
        var now = _clock();
        var node = CompactNodeInfo.Normalise(ping.Node);
        // A good node needs no ping, one already asked needs no second; and peers' PORT messages may hold only a
        // bounded share of the pending queries, whatever a swarm of peers sends.
        if (node.Port == 0 || _table.StatusOf(node, now) == NodeStatus.Good || _pending.Values.Any(p => p.To.Equals(node))
            || _pending.Values.Count(p => p.Kind == PendingKind.Ping) >= MaxPendingPings)
        {
            return;
        }
        SendQuery(node, tid => new PingQuery(tid, Id), null, PendingKind.Ping, now);
    }

    private void OnAnnounce(Announce announce)
    {
        var port = announce.Port == 0 ? _transport.LocalEndPoint.Port : announce.Port;
        if (port is < 1 or > ushort.MaxValue)
        {
            _log.Warning("DHT announce of {InfoHash} refused: port {Port} out of range", announce.InfoHash, port);
            return;
        }
        var running = _announcements.TryGetValue(announce.InfoHash, out var known) && known.Running;
        _announcements[announce.InfoHash] = new Announcement(port, announce.ImpliedPort) { Running = running };
        if (!running)
        {
            StartAnnounce(announce.InfoHash);
        }
    }

    private void StartAnnounce(InfoHash hash)
    {
        if (_announcements.TryGetValue(hash, out var announcement))
        {
            announcement.Running = true;
            StartLookup(DhtLookupKind.Announce, NodeId.FromInfoHash(hash), hash);
        }
    }

    private void StartLookup(DhtLookupKind kind, NodeId target, InfoHash? hash)
    {
        var now = _clock();
        if (kind != DhtLookupKind.Bootstrap && _lookups.Values.Any(l => l.Kind == DhtLookupKind.Bootstrap))
        {
            // Until the bootstrap lookup fills the table a lookup would start from nothing: it waits (bounded).
            if (_afterBootstrap.Count < _options.MaxLookups)
            {
                _afterBootstrap.Add(() => StartLookup(kind, target, hash));
            }
            else
            {
                _log.Warning("DHT lookup for {Target} refused: {Count} lookups wait for the bootstrap", target, _afterBootstrap.Count);
                Finished(kind, target, hash, 0, 0);
            }
            return;
        }
        if (_lookups.Count >= _options.MaxLookups)
        {
            _log.Warning("DHT lookup for {Target} refused: {Count} lookups running", target, _lookups.Count);
            Finished(kind, target, hash, 0, 0);
            return;
        }
        var seeds = _table.Closest(target, _lookupOptions.K * 2, now).ToList();
        if (seeds.Count < _lookupOptions.K)
        {
            // Bootstrap nodes' ids are unknown: a random placeholder, which their answer replaces.
            seeds.AddRange(_bootstrapNodes.Select(e => new DhtNode(NodeId.Random(_random), e)));
        }
        if (kind == DhtLookupKind.Bootstrap)
        {
            _lastBootstrap = now;
        }
        var lookup = new Lookup(++_nextLookup, kind, new LookupState(target, seeds, _lookupOptions, Id), hash);
        _lookups[lookup.Id] = lookup;
        Pump(lookup, now);
    }

    /// <summary>Sends what the lookup may send now; ends it when it is done.</summary>
    private void Pump(Lookup lookup, TimeSpan now)
    {
        bool failed;
        do
        {
            failed = false;
            foreach (var node in lookup.State.NextQueries(now))
            {
                var sent = SendQuery(node.EndPoint, tid => lookup.Kind is DhtLookupKind.GetPeers or DhtLookupKind.Announce
                    ? new GetPeersQuery(tid, Id, lookup.InfoHash!.Value)
                    : new FindNodeQuery(tid, Id, lookup.State.Target), lookup.Id, PendingKind.Lookup, now);
                if (!sent)
                {
                    lookup.State.OnFailure(node.EndPoint, now);
                    failed = true;
                }
            }
        }
        while (failed && !lookup.State.IsDone);
        if (lookup.State.IsDone && _lookups.Remove(lookup.Id))
        {
            Finish(lookup, now);
        }
    }

    private void Finish(Lookup lookup, TimeSpan now)
    {
        var closest = lookup.State.Closest();
        var announced = 0;
        if (lookup is { Kind: DhtLookupKind.Announce, InfoHash: { } hash } && _announcements.TryGetValue(hash, out var announcement))
        {
            foreach (var result in closest)
            {
                // A node that gave no token (or an empty one) takes no announce: it would only answer 203.
                if (result.Token is { Length: > 0 } token && SendQuery(result.Node.EndPoint,
                        tid => new AnnouncePeerQuery(tid, Id, hash, announcement.Port, announcement.ImpliedPort, token),
                        null, PendingKind.Announce, now))
                {
                    announced++;
                }
            }
            announcement.Running = false;
            announcement.NextAt = now + _options.Reannounce;
        }
        Finished(lookup.Kind, lookup.State.Target, lookup.InfoHash, closest.Count, announced);
        if (lookup.Kind == DhtLookupKind.Bootstrap && !_lookups.Values.Any(l => l.Kind == DhtLookupKind.Bootstrap))
        {
            var waiting = _afterBootstrap.ToList();
            _afterBootstrap.Clear();
            waiting.ForEach(start => start());
        }
    }

    private void Finished(DhtLookupKind kind, NodeId target, InfoHash? hash, int responded, int announced)
    {
        if (kind == DhtLookupKind.Announce && hash is { } h && _announcements.TryGetValue(h, out var announcement) && announcement.Running)
        {
            // Refused before it ran: try again on the next interval.
            announcement.Running = false;
            announcement.NextAt = _clock() + _options.Reannounce;
        }
        _subscriber.Tell(new LookupFinished(kind, target, responded, announced));
    }

    private bool SendQuery(IPEndPoint to, Func<ReadOnlyMemory<byte>, KrpcQuery> make, int? lookupId, PendingKind kind, TimeSpan now)
    {
        if (_pending.Count >= _options.MaxPendingQueries)
        {
            return false;
        }
        var tid = _nextTransaction;
        while (_pending.ContainsKey(tid))
        {
            tid++;
        }
        _nextTransaction = (ushort)(tid + 1);
        var query = make(new[] { (byte)(tid >> 8), (byte)tid });
        if (!Send(query, to))
        {
            return false;
        }
        _pending[tid] = new PendingQuery(CompactNodeInfo.Normalise(to), now, lookupId, kind);
        return true;
    }

    private bool Send(KrpcMessage message, IPEndPoint to)
    {
        var sent = _transport.Send(KrpcCodec.Encode(message with { ClientVersion = Version }), to);
        if (!sent)
        {
            _sendsRefused++;
            _log.Debug("DHT datagram to {EndPoint} not sent (refused by the address guard or the transport closed)", to);
        }
        return sent;
    }

    private void OnTick()
    {
        var now = _clock();
        var timedOut = _pending.Where(p => now - p.Value.SentAt >= _options.Timeout).ToList();
        foreach (var (tid, pending) in timedOut)
        {
            _pending.Remove(tid);
            _table.Failed(pending.To, now);
            if (pending.LookupId is { } id && _lookups.TryGetValue(id, out var lookup))
            {
                lookup.State.OnFailure(pending.To, now);
            }
        }
        foreach (var lookup in _lookups.Values.ToList())
        {
            Pump(lookup, now);
        }
        foreach (var target in _table.DueRefreshes(now, _random))
        {
            StartLookup(DhtLookupKind.Refresh, target, null);
        }
        if (_table.Count == 0 && _bootstrapNodes.Count > 0 && now - _lastBootstrap >= TimeSpan.FromMinutes(1)
            && !_lookups.Values.Any(l => l.Kind == DhtLookupKind.Bootstrap))
        {
            // Every node went bad (a network change): join again, at most once a minute.
            StartLookup(DhtLookupKind.Bootstrap, Id, null);
        }
        foreach (var (hash, announcement) in _announcements.ToList())
        {
            if (!announcement.Running && now >= announcement.NextAt)
            {
                StartAnnounce(hash);
            }
        }
        _peers.Expire(now);
        if (_options.StatePath is not null && now - _lastSave >= _options.Save)
        {
            _lastSave = now;
            SaveAsync().PipeTo(Self);
        }
    }

    private Task<TableSaved> SaveAsync()
    {
        if (_options.StatePath is not { } path)
        {
            return Task.FromResult(new TableSaved(null, 0, "no state path"));
        }
        var now = _clock();
        var bytes = RoutingTableFile.Save(_table, now);
        var nodes = _table.NodesToSave(now).Count;
        var log = _log;
        return Task.Run(async () =>
        {
            try
            {
                var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
                await File.WriteAllBytesAsync(temporary, bytes).ConfigureAwait(false);
                File.Move(temporary, path, overwrite: true);
                return new TableSaved(path, nodes, null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.Warning("DHT table not saved to {Path}: {Reason}", path, e.Message);
                return new TableSaved(path, 0, e.Message);
            }
        });
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }

    private SavedRoutingTable? Load()
    {
        if (_options.StatePath is not { } path || !File.Exists(path))
        {
            return null;
        }
        try
        {
            if (new FileInfo(path).Length > RoutingTableFile.MaxFileLength)
            {
                _log.Warning("DHT table {Path} ignored: larger than {Max} bytes", path, RoutingTableFile.MaxFileLength);
                return null;
            }
            // Once, at start, before the node answers anything: a file of at most ~100 KB.
            if (RoutingTableFile.TryLoad(File.ReadAllBytes(path), out var saved, out var error))
            {
                return saved;
            }
            _log.Warning("DHT table {Path} ignored: {Reason}", path, error);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning("DHT table {Path} not read: {Reason}", path, e.Message);
        }
        return null;
    }

    private enum PendingKind
    {
        Lookup,
        Ping,
        Announce,
    }

    private sealed record PendingQuery(IPEndPoint To, TimeSpan SentAt, int? LookupId, PendingKind Kind);

    private sealed class Lookup(int id, DhtLookupKind kind, LookupState state, InfoHash? infoHash)
    {
        public int Id { get; } = id;
        public DhtLookupKind Kind { get; } = kind;
        public LookupState State { get; } = state;
        public InfoHash? InfoHash { get; } = infoHash;
        public HashSet<IPEndPoint> Reported { get; } = [];
    }

    private sealed class Announcement(int port, bool impliedPort)
    {
        public int Port { get; } = port;
        public bool ImpliedPort { get; } = impliedPort;
        public bool Running { get; set; }
        public TimeSpan NextAt { get; set; }
    }
}
