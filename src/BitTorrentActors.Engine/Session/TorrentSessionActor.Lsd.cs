using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Lsd;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Session;

/// <summary>
/// The session's local service discovery (bta.lsd, BEP 14): one <see cref="LsdActor"/> on the multicast group
/// 239.192.152.143:6771, joined on the interface of bta.listen-address. Every public torrent running (a magnet
/// while its metadata is fetched, then the torrent downloading or seeding) is announced with our listen port, as
/// for the DHT; the peers heard go to the torrent's coordinator or fetcher as <see cref="PeerSource.Lsd"/>. A
/// private torrent (BEP 27) is never announced and takes no LSD peer. Under bta.session.loopback-only the socket
/// is opened only where <see cref="LsdGuard"/> allows (a namespace with nothing but loopback up).
/// </summary>
public sealed partial class TorrentSessionActor
{
    /// <summary>Replied with the actor's <see cref="LsdActor.LsdStatus"/>, or <see cref="LsdOff"/>.</summary>
    public sealed record GetLsdStatus
    {
        public static readonly GetLsdStatus Instance = new();
    }

    /// <summary>No LSD runs: <paramref name="Reason"/> says why (off by setting, the loopback guard, no socket, failed).</summary>
    public sealed record LsdOff(string Reason);

    private readonly HashSet<InfoHash> _lsdAnnounced = [];
    private IActorRef? _lsd;
    private string _lsdOff = "bta.lsd.enabled is off";

    private void ReceiveLsd()
    {
        Receive<LsdActor.PeersFound>(OnLsdPeers);
        Receive<GetLsdStatus>(_ =>
        {
            if (_lsd is null)
            {
                Sender.Tell(new LsdOff(_lsdOff));
            }
            else
            {
                _lsd.Forward(LsdActor.GetStatus.Instance);
            }
        });
    }

    /// <summary>Starts LSD once the listener has said its port (the port announced).</summary>
    private void StartLsd()
    {
        if (!_settings.Lsd.Enabled || _lsd is not null)
        {
            return;
        }
        var transport = _options.LsdTransport?.Invoke() ?? BindLsd();
        if (transport is null)
        {
            return;
        }
        _lsd = Context.ActorOf(LsdActor.Props(transport, Self, new LsdOptions(AnnounceInterval: _settings.Lsd.AnnounceInterval)), "lsd");
        Context.Watch(_lsd);
        _log.Debug("LSD on {Transport}", transport.Description);
    }

    private LsdUdpTransport? BindLsd()
    {
        if (LsdGuard.Refusal(_settings.Session.LoopbackOnly) is { } refusal)
        {
            // One debug line: it is what every test host (and any loopback-only run) gets, and the CLI shows info
            // lines on stderr; GetLsdStatus (LsdOff) carries the reason.
            _lsdOff = refusal;
            _log.Debug("{Reason}", refusal);
            return null;
        }
        if (_settings.ListenAddress.AddressFamily != AddressFamily.InterNetwork)
        {
            _lsdOff = $"LSD off: it runs on IPv4 and bta.listen-address is {_settings.ListenAddress}";
            _log.Info("{Reason}", _lsdOff);
            return null;
        }
        try
        {
            return new LsdUdpTransport(_settings.ListenAddress);
        }
        catch (SocketException e)
        {
            _lsdOff = $"LSD off: no multicast socket on UDP 6771 for {_settings.ListenAddress} ({e.Message})";
            _log.Warning("{Reason}", _lsdOff);
            return null;
        }
    }

    /// <summary>Called when the entry's coordinator or fetcher starts: announce it unless it is private.</summary>
    private void LsdAnnounce(TorrentEntry entry)
    {
        if (_lsd is null || entry.CheckOnly)
        {
            return;
        }
        if (entry.Metainfo is { IsPrivate: true })
        {
            // BEP 27: a private torrent's peers come from its trackers only.
            LsdStopAnnouncing(entry.InfoHash);
            return;
        }
        _lsdAnnounced.Add(entry.InfoHash);
        _lsd.Tell(new LsdActor.Announce(entry.InfoHash, _boundPort ?? _settings.ListenPort));
    }

    /// <summary>Called when the entry's coordinator or fetcher has ended (stopped, removed, failed, finished).</summary>
    private void LsdStopAnnouncing(InfoHash infoHash)
    {
        if (_lsdAnnounced.Remove(infoHash))
        {
            _lsd?.Tell(new LsdActor.StopAnnouncing(infoHash));
        }
    }

    private void OnLsdPeers(LsdActor.PeersFound found)
    {
        if (_lsdAnnounced.Contains(found.InfoHash) && _torrents.TryGetValue(found.InfoHash, out var entry)
            && entry is { Coordinator: { } coordinator, Stopping: false } && entry.Metainfo is not { IsPrivate: true })
        {
            coordinator.Tell(new TorrentCoordinator.PeersDiscovered(found.InfoHash, found.Peers, PeerSource.Lsd));
        }
    }

    /// <summary>True when <paramref name="actor"/> was the LSD actor: it failed (stopped, not restarted: its socket
    /// went with it), and the session goes on without LSD.</summary>
    private bool OnLsdTerminated(IActorRef actor)
    {
        if (_lsd is null || !actor.Equals(_lsd))
        {
            return false;
        }
        _lsd = null;
        _lsdAnnounced.Clear();
        _lsdOff = "LSD failed (see the log)";
        if (!_shuttingDown)
        {
            _log.Error("LSD stopped; the session continues without it");
        }
        return true;
    }
}
