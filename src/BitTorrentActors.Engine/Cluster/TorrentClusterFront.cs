using System.Buffers.Binary;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Protocol.Magnet;
using BitTorrentActors.Protocol.Metainfo;
using ClusterExtension = Akka.Cluster.Cluster;
using ClusterEvent = Akka.Cluster.ClusterEvent;
using MemberStatus = Akka.Cluster.MemberStatus;

namespace BitTorrentActors.Engine.Cluster;

/// <summary>
/// What a cluster node's front-ends (the RPC) talk to in place of the session: it speaks the session's protocol,
/// so the RPC code is the same in both modes. Adds go to the torrent's shard entity with the .torrent bytes or
/// the magnet link (never parsed objects), per-torrent commands to the entity wherever it lives, lists are
/// gathered from every member's session (an Ask per member, bounded by <see cref="ListTimeout"/>: a member that
/// does not answer in time, or answers with a failure, is left out of that one list), and the rest (settings,
/// stats, subscriptions) is the local session's. Torrent ids are derived from the info-hash so that every node, and a torrent that moved,
/// shows the same id. It also logs which members' shard regions the coordinator knows ("Torrent hosts: ..."):
/// a member that is up but whose region has not registered yet is given no torrents, so an operator (and the
/// cluster test) waits for that line, not for "member up", before expecting new torrents to spread.
/// </summary>
public sealed class TorrentClusterFront : ReceiveActor, IWithTimers
{
    /// <summary>How often the coordinator is asked again while its registered regions are not the members up (a
    /// region registers within one of Akka's 2-second retry intervals after its node is up), and again when an
    /// answer is lost (the query goes on to the coordinator, which may be moving).</summary>
    private static readonly TimeSpan RegionPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long one member's session may take to list its torrents.</summary>
    public static readonly TimeSpan ListTimeout = TimeSpan.FromSeconds(3);

    /// <summary>How long an add may take to reach its entity and be answered (the entity may be starting).</summary>
    private static readonly TimeSpan AddTimeout = TimeSpan.FromSeconds(20);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _session;
    private readonly IActorRef _region;

    /// <summary>The hosts last logged; the line is written again only when the set changes.</summary>
    private IImmutableSet<Address> _hosts = ImmutableHashSet<Address>.Empty;

    /// <summary>The members up, from this actor's own membership events (the cluster's read view may not show a
    /// member yet when its MemberUp arrives, which once ended the polling one member short).</summary>
    private readonly HashSet<Address> _up = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public TorrentClusterFront(IActorRef session, IActorRef region)
    {
        _session = session;
        _region = region;
        Receive<TorrentSessionActor.AddTorrent>(OnAdd);
        Receive<TorrentSessionActor.AddMagnet>(OnAddMagnet);
        Receive<TorrentSessionActor.ParkedTorrents>(OnParked);
        Receive<TorrentSessionActor.ListTorrents>(m => Gather<TorrentSessionActor.TorrentList>(m,
            lists => new TorrentSessionActor.TorrentList(Merge(lists.Select(l => (l.Node, l.Reply.Torrents)), s => s))));
        Receive<TorrentSessionActor.GetTorrentDetails>(m => Gather<TorrentSessionActor.TorrentDetailsList>(m,
            lists => new TorrentSessionActor.TorrentDetailsList(Merge(lists.Select(l => (l.Node, l.Reply.Torrents)), d => d.Status,
                (d, status) => d with { Status = status }))));
        Receive<ITorrentCommand>(m => _region.Tell(m, Sender));
        Receive<ClusterEvent.MemberUp>(m =>
        {
            _log.Info("Cluster member up: {Node}", NodeName(m.Member.Address));
            _up.Add(m.Member.Address);
            PollRegions();
        });
        Receive<ClusterEvent.MemberRemoved>(m =>
        {
            _log.Info("Cluster member removed: {Node}", NodeName(m.Member.Address));
            _up.Remove(m.Member.Address);
            PollRegions();
        });
        Receive<CurrentRegions>(OnCurrentRegions);
        Receive<PollRegionsTick>(_ => PollRegions());
        // Answers to the re-adds of parked torrents (sent with Self as the sender).
        Receive<TorrentSessionActor.TorrentAdded>(_ => { });
        // A stored torrent removed from the cluster while this node was away stays parked here (never run or listed).
        Receive<TorrentSessionActor.CommandRefused>(m => _log.Warning("Not re-adding a stored torrent: {Reason}", m.Reason));
        ReceiveAny(m => _session.Forward(m));
    }

    /// <summary>The timer's message: ask the coordinator for the registered regions again.</summary>
    private sealed record PollRegionsTick
    {
        public static readonly PollRegionsTick Instance = new();
    }

    public static Props Props(IActorRef session, IActorRef region) =>
        Akka.Actor.Props.Create(() => new TorrentClusterFront(session, region));

