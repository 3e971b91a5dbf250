using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Engine.Metadata.MetadataPeerActor;

namespace BitTorrentActors.Engine.Metadata;

/// <summary>
/// The fetch: candidates from <c>x.pe</c>, the trackers and <see cref="TorrentCoordinator.PeersDiscovered"/> are
/// dialled up to the torrent's peer limit, one <see cref="MetadataPeerActor"/> each; a
/// <see cref="MetadataAssembler"/> says which piece each connection asks for next. Bounded in connections (the peer
/// limit), in remembered addresses (<see cref="MaxCandidates"/>), in memory (the assembler's one buffer, at most
/// 30 MiB, once a size is accepted) and in time (connect, handshake and request timeouts). Peers that connect to
/// us for the magnet (<see cref="MagnetContext.Listener"/>) are used as dialled ones, within the same limit.
/// </summary>
public sealed partial class MetadataFetcherActor : IWithTimers
{
    /// <summary>Addresses remembered at most (tried, waiting or given back): a flood of peers costs no more.</summary>
    internal const int MaxCandidates = 2000;

    /// <summary>A peer that closed without misbehaving is tried again after this, at most <see cref="MaxRedials"/> times.</summary>
    internal static readonly TimeSpan RedialDelay = TimeSpan.FromSeconds(15);

    internal const int MaxRedials = 3;

