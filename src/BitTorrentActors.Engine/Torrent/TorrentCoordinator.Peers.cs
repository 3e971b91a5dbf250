using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Peers.Extensions;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Extensions;
using BitTorrentActors.Protocol.Trackers;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>Connections: dialling, accepting, de-duplicating by peer id, bans, and the counts the listener sums.</summary>
public sealed partial class TorrentCoordinator
{
    private const string PexTimerKey = "pex";

    private readonly PexAdvertiser<IActorRef> _pexAdvertiser = new();
    // What the peers' extension handshakes said, for the PEX we send: keyed like _peers, removed with them.
    private readonly Dictionary<IActorRef, PexPeerInfo> _pexPeers = [];
    private int _incomingSequence;

    private int PeerLimit => _peerLimit;

    /// <summary>A raised peer limit takes effect at once while peers are being dialled.</summary>
    private void ConnectMoreIfTransferring()
    {
        if (_state is TorrentState.Downloading or TorrentState.Seeding)
        {
            ConnectMore();
        }
    }


    private void OnPeersDiscovered(IReadOnlyList<IPEndPoint> peers, PeerSource source)
    {
        Remember(peers, source);
        ConnectMore();
    }

    /// <summary>Adds what the source may give (BEP 27, the address guard) to the roster, dialling nobody.</summary>
    private void Remember(IReadOnlyList<IPEndPoint> peers, PeerSource source)
    {
        if (_context.Metainfo.IsPrivate && source is PeerSource.Dht or PeerSource.Pex or PeerSource.Lsd)
        {
            // BEP 27: a private torrent's peers come from its trackers only.
            _log.Debug("Ignored {Count} {Source} peers: the torrent is private", peers.Count, source);
            return;
        }
        if (source == PeerSource.Tracker)
        {
            _lastTrackerPeers = peers.Count;
        }
        var allowed = peers.Where(p => _addressAllowed(p.Address)).ToList();
        if (allowed.Count < peers.Count)
        {
            _log.Warning("Refused {Count} {Source} peer addresses outside loopback (bta.session.loopback-only)",
                peers.Count - allowed.Count, source);
        }
        var added = _roster.Add(allowed);
        if (added > 0)
        {
            _log.Debug("{Added} new peers from {Source} ({Known} known)", added, source, _roster.Known);
        }
    }

    /// <summary>Dials known peers up to the limit, while downloading and while seeding (a leecher that never
    /// dials loopback peers, such as Transmission, only gets data this way); seeds are dropped after their
    /// bitfield and not dialled again (<see cref="PeerActor.BothSeeds"/>).</summary>
    private void ConnectMore()
    {
        var spawned = false;
        foreach (var endpoint in _roster.TakeCandidates(DateTime.UtcNow, PeerLimit - _peers.Count))
        {
            var spawn = new PeerSpawn(_context, endpoint, Self, _scheduler, _writer, NewSetup(null));
            var peer = Context.ActorOf(_parts.Peer(spawn), $"peer-{endpoint.Address}-{endpoint.Port}".Replace(':', '_'));
            _peers.Add(Context.Watch(peer), new PeerEntry(endpoint, incoming: false, Stopwatch.GetElapsedTime(0)));
            spawned = true;
        }
        if (spawned)
        {
            ReportConnections();
        }
    }

    private void OnIncomingPeer(ListenerActor.IncomingPeer message)
    {
        var staying = _peers.Values.Count(p => !p.Leaving);
        var refusal = _roster.IsRefused(message.Remote) ? "banned"
            : staying >= PeerLimit && !MakeRoomForNewcomer() ? $"{staying} peers, the limit is {PeerLimit}"
            : null;
        if (refusal is not null)
        {
            Refuse(message, refusal);
            return;
        }
        var spawn = new PeerSpawn(_context, message.Remote, Self, _scheduler, _writer, NewSetup(message.Transport));
        var peer = Context.ActorOf(_parts.Peer(spawn), $"peer-in-{++_incomingSequence}");
        _peers.Add(Context.Watch(peer), new PeerEntry(message.Remote, incoming: true, Stopwatch.GetElapsedTime(0)));
        ReportConnections();
    }

    /// <summary>At the limit, stops the connection that moved nothing for longest (at least half a rechoke
    /// interval, so a peer that just arrived keeps its chance) to let a newcomer in; false when every
    /// connection moves data or is too new.</summary>
    private bool MakeRoomForNewcomer()
    {
        var connected = _peers
            .Where(p => p.Value.Id is not null && !p.Value.Leaving)
            .Select(p => new TurnoverPeer<IActorRef>(p.Key, p.Value.Since, p.Value.Unchoked))
            .ToList();
        var minIdle = _context.Settings.Upload.RechokeInterval / 2;
        if (!Turnover.TryPickReplaceable(connected, minIdle, Stopwatch.GetElapsedTime(0), out var idle))
        {
            return false;
        }
        var entry = _peers[idle];
        entry.Leaving = true;
        _log.Debug("Closing {EndPoint}: nothing moved for at least {Interval}, its slot goes to a newcomer", entry.EndPoint, minIdle);
        Context.Stop(idle);
        return true;
    }

