using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Protocol.Lsd;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Lsd;

/// <summary>Times and bounds of local service discovery; the defaults are libtorrent's.</summary>
/// <param name="AnnounceInterval">How often each torrent is announced again (<c>local_service_announce_interval</c>, 5 min).</param>
/// <param name="MinInterval">No torrent is announced more often than this, whatever asks (BEP 14: once a minute);
/// also how long one peer's announce of one torrent is not reported again.</param>
/// <param name="MaxHeard">(peer, torrent) pairs remembered for <see cref="MinInterval"/>; past that, announces
/// heard are dropped until entries expire, so a flood costs bounded memory and reaches no coordinator.</param>
/// <param name="MaxTorrents">Torrents announced at once (more are refused with a warning).</param>
/// <param name="Cookie">Ours (8 hex digits as libtorrent's); null: a random one.</param>
/// <param name="Clock">The monotonic clock (tests); null: a stopwatch started with the actor.</param>
public sealed record LsdOptions(
    TimeSpan? AnnounceInterval = null,
    TimeSpan? MinInterval = null,
    TimeSpan? TickInterval = null,
    int MaxHeard = 1024,
    int MaxTorrents = 10_000,
    string? Cookie = null,
    Func<TimeSpan>? Clock = null)
{
    public TimeSpan Reannounce => AnnounceInterval ?? TimeSpan.FromMinutes(5);

    public TimeSpan Minimum => MinInterval ?? TimeSpan.FromMinutes(1);

    public TimeSpan Tick => TickInterval ?? TimeSpan.FromSeconds(1);
}

/// <summary>
/// BEP 14 local service discovery for the session: announces every torrent it is told of to the multicast group
/// (all due torrents with the same port packed into as few datagrams as <see cref="LsdMessage.MaxFormattedLength"/>
/// allows, each torrent at most once per <see cref="LsdOptions.MinInterval"/>, again every
/// <see cref="LsdOptions.AnnounceInterval"/>), and tells its subscriber the peers heard announcing one of those
/// torrents (address: the datagram's source; port: its Port header). LSD has no replies, so nothing else is
/// sent. Our own announces come back (multicast loopback) and are dropped by cookie; torrents we do not run are
/// ignored; which torrents may be announced (never a private one, BEP 27) is the session's decision.
/// </summary>
public sealed class LsdActor : ReceiveActor, IWithTimers
{
    /// <summary>From the transport: one datagram as received.</summary>
    public sealed record DatagramReceived(byte[] Data, IPEndPoint From) : INoSerializationVerificationNeeded;

    /// <summary>Announce the torrent with our listen <paramref name="Port"/> now (or as soon as the minimum
    /// interval allows) and every announce interval, until <see cref="StopAnnouncing"/>; peers heard for it go to
    /// the subscriber.</summary>
    public sealed record Announce(InfoHash InfoHash, int Port);

    public sealed record StopAnnouncing(InfoHash InfoHash);

    /// <summary>To the subscriber: peers heard announcing the info-hash (not reported again for a minute).</summary>
    public sealed record PeersFound(InfoHash InfoHash, IPEndPoint[] Peers);

    /// <summary>Replied with <see cref="LsdStatus"/>.</summary>
    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <summary>The actor for tests and troubleshooting: what it announces and what it heard.</summary>
    /// <param name="OwnIgnored">Our own announces heard back (cookie matched).</param>
    /// <param name="Malformed">Datagrams that were not announces (one debug line each).</param>
    /// <param name="Unknown">Announces heard for torrents we do not run.</param>
    /// <param name="Dropped">Peers not reported because the heard table was full.</param>
    public sealed record LsdStatus(
        string Cookie,
        string Transport,
        int Torrents,
        int Heard,
        long DatagramsSent,
        long AnnouncesSent,
        long PeersReported,
        long OwnIgnored,
        long Malformed,
        long Unknown,
        long Dropped);

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed class Torrent(int port, TimeSpan due)
    {
        public int Port { get; set; } = port;

        public TimeSpan Due { get; set; } = due;
    }

    private const string TickTimer = "tick";

    private readonly ILsdTransport _transport;
    private readonly IActorRef _subscriber;
    private readonly LsdOptions _options;
    private readonly Func<TimeSpan> _clock;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _cookie;
    private readonly Dictionary<InfoHash, Torrent> _torrents = [];
    // When each torrent was last announced, kept past StopAnnouncing for the minimum interval: a magnet's fetcher
    // hands over to its coordinator (stop, then announce again) and must not make a second announce within it.
    private readonly Dictionary<InfoHash, TimeSpan> _lastSent = [];
    private readonly Dictionary<(IPEndPoint Peer, InfoHash InfoHash), TimeSpan> _heard = [];
    private long _datagramsSent;
    private long _announcesSent;
    private long _reported;
    private long _ownIgnored;
    private long _malformed;
    private long _unknown;
    private long _dropped;

