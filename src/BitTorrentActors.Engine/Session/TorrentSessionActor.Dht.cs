using System.Net;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Session;

/// <summary>
/// The session's DHT node (bta.dht): one <see cref="DhtNodeActor"/> on the session's UDP socket
/// (<see cref="Network.UdpService"/>, shared with the UDP tracker client, demultiplexed by the first byte) bound to
/// bta.listen-address and bta.dht.port (0: the listen port the peer listener bound), its table in the state folder. Every public torrent running (a magnet while
/// its metadata is fetched, then the torrent downloading or seeding) is announced with our listen port and
/// re-announced by the node on bta.dht.announce-interval; the peers found go to the torrent's coordinator or
/// fetcher as <see cref="PeerSource.Dht"/>. A private torrent (BEP 27) is never announced.
/// </summary>
public sealed partial class TorrentSessionActor
{
    /// <summary>Replied with the node's <see cref="DhtNodeActor.DhtStatus"/>, or <see cref="DhtOff"/>.</summary>
    public sealed record GetDhtStatus
    {
        public static readonly GetDhtStatus Instance = new();
    }

    /// <summary>No DHT node runs: <paramref name="Reason"/> says why (off by setting, socket refused, failed).</summary>
    public sealed record DhtOff(string Reason);

    /// <summary>The bootstrap nodes, their names resolved off the actor thread; failures one line each.</summary>
    private sealed record BootstrapResolved(IReadOnlyList<IPEndPoint> Nodes, IReadOnlyList<string> Failures);

    private readonly HashSet<InfoHash> _dhtAnnounced = [];
    private IActorRef? _dht;
    private int _dhtPort;
    private string _dhtOff = "bta.dht.enabled is off";

    private void ReceiveDht()
    {
        Receive<DhtNodeActor.PeersFound>(OnDhtPeers);
        Receive<DhtNodeActor.LookupFinished>(_ => { });
        Receive<BootstrapResolved>(OnBootstrapResolved);
        Receive<GetDhtStatus>(_ =>
        {
            if (_dht is null)
            {
                Sender.Tell(new DhtOff(_dhtOff));
            }
            else
            {
                _dht.Forward(DhtNodeActor.GetStatus.Instance);
            }
        });
    }

    /// <summary>Starts the node once the listener has said its port (the port we announce), on the session's
    /// UDP socket bound to bta.dht.port (0: that listen port), which the UDP tracker client shares.</summary>
    private void StartDht()
    {
        if (!_settings.Dht.Enabled || _dht is not null || _services is null)
        {
            return;
        }
        var port = _settings.Dht.Port != 0 ? _settings.Dht.Port : _boundPort ?? _settings.ListenPort;
        var local = BindUdp(port) ?? (port != 0 ? BindUdp(0) : null);
        if (local is null)
        {
            _dhtOff = $"no UDP socket on {_settings.ListenAddress}";
            return;
        }
        if (local.Port != port && port != 0)
        {
            _log.Warning("DHT on UDP port {Port}: port {Wanted} was taken", local.Port, port);
        }
        var options = new DhtNodeOptions(
            StatePath: _options.StateDirectory is { } folder ? Path.Combine(folder, _settings.Dht.StateFile) : null,
            AnnounceInterval: _settings.Dht.AnnounceInterval,
            QueriesPerSecond: _settings.Dht.MaxQueriesPerSecond,
            QueryBurst: _settings.Dht.QueryBurst);
        _dht = Context.ActorOf(DhtNodeActor.Props(new DhtUdpTransport(_services.Network), Self, options), "dht");
        _dhtPort = local.Port;
        Context.Watch(_dht);
        _log.Debug("DHT node on UDP {EndPoint}", local);
        ResolveBootstrap();
    }

    private IPEndPoint? BindUdp(int port)
    {
        var local = _services!.Network.TryBind(port, out var error);
        if (local is null)
        {
            _log.Warning("DHT socket not bound on UDP {Address}:{Port}: {Reason}", _settings.ListenAddress, port, error);
        }
        return local;
    }

    /// <summary>IP literals go to the node at once; names are resolved on the thread pool and come back as
    /// <see cref="BootstrapResolved"/> (<see cref="DhtBootstrap"/>: none is looked up under loopback-only).</summary>
    private void ResolveBootstrap()
    {
        var entries = _settings.Dht.BootstrapNodes;
        var loopbackOnly = _settings.Session.LoopbackOnly;
        if (DhtBootstrap.TryWithoutLookup(entries, loopbackOnly) is { } known)
        {
            OnBootstrapResolved(new BootstrapResolved(known.Nodes, known.Failures));
            return;
        }
        DhtBootstrap.ResolveAsync(entries, loopbackOnly, _settings.ListenAddress.AddressFamily)
            .PipeTo(Self, success: r => new BootstrapResolved(r.Nodes, r.Failures));
    }

    private void OnBootstrapResolved(BootstrapResolved resolved)
    {
        foreach (var failure in resolved.Failures)
        {
            _log.Warning("DHT bootstrap node skipped: {Reason}", failure);
        }
        if (resolved.Nodes.Count > 0)
        {
            _dht?.Tell(new DhtNodeActor.Bootstrap(resolved.Nodes));
        }
    }

    /// <summary>What the torrent's peers are told of our DHT (BEP 5: the handshake bit and PORT); none for a
    /// private torrent (BEP 27) or with no node running.</summary>
    private DhtWire? DhtWireFor(TorrentMetainfo metainfo) =>
        _dht is null || metainfo.IsPrivate ? null : new DhtWire(_dht, _dhtPort);

    /// <summary>Called when the entry's coordinator or fetcher starts: announce it unless it is private.</summary>
    private void DhtAnnounce(TorrentEntry entry)
    {
        if (_dht is null || entry.CheckOnly)
        {
            return;
        }
        if (entry.Metainfo is { IsPrivate: true })
        {
            // BEP 27: a private torrent's peers come from its trackers only.
            DhtStopAnnouncing(entry.InfoHash);
            return;
        }
        _dhtAnnounced.Add(entry.InfoHash);
        _dht.Tell(new DhtNodeActor.Announce(entry.InfoHash, _boundPort ?? _settings.ListenPort));
    }

    /// <summary>Called when the entry's coordinator or fetcher has ended (stopped, removed, failed, finished).</summary>
    private void DhtStopAnnouncing(InfoHash infoHash)
    {
        if (_dhtAnnounced.Remove(infoHash))
        {
            _dht?.Tell(new DhtNodeActor.StopAnnouncing(infoHash));
        }
    }

    private void OnDhtPeers(DhtNodeActor.PeersFound found)
    {
        if (_dhtAnnounced.Contains(found.InfoHash) && _torrents.TryGetValue(found.InfoHash, out var entry)
            && entry is { Coordinator: { } coordinator, Stopping: false } && entry.Metainfo is not { IsPrivate: true })
        {
            coordinator.Tell(new TorrentCoordinator.PeersDiscovered(found.InfoHash, found.Peers, PeerSource.Dht));
        }
    }

    /// <summary>True when <paramref name="actor"/> was the node: it failed (it is stopped, not restarted: its
    /// socket went with it), and the session goes on without a DHT.</summary>
    private bool OnDhtTerminated(IActorRef actor)
    {
        if (_dht is null || !actor.Equals(_dht))
        {
            return false;
        }
        _dht = null;
        _dhtAnnounced.Clear();
        _dhtOff = "the DHT node failed (see the log)";
        if (!_shuttingDown)
        {
            _log.Error("The DHT node stopped; the session continues without a DHT");
        }
        return true;
    }
}