    /// <summary>Closes an incoming connection this torrent will not take, and tells the listener the count.</summary>
    private void Refuse(ListenerActor.IncomingPeer message, string reason)
    {
        _log.Debug("Refused incoming peer {EndPoint}: {Reason}", message.Remote, reason);
        if (message.Transport is IAsyncDisposable transport)
        {
            _ = transport.DisposeAsync().AsTask();
        }
        ReportConnections();
    }

    /// <summary>A copy of our pieces (the peer actor is built on another thread) and the torrent's limiters.</summary>
    private PeerSetup NewSetup(System.IO.Pipelines.IDuplexPipe? incoming) =>
        new(_verified.Clone(), _uploadLimit, _downloadLimit, incoming);

    private void OnPeerConnected(PeerActor.Connected message)
    {
        if (!_peers.TryGetValue(message.Peer, out var entry))
        {
            return;
        }
        if (_bannedIds.Contains(message.RemoteId))
        {
            _log.Debug("Closed {EndPoint}: peer id {PeerId} is banned", message.EndPoint, message.RemoteId);
            Context.Stop(message.Peer);
            return;
        }
        var duplicate = _peers.FirstOrDefault(p => !p.Key.Equals(message.Peer) && message.RemoteId.Equals(p.Value.Id));
        if (duplicate.Value is { } other)
        {
            // Both ends must close the same one of the two connections. libtorrent's rule: the side with the
            // greater peer id keeps the connection it dialled. Two connections of one direction: keep the older.
            var weKeepOurs = _context.LocalPeerId.Span.SequenceCompareTo(message.RemoteId.Span) > 0;
            var keepNew = entry.Incoming != other.Incoming && entry.Incoming != weKeepOurs;
            var drop = keepNew ? duplicate.Key : message.Peer;
            _log.Debug("Second connection to peer {PeerId} ({EndPoint}); closing one", message.RemoteId, message.EndPoint);
            Context.Stop(drop);
            if (!keepNew)
            {
                return;
            }
        }
        entry.Id = message.RemoteId;
        if (!entry.Incoming)
        {
            _roster.Connected(message.EndPoint);
        }
        _log.Debug("Connected to {EndPoint} ({Client}, {Direction})", message.EndPoint,
            message.RemoteId.ClientName ?? message.RemoteId.ToString(), entry.Incoming ? "incoming" : "outgoing");
    }

    private void OnPieceFailed(FileWriterActor.PieceFailed message)
    {
        _scheduler.Tell(new PieceSchedulerActor.PieceFailed(message.Piece));
        _log.Warning("Piece {Piece} failed its hash check ({Contributors} peers contributed)", message.Piece, message.Contributors.Count);
        // Blamed on a banned contributor alone: a peer banned with its blocks already in started pieces leaves them
        // for honest peers to finish, and those failures must not add up to a ban of the honest peers.
        if (message.Contributors.Any(_bannedPeers.Contains))
        {
            return;
        }
        foreach (var contributor in message.Contributors)
        {
            if (!_peers.TryGetValue(contributor, out var entry))
            {
                continue;
            }
            var endpoint = entry.EndPoint;
            var failures = _hashFailures[endpoint] = _hashFailures.GetValueOrDefault(endpoint) + 1;
            if (message.Contributors.Count == 1 || failures >= MaxHashFailuresPerPeer)
            {
                Ban(contributor, endpoint, $"sent data that failed the hash check of piece {message.Piece}");
                Context.Stop(contributor);
            }
        }
    }

    /// <summary>No reconnection this session: the address (or, on loopback, the endpoint) and the peer id.</summary>
    private void Ban(IActorRef? peer, IPEndPoint endpoint, string reason)
    {
        if (peer is not null)
        {
            _bannedPeers.Add(peer);
        }
        if (peer is not null && _peers.TryGetValue(peer, out var entry) && entry.Id is { } id)
        {
            _bannedIds.Add(id);
        }
        if (!_roster.IsBanned(endpoint))
        {
            _log.Warning("Banned peer {EndPoint}: {Reason}", endpoint, reason);
            _roster.Ban(endpoint, reason);
        }
    }