    /// <summary>The torrents this node kept in its state folder go back through the region: each runs wherever its
    /// entity lives (here, resuming from this node's data, or on the node it moved to while this one was away).</summary>
    protected override void PreStart()
    {
        _session.Tell(TorrentSessionActor.ListParked.Instance, Self);
        // Membership in the node's log, one line per change (what an operator, and the tests, watch for).
        ClusterExtension.Get(Context.System).Subscribe(Self, ClusterEvent.InitialStateAsEvents,
            typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberRemoved));
    }

    protected override void PostStop() => ClusterExtension.Get(Context.System).Unsubscribe(Self);

    /// <summary>A node as lists name it (bta-node): its cluster host:port.</summary>
    public static string NodeName(Address address) => $"{address.Host}:{address.Port}";

    /// <summary>The id every node shows for a torrent: the info-hash's first 31 bits (never 0).</summary>
    public static int StableId(InfoHash infoHash)
    {
        Span<byte> bytes = stackalloc byte[InfoHash.Length];
        infoHash.CopyTo(bytes);
        var id = (int)(BinaryPrimitives.ReadUInt32BigEndian(bytes) & 0x7FFF_FFFF);
        return id == 0 ? 1 : id;
    }

    /// <summary>Asks the coordinator (through the region) for its registered regions, and asks again after
    /// <see cref="RegionPollInterval"/> unless an answer matching the members up cancels that.</summary>
    private void PollRegions()
    {
        _region.Tell(GetCurrentRegions.Instance);
        Timers.StartSingleTimer(nameof(PollRegionsTick), PollRegionsTick.Instance, RegionPollInterval);
    }

    /// <summary>The coordinator's registered regions (empty while this node's region has not found the
    /// coordinator): logged when they change; polling ends once they are exactly the members up.</summary>
    private void OnCurrentRegions(CurrentRegions current)
    {
        if (!current.Regions.SetEquals(_hosts))
        {
            _hosts = current.Regions;
            _log.Info("Torrent hosts: {Count} of {Up} members ({Nodes})", _hosts.Count, _up.Count,
                string.Join(", ", _hosts.Select(NodeName).Order(StringComparer.Ordinal)));
        }
        if (current.Regions.SetEquals(_up))
        {
            Timers.Cancel(nameof(PollRegionsTick));
        }
    }

    private void OnAdd(TorrentSessionActor.AddTorrent message)
    {
        var parsed = TorrentMetainfo.Parse(message.Metainfo);
        if (parsed.Metainfo is not { } metainfo)
        {
            Sender.Tell(new TorrentSessionActor.CommandRefused($"invalid or corrupt torrent file ({parsed.Error})"));
            return;
        }
        Host(new TorrentSpec(metainfo.InfoHash, message.Metainfo, null, message.Options.Paused));
    }

    private void OnAddMagnet(TorrentSessionActor.AddMagnet message)
    {
        var uri = message.Uri.Trim();
        if (!MagnetLink.TryParse(uri, out var link, out var error))
        {
            Sender.Tell(new TorrentSessionActor.CommandRefused($"invalid magnet link: {error}"));
            return;
        }
        Host(new TorrentSpec(link.InfoHash, null, uri, message.Options.Paused));
    }

    private void Host(TorrentSpec spec)
    {
        _region.Ask<object>(new TorrentShardEntity.Host(spec), AddTimeout).PipeTo(Sender,
            success: reply => reply is TorrentSessionActor.TorrentAdded added ? added with { Id = StableId(added.InfoHash) } : reply,
            failure: _ => new TorrentSessionActor.CommandRefused("the torrent's cluster node did not answer in time"));
    }

    private void OnParked(TorrentSessionActor.ParkedTorrents parked)
    {
        foreach (var torrent in parked.Torrents)
        {
            _region.Tell(new TorrentShardEntity.Host(new TorrentSpec(torrent.InfoHash, torrent.Metainfo, torrent.Magnet, torrent.Paused),
                Restore: true), Self);
        }
        if (parked.Torrents.Count > 0)
        {
            _log.Info("Re-added {Count} stored torrents through the cluster", parked.Torrents.Count);
        }
    }

    /// <summary>Asks every member's session (this node's directly) and replies with what <paramref name="merge"/>
    /// makes of the answers that came in time.</summary>
    private void Gather<TReply>(object query, Func<IReadOnlyList<(string Node, TReply Reply)>, object> merge)
    {
        var system = Context.System;
        var cluster = ClusterExtension.Get(system);
        var self = cluster.SelfAddress;
        var session = _session;
        var asks = cluster.State.Members
            .Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving or MemberStatus.Joining)
            .Select(m => m.Address)
            .Append(self)
            .Distinct()
            .Select(async address =>
            {
                var node = NodeName(address);
                try
                {
                    var reply = address.Equals(self)
                        ? await session.Ask<TReply>(query, ListTimeout).ConfigureAwait(false)
                        : await system.ActorSelection(new RootActorPath(address) / "user" / TorrentClusterHosting.SessionName)
                            .Ask<TReply>(query, ListTimeout).ConfigureAwait(false);
                    return (Ok: true, Node: node, Reply: reply);
                }
                catch (Exception)
                {
                    // No answer in time, an answer of another type, or a failure (Status.Failure surfaces as the
                    // remote exception, of any type): that member is left out of this one list.
                    return (Ok: false, Node: node, Reply: default(TReply)!);
                }
            })
            .ToList();
        Task.WhenAll(asks).PipeTo(Sender, success: answers =>
            merge([.. answers.Where(a => a.Ok).Select(a => (a.Node, a.Reply))]));
    }

    /// <summary>Every member's torrents, each named by its node, in id order. Not de-duplicated: a torrent running
    /// on two nodes (which the design rules out) would show twice rather than be hidden.</summary>
    private static TItem[] Merge<TItem>(IEnumerable<(string Node, IReadOnlyList<TItem> Items)> lists, Func<TItem, TorrentStatus> status,
        Func<TItem, TorrentStatus, TItem>? with = null) where TItem : class
    {
        var merged = new List<TItem>();
        foreach (var (node, items) in lists)
        {
            foreach (var item in items)
            {
                var named = status(item) with { Id = StableId(status(item).InfoHash), Node = node };
                merged.Add(with is null ? (TItem)(object)named : with(item, named));
            }
        }
        return [.. merged.OrderBy(i => status(i).Id)];
    }
}