    private static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);
    private const string TickTimer = "tick";
    private const string ProgressTimer = "progress";

    private readonly MagnetContext _context;
    private readonly IActorRef _owner;
    private readonly ITrackerTransport? _transport;
    private readonly Func<IPEndPoint, CancellationToken, Task<IDuplexPipe>> _connect;
    private readonly Func<IPAddress, bool> _addressAllowed;
    // Our own listen address, as the coordinator's roster knows it: a peer's PEX (Transmission's does) lists us.
    private readonly Func<IPEndPoint, bool> _isSelf;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly MetadataAssembler _assembler;
    private readonly int _peerLimit;
    private readonly Dictionary<IPEndPoint, IActorRef> _peers = [];
    private readonly Dictionary<IActorRef, IPEndPoint> _endPoints = [];
    private readonly HashSet<IPEndPoint> _handshaken = [];
    // Accepted connections (keyed by the address they dialled from) and the listen address each one told us.
    private readonly Dictionary<IPEndPoint, IPEndPoint?> _incoming = [];
    private readonly HashSet<IPEndPoint> _known = [];
    private readonly Queue<IPEndPoint> _waiting = new();
    private readonly HashSet<IPEndPoint> _banned = [];
    private readonly Dictionary<IPEndPoint, (int Dials, TimeSpan RedialAt)> _redials = [];
    private FetchProgress? _lastProgress;
    private bool _done;

    public MetadataFetcherActor(MagnetContext context, IActorRef owner, ITrackerTransport? transport)
        : this(context, owner, transport, null)
    {
    }

    /// <param name="connect">Replaces the TCP dialer (tests cross in-memory pipes). Public because Akka creates
    /// actors by reflection; use Props.</param>
    public MetadataFetcherActor(MagnetContext context, IActorRef owner, ITrackerTransport? transport,
        Func<IPEndPoint, CancellationToken, Task<IDuplexPipe>>? connect)
    {
        _context = context;
        _owner = owner;
        _transport = transport;
        _connect = connect ?? SocketTransport.ConnectAsync;
        // Outside a session (tests, tools) the setting still holds: no dial beyond loopback when it says so.
        _addressAllowed = context.Services?.AddressFilter
            ?? (context.Settings.Session.LoopbackOnly ? IPAddress.IsLoopback : static _ => true);
        var local = PeerRoster.LocalAddresses();
        _isSelf = peer => peer.Port == context.ListenPort && local.Contains(peer.Address);
        _assembler = new MetadataAssembler(context.InfoHash);
        _peerLimit = Math.Min(context.Settings.MaxPeersPerTorrent, context.Settings.MaxConnections);

        Receive<StopFetching>(_ => Context.Stop(Self));
        Receive<TorrentCoordinator.PeersDiscovered>(m => m.InfoHash == _context.InfoHash, m => AddCandidates(m.Peers, m.Source.ToString()));
        Receive<TrackerActor.PeersFound>(m => AddCandidates(m.Peers, "tracker"));
        Receive<TrackerActor.TrackerStatus>(m => _log.Debug("Magnet {InfoHash}: tracker {Tracker} {Ok}: {Message}",
            _context.InfoHash, m.Tracker, m.Ok ? "ok" : "failed", m.Message));
        Receive<PeersLearned>(m => AddCandidates(m.Peers, "pex"));
        Receive<PeerConnected>(m => OnConnected(m.EndPoint));
        Receive<MetadataOffered>(m => OnOffer(m.EndPoint, m.MetadataSize));
        Receive<PieceArrived>(m => OnPiece(m));
        Receive<PieceRejected>(m => OnReject(m.EndPoint, m.Piece));
        Receive<PeerMisbehaved>(m => Ban(m.EndPoint, m.Reason));
        Receive<ListenerActor.IncomingPeer>(OnIncomingPeer);
        Receive<ListenAddressLearned>(m => OnListenAddress(m.EndPoint, m.ListenAddress));
        Receive<Terminated>(m => OnPeerGone(m.ActorRef));
        Receive<FetchTick>(_ => OnTick());
        Receive<ProgressTick>(_ => ReportProgress());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary><see cref="Props(MagnetContext, IActorRef, ITrackerTransport?)"/> with another dialer (tests).</summary>
    internal static Props Props(MagnetContext context, IActorRef owner, ITrackerTransport? transport,
        Func<IPEndPoint, CancellationToken, Task<IDuplexPipe>> connect) =>
        Akka.Actor.Props.Create(() => new MetadataFetcherActor(context, owner, transport, connect));

    protected override void PreStart()
    {
        var direct = new List<IPEndPoint>();
        foreach (var peer in _context.Link.Peers)
        {
            if (TryParseEndPoint(peer, out var endPoint))
            {
                direct.Add(endPoint);
            }
            else
            {
                _log.Warning("Magnet {InfoHash}: x.pe '{Peer}' is not an IP address and port, skipped", _context.InfoHash, peer);
            }
        }
        // Before any dial: a peer told of us may connect first. Unregistered when we stop (the listener watches us);
        // the coordinator's registration replaces ours at the hand-over.
        _context.Listener?.Tell(new ListenerActor.RegisterTorrent(_context.InfoHash, Self));
        AddCandidates(direct, "x.pe");
        if (_context.TrackerTiers.Count > 0)
        {
            // Its messages come to us as to a coordinator: PeersFound feeds the fetch.
            Context.ActorOf(TrackerActor.SupervisedProps(_context.ForTracker(), Self, _transport), "tracker");
        }
        Timers.StartPeriodicTimer(TickTimer, FetchTick.Instance, TickInterval);
        Timers.StartPeriodicTimer(ProgressTimer, ProgressTick.Instance, _context.Settings.ProgressInterval);
    }

    /// <summary>"1.2.3.4:5" or "[::1]:5" (x.pe); host names are not resolved here.</summary>
    internal static bool TryParseEndPoint(string text, out IPEndPoint endPoint)
    {
        endPoint = null!;
        if (!IPEndPoint.TryParse(text, out var parsed) || parsed.Port == 0)
        {
            return false;
        }
        // IPEndPoint.TryParse takes "1.2.3.4" without a port as port 0 (refused above) and a bare IPv6 address
        // as one whose last group is the port: demand the brackets for IPv6.
        if (parsed.AddressFamily == AddressFamily.InterNetworkV6 && !text.StartsWith('['))
        {
            return false;
        }
        endPoint = parsed.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(parsed.Address.MapToIPv4(), parsed.Port) : parsed;
        return true;
    }

    private void AddCandidates(IReadOnlyList<IPEndPoint> peers, string source)
    {
        var added = 0;
        var refused = 0;
        foreach (var raw in peers)
        {
            var peer = raw.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(raw.Address.MapToIPv4(), raw.Port) : raw;
            if (peer.Port == 0 || _banned.Contains(peer) || _known.Contains(peer) || _isSelf(peer))
            {
                continue;
            }
            if (!_addressAllowed(peer.Address))
            {
                refused++;
                continue;
            }
            if (_known.Count >= MaxCandidates)
            {
                break;
            }
            _known.Add(peer);
            _waiting.Enqueue(peer);
            added++;
        }
        if (refused > 0)
        {
            _log.Warning("Magnet {InfoHash}: refused {Count} {Source} peer addresses outside loopback (bta.session.loopback-only)",
                _context.InfoHash, refused, source);
        }
        if (added > 0)
        {
            _log.Debug("Magnet {InfoHash}: {Added} new peers from {Source}", _context.InfoHash, added, source);
            ConnectMore();
        }
    }

    private void ConnectMore()
    {
        while (!_done && _peers.Count < _peerLimit && _waiting.TryDequeue(out var peer))
        {
            if (_banned.Contains(peer) || _peers.ContainsKey(peer) || _incoming.ContainsValue(peer))
            {
                continue;
            }
            var child = Context.ActorOf(MetadataPeerActor.Props(peer, _context, Self, _connect));
            Context.Watch(child);
            _peers[peer] = child;
            _endPoints[child] = peer;
            ReportConnections();
        }
    }

    /// <summary>A peer connected to us for this magnet: fetch from it as from a dialled one, within the limit.</summary>
    private void OnIncomingPeer(ListenerActor.IncomingPeer message)
    {
        var remote = message.Remote.Address.IsIPv4MappedToIPv6
            ? new IPEndPoint(message.Remote.Address.MapToIPv4(), message.Remote.Port)
            : message.Remote;
        var refusal = _done ? "the metadata is fetched"
            : !_addressAllowed(remote.Address) ? "outside loopback (bta.session.loopback-only)"
            : _banned.Contains(remote) || _peers.ContainsKey(remote) ? "already known"
            : _peers.Count >= _peerLimit ? $"{_peers.Count} connections, the limit is {_peerLimit}"
            : null;
        if (refusal is not null)
        {
            _log.Debug("Magnet {InfoHash}: refused incoming peer {EndPoint}: {Reason}", _context.InfoHash, remote, refusal);
            if (message.Transport is IAsyncDisposable transport)
            {
                _ = transport.DisposeAsync().AsTask();
            }
            else
            {
                // A transport that is only pipes (tests) ends when both its sides are completed.
                message.Transport.Input.Complete();
                message.Transport.Output.Complete();
            }
            ReportConnections();
            return;
        }
        _log.Debug("Magnet {InfoHash}: incoming peer {EndPoint}", _context.InfoHash, remote);
        var child = Context.ActorOf(MetadataPeerActor.Incoming(remote, _context, Self, message.Transport));
        Context.Watch(child);
        _peers[remote] = child;
        _endPoints[child] = remote;
        _incoming[remote] = null;
        ReportConnections();
    }

    /// <summary>An incoming peer's listen address: handed to the coordinator with the others, and dialled again
    /// should the connection close before the metadata is here (never while it is open).</summary>
    private void OnListenAddress(IPEndPoint peer, IPEndPoint listen)
    {
        if (!_incoming.ContainsKey(peer) || _isSelf(listen) || !_addressAllowed(listen.Address))
        {
            return;
        }
        _incoming[peer] = listen;
        if (_known.Count < MaxCandidates)
        {
            _known.Add(listen);
        }
    }

    /// <summary>The listener holds the process-wide connection limit; it counts ours as a coordinator's.</summary>
    private void ReportConnections() => _context.Listener?.Tell(new ListenerActor.ConnectionCount(_context.InfoHash, _peers.Count));

    private void OnConnected(IPEndPoint peer)
    {
        if (_peers.ContainsKey(peer))
        {
            _handshaken.Add(peer);
        }
    }

    private void OnOffer(IPEndPoint peer, long? size)
    {
        if (!_peers.ContainsKey(peer))
        {
            return;
        }
        var outcome = _assembler.Offer(peer, size, Now());
        switch (outcome.Verdict)
        {
            case MetadataVerdict.CutOff:
                Ban(peer, outcome.Reason!);
                return;
            case MetadataVerdict.HeldOff:
                _log.Info("Magnet {InfoHash}: peer {EndPoint} held off: {Reason}", _context.InfoHash, peer, outcome.Reason);
                break;
        }
        FillAll();
    }

    private void OnPiece(PieceArrived m)
    {
        if (_done || !_peers.ContainsKey(m.EndPoint))
        {
            return;
        }
        var outcome = _assembler.Received(m.EndPoint, m.Piece, m.TotalSize, m.Data.Span, Now());
        switch (outcome.Verdict)
        {
            case MetadataVerdict.CutOff:
                Ban(m.EndPoint, outcome.Reason!);
                FillAll();
                return;
            case MetadataVerdict.Complete:
                Finish();
                return;
            case MetadataVerdict.HashFailed:
                _log.Warning("Magnet {InfoHash}: {Reason}", _context.InfoHash, outcome.Reason);
                FillAll();
                return;
            default:
                Fill(m.EndPoint);
                return;
        }
    }

    private void OnReject(IPEndPoint peer, int piece)
    {
        if (_done || !_peers.ContainsKey(peer))
        {
            return;
        }
        var outcome = _assembler.Rejected(peer, piece, Now());
        _log.Debug("Magnet {InfoHash}: peer {EndPoint} {Reason}", _context.InfoHash, peer, outcome.Reason);
        // The rejected piece may go to someone else now.
        FillAll();
    }

    private void OnTick()
    {
        if (_done)
        {
            return;
        }
        var now = Now();
        foreach (var peer in _assembler.ExpireRequests(now))
        {
            _log.Debug("Magnet {InfoHash}: peer {EndPoint} left a metadata request unanswered for {Timeout}",
                _context.InfoHash, peer, MetadataAssembler.RequestTimeout);
        }
        foreach (var (peer, redial) in _redials.Where(r => r.Value.RedialAt <= now && !_peers.ContainsKey(r.Key)).ToList())
        {
            _waiting.Enqueue(peer);
            _redials[peer] = (redial.Dials, TimeSpan.MaxValue);
        }
        // Hold-offs end and 3 s re-request windows pass with time, not with messages.
        FillAll();
        ConnectMore();
    }

    private void FillAll()
    {
        foreach (var peer in _peers.Keys.ToList())
        {
            Fill(peer);
        }
    }

    private void Fill(IPEndPoint peer)
    {
        if (_done || !_peers.TryGetValue(peer, out var child))
        {
            return;
        }
        var now = Now();
        while (_assembler.Next(peer, now) is { } piece)
        {
            child.Tell(new RequestPiece(piece));
        }
    }

    private void Ban(IPEndPoint peer, string reason)
    {
        _log.Warning("Magnet {InfoHash}: peer {EndPoint} cut off: {Reason}", _context.InfoHash, peer, reason);
        _banned.Add(peer);
        _assembler.PeerGone(peer);
        if (_peers.TryGetValue(peer, out var child))
        {
            Context.Stop(child);
        }
    }

    private void OnPeerGone(IActorRef child)
    {
        if (!_endPoints.Remove(child, out var peer))
        {
            return;
        }
        _peers.Remove(peer);
        _handshaken.Remove(peer);
        _assembler.PeerGone(peer);
        ReportConnections();
        // An incoming peer's own port is one no one can dial; its listen address (if it said) can be.
        var redial = _incoming.Remove(peer, out var listen) ? listen : peer;
        if (!_done && redial is not null && !_banned.Contains(peer) && !_banned.Contains(redial))
        {
            var dials = (_redials.TryGetValue(redial, out var known) ? known.Dials : 0) + 1;
            _redials[redial] = (dials, dials <= MaxRedials ? Now() + RedialDelay : TimeSpan.MaxValue);
        }
        FillAll();
        ConnectMore();
    }

    private void Finish()
    {
        _done = true;
        var info = _assembler.Metadata;
        var torrentFile = MetadataTorrent.Build(info.Span, _context.TrackerTiers);
        var parsed = TorrentMetainfo.Parse(torrentFile);
        ReportProgress();
        if (parsed.Metainfo is null || parsed.Metainfo.InfoHash != _context.InfoHash)
        {
            // It passed the hash, so every honest peer sends these same bytes: fetching again cannot help.
            var reason = $"the metadata matches the info-hash but is not a valid torrent: {parsed.Error ?? "another info-hash"}";
            _log.Error("Magnet {InfoHash}: {Reason}", _context.InfoHash, reason);
            _owner.Tell(new MetadataFailed(_context.InfoHash, reason));
        }
        else
        {
            _log.Info("Magnet {InfoHash}: metadata of {Size} bytes fetched from {Peers} peers", _context.InfoHash,
                info.Length, _handshaken.Count);
            // Incoming peers by their listen address (in _known once they said it), not the port they dialled from.
            IPEndPoint[] peers = [.. _peers.Keys.Where(p => !_incoming.ContainsKey(p)),
                .. _known.Where(p => !_peers.ContainsKey(p) && !_banned.Contains(p))];
            _owner.Tell(new MetadataFetched(_context.InfoHash, torrentFile, parsed.Metainfo, peers));
        }
        // Children (connections, tracker) stop with us.
        Context.Stop(Self);
    }

    private void ReportProgress()
    {
        var progress = new FetchProgress(_context.InfoHash, _handshaken.Count, _assembler.PeersOffering,
            _assembler.PiecesReceived, _assembler.PiecesTotal);
        if (progress != _lastProgress)
        {
            _lastProgress = progress;
            _owner.Tell(progress);
        }
    }

    private static TimeSpan Now() => Stopwatch.GetElapsedTime(0);

    private sealed record FetchTick
    {
        public static readonly FetchTick Instance = new();
    }

    private sealed record ProgressTick
    {
        public static readonly ProgressTick Instance = new();
    }
}