    /// <summary>BEP 11, sending side (not for a private torrent, BEP 27): every <see cref="BtaSettings.PexInterval"/>
    /// each connected peer that takes PEX gets what changed since it was last told.</summary>
    private void ReceivePeerExchange()
    {
        Receive<PeerActor.ExtensionsAgreed>(m =>
        {
            if (_peers.ContainsKey(m.Peer))
            {
                _pexPeers[m.Peer] = new PexPeerInfo(m.ListenPort, m.TakesPex, m.UploadOnly);
            }
        });
        Receive<PeerActor.PeerIsSeed>(m =>
        {
            if (_pexPeers.TryGetValue(m.Peer, out var pex))
            {
                pex.Seed = true;
            }
        });
        Receive<PexRound>(_ => OnPexRound());
        if (!_context.Metainfo.IsPrivate)
        {
            // Re-armed by each round, so it stops by itself once the torrent leaves the transferring phases.
            Timers.StartSingleTimer(PexTimerKey, PexRound.Instance, _context.Settings.PexInterval);
        }
    }

    private void OnPexRound()
    {
        Timers.StartSingleTimer(PexTimerKey, PexRound.Instance, _context.Settings.PexInterval);
        // Only listen addresses go out: a dialled peer's address, or an incoming peer's address with the port its
        // extension handshake gave (its connection's own port accepts nothing).
        var advertised = new Dictionary<IPEndPoint, PexFlags>();
        var listenAddress = new Dictionary<IActorRef, IPEndPoint>();
        foreach (var (peer, entry) in _peers)
        {
            if (entry.Id is null || entry.Leaving)
            {
                continue;
            }
            var pex = _pexPeers.GetValueOrDefault(peer);
            var address = !entry.Incoming ? entry.EndPoint
                : pex?.ListenPort is { } port ? new IPEndPoint(entry.EndPoint.Address, port)
                : null;
            if (address is null)
            {
                continue;
            }
            listenAddress[peer] = address;
            var flags = (entry.Incoming ? PexFlags.None : PexFlags.Reachable) | (pex is { Seed: true } ? PexFlags.Seed : PexFlags.None);
            advertised.TryAdd(address, flags);
        }
        var sent = 0;
        foreach (var (peer, pex) in _pexPeers)
        {
            if (!pex.TakesPex || !_peers.TryGetValue(peer, out var entry) || entry.Leaving || entry.Id is null)
            {
                continue;
            }
            if (_pexAdvertiser.Next(peer, listenAddress.GetValueOrDefault(peer), advertised) is { } message)
            {
                peer.Tell(new PeerActor.SendPex(message));
                sent++;
            }
        }
        if (sent > 0)
        {
            _log.Debug("PEX: {Advertised} peers advertised, {Sent} peers told what changed", advertised.Count, sent);
        }
    }

    private void OnTerminated(Terminated message)
    {
        _pexPeers.Remove(message.ActorRef);
        _pexAdvertiser.Forget(message.ActorRef);
        if (_peers.Remove(message.ActorRef, out var entry))
        {
            if (!entry.Incoming)
            {
                _roster.Disconnected(entry.EndPoint, DateTime.UtcNow);
            }
            _choker.Remove(message.ActorRef);
            ReportConnections();
            if (entry.Unchoked && entry.Interested)
            {
                FillFreeSlots();
            }
            if (_state == TorrentState.Completed && _peers.Count == 0 && !_completionReported)
            {
                Self.Tell(ReportCompletion.Instance);
            }
            if (_state == TorrentState.Stopping)
            {
                FinishStop();
            }
            return;
        }
        if (message.ActorRef.Equals(_tracker))
        {
            _tracker = null;
            if (_state == TorrentState.Stopping)
            {
                FinishStop();
            }
            return;
        }
        if (message.ActorRef.Equals(_writer) && _state == TorrentState.Stopping)
        {
            _writerStopped = true;
            FinishStop();
            return;
        }
        if (_state is not (TorrentState.Stopping or TorrentState.Failed))
        {
            Fail($"internal error: the torrent's {message.ActorRef.Path.Name} stopped unexpectedly");
        }
    }

    private void ReportConnections() =>
        _options.Listener?.Tell(new ListenerActor.ConnectionCount(_context.InfoHash, _peers.Count));

    private void StopAllPeers()
    {
        foreach (var peer in _peers.Keys)
        {
            Context.Stop(peer);
        }
    }

    private void AnnounceToTracker(AnnounceEvent announceEvent) => _tracker?.Tell(new TrackerActor.AnnounceNow(announceEvent));

    private sealed record PexRound
    {
        public static readonly PexRound Instance = new();
    }

    /// <summary>One connection as the PEX we send sees it: from its extension handshake and its pieces.</summary>
    private sealed class PexPeerInfo(int? listenPort, bool takesPex, bool seed)
    {
        public int? ListenPort { get; } = listenPort;

        public bool TakesPex { get; } = takesPex;

        public bool Seed { get; set; } = seed;
    }
}