    public LsdActor(ILsdTransport transport, IActorRef subscriber, LsdOptions? options = null)
    {
        _transport = transport;
        _subscriber = subscriber;
        _options = options ?? new LsdOptions();
        var stopwatch = Stopwatch.StartNew();
        _clock = _options.Clock ?? (() => stopwatch.Elapsed);
        _cookie = _options.Cookie
            ?? BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(sizeof(uint))).ToString("x", CultureInfo.InvariantCulture);

        Receive<DatagramReceived>(OnDatagram);
        Receive<Announce>(OnAnnounce);
        Receive<StopAnnouncing>(stop => _torrents.Remove(stop.InfoHash));
        Receive<Tick>(_ => OnTick());
        Receive<GetStatus>(_ => Sender.Tell(new LsdStatus(_cookie, _transport.Description, _torrents.Count, _heard.Count,
            _datagramsSent, _announcesSent, _reported, _ownIgnored, _malformed, _unknown, _dropped)));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(ILsdTransport transport, IActorRef subscriber, LsdOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(subscriber);
        return Akka.Actor.Props.Create(() => new LsdActor(transport, subscriber, options));
    }

    protected override void PreStart()
    {
        _transport.Start(Self);
        Timers.StartPeriodicTimer(TickTimer, Tick.Instance, _options.Tick);
    }

    protected override void PostStop() => _transport.Dispose();

    private void OnAnnounce(Announce announce)
    {
        if (announce.Port is < 1 or > 65535)
        {
            _log.Warning("LSD: torrent {InfoHash} not announced: no listen port", announce.InfoHash);
            return;
        }
        if (_torrents.TryGetValue(announce.InfoHash, out var known))
        {
            known.Port = announce.Port;
            return;
        }
        if (_torrents.Count >= _options.MaxTorrents)
        {
            _log.Warning("LSD: torrent {InfoHash} not announced: {Max} already are", announce.InfoHash, _options.MaxTorrents);
            return;
        }
        var now = _clock();
        var due = _lastSent.TryGetValue(announce.InfoHash, out var last) ? Max(now, last + _options.Minimum) : now;
        _torrents[announce.InfoHash] = new Torrent(announce.Port, due);
        if (due <= now)
        {
            // At once rather than on the next tick: a torrent just started is the one most worth announcing
            // (libtorrent's prioritize_lsd); those started together still share the tick's datagram.
            Timers.StartSingleTimer("now", Tick.Instance, TimeSpan.FromMilliseconds(50));
        }
    }

    private void OnTick()
    {
        var now = _clock();
        foreach (var (infoHash, sent) in _lastSent.Where(p => now - p.Value >= _options.Minimum).ToList())
        {
            _lastSent.Remove(infoHash);
        }
        foreach (var (key, heard) in _heard.Where(p => now - p.Value >= _options.Minimum).ToList())
        {
            _heard.Remove(key);
        }
        var due = _torrents.Where(t => t.Value.Due <= now).ToList();
        foreach (var byPort in due.GroupBy(t => t.Value.Port))
        {
            foreach (var datagram in LsdMessage.FormatAll(byPort.Key, byPort.Select(t => t.Key), _cookie))
            {
                if (_transport.Send(datagram))
                {
                    _datagramsSent++;
                }
            }
        }
        foreach (var (infoHash, torrent) in due)
        {
            _announcesSent++;
            _lastSent[infoHash] = now;
            torrent.Due = now + Max(_options.Reannounce, _options.Minimum);
        }
    }

    private void OnDatagram(DatagramReceived datagram)
    {
        if (!LsdMessage.TryParse(datagram.Data, out var announce, out var error))
        {
            // Debug, not a warning: anyone on the network can send these, and a log line each would be theirs to fill.
            _malformed++;
            _log.Debug("LSD: datagram from {From} dropped: {Reason}", datagram.From, error);
            return;
        }
        if (string.Equals(announce.Cookie, _cookie, StringComparison.OrdinalIgnoreCase))
        {
            _ownIgnored++;
            return;
        }
        var address = datagram.From.Address.IsIPv4MappedToIPv6 ? datagram.From.Address.MapToIPv4() : datagram.From.Address;
        var peer = new IPEndPoint(address, announce.Port);
        var now = _clock();
        foreach (var infoHash in announce.InfoHashes)
        {
            if (!_torrents.ContainsKey(infoHash))
            {
                _unknown++;
                continue;
            }
            if (_heard.ContainsKey((peer, infoHash)))
            {
                // Told already within the minute (libtorrent resends each announce twice, 2 s and 4 s later).
                continue;
            }
            if (_heard.Count >= _options.MaxHeard)
            {
                _dropped++;
                continue;
            }
            _heard[(peer, infoHash)] = now;
            _reported++;
            _log.Debug("LSD: peer {Peer} announces {InfoHash}", peer, infoHash);
            _subscriber.Tell(new PeersFound(infoHash, [peer]));
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
