using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Metadata;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Magnet;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Session;

/// <summary>
/// The engine's root: one per process (or per test), parent of one <see cref="TorrentCoordinator"/> per info-hash
/// and owner of what the torrents share: the peer listener, the UDP service and HTTP client
/// (<see cref="SessionServices"/>), the session-wide rate limits, the queue (max-active-downloads and
/// max-active-seeds; the rest wait in order) and, for the daemon, the torrent list in the state folder
/// (<see cref="SessionStoreActor"/>). Every per-torrent command carries its info-hash, so the routing below works
/// the same for a cluster shard region later. Pausing stops a torrent's coordinator; starting makes a new one,
/// which resumes from the torrent's resume data.
/// </summary>
public sealed partial class TorrentSessionActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    // ---- Commands (each answered with one of the replies below) ----

    /// <summary>Add a torrent from its .torrent bytes; reply <see cref="TorrentAdded"/> or <see cref="CommandRefused"/>.</summary>
    public sealed record AddTorrent(byte[] Metainfo, AddTorrentOptions Options);

    /// <summary>Add a torrent from a magnet URI (<c>magnet:?xt=urn:btih:...</c>): it fetches its metadata from
    /// peers first (<see cref="MetadataFetcherActor"/>), then downloads as any torrent. Reply
    /// <see cref="TorrentAdded"/> (a duplicate when the info-hash is here already) or <see cref="CommandRefused"/>.</summary>
    public sealed record AddMagnet(string Uri, AddTorrentOptions Options);

    /// <summary>Remove a torrent, optionally deleting its data; reply <see cref="CommandDone"/>.</summary>
    public sealed record RemoveTorrent(InfoHash InfoHash, bool DeleteData = false) : ITorrentCommand;

    /// <summary>Start (resume) a torrent; <paramref name="Now"/> skips the queue. Reply <see cref="CommandDone"/>.</summary>
    public sealed record StartTorrent(InfoHash InfoHash, bool Now = false) : ITorrentCommand;

    /// <summary>Stop (pause) a torrent: announce stopped, flush, save resume. Reply <see cref="CommandDone"/>.</summary>
    public sealed record StopTorrent(InfoHash InfoHash) : ITorrentCommand;

    /// <summary>Re-check every piece against the data on disk. Reply <see cref="CommandDone"/>.</summary>
    public sealed record VerifyTorrent(InfoHash InfoHash) : ITorrentCommand;

    /// <summary>Announce to the trackers now. Reply <see cref="CommandDone"/>.</summary>
    public sealed record ReannounceTorrent(InfoHash InfoHash) : ITorrentCommand;

    /// <summary>Change files wanted, priorities, limits or the seed ratio. Reply <see cref="CommandDone"/>.</summary>
    public sealed record SetTorrentOptions(InfoHash InfoHash, TorrentOptionsUpdate Update) : ITorrentCommand;

    /// <summary>Use another folder; with <paramref name="Move"/> the data is moved there first. Reply <see cref="CommandDone"/>.</summary>
    public sealed record SetTorrentLocation(InfoHash InfoHash, string Location, bool Move) : ITorrentCommand;

    /// <summary>Move a torrent in the queue (Transmission's queue-move-*), which decides what starts first when the
    /// queue is full. Reply <see cref="CommandDone"/>.</summary>
    public sealed record MoveInQueue(InfoHash InfoHash, QueueMove Move) : ITorrentCommand;

    public enum QueueMove
    {
        Top,
        Up,
        Down,
        Bottom,
    }

    /// <summary>Peers learned for a torrent (manual, and later DHT, PEX, LSD). No reply.</summary>
    public sealed record AddPeers(InfoHash InfoHash, IReadOnlyList<IPEndPoint> Peers, PeerSource Source) : ITorrentCommand;

    /// <summary>Cluster handoff (<see cref="SessionOptions.Sharded"/>): stop the torrent as a pause does (stopped
    /// announced, resume saved) but keep it parked in the state folder instead of listing it; reply
    /// <see cref="CommandDone"/> once its coordinator has stopped (at once for a torrent not here).</summary>
    public sealed record ParkTorrent(InfoHash InfoHash) : ITorrentCommand;

    /// <summary>Reply <see cref="ParkedTorrents"/>: the torrents restored from the state folder that no add has
    /// claimed yet (cluster mode re-adds them through the shard region).</summary>
    public sealed record ListParked
    {
        public static readonly ListParked Instance = new();
    }

    /// <summary>Reply <see cref="TorrentList"/>: every torrent, or those named, in id order.</summary>
    public sealed record ListTorrents(IReadOnlyList<InfoHash>? Only = null);

    /// <summary>Reply <see cref="TorrentDetailsList"/>: files, peers and trackers too.</summary>
    public sealed record GetTorrentDetails(IReadOnlyList<InfoHash>? Only = null);

    /// <summary>Reply <see cref="SessionSettingsSnapshot"/>.</summary>
    public sealed record GetSessionSettings
    {
        public static readonly GetSessionSettings Instance = new();
    }

    /// <summary>Reply <see cref="SessionSettingsSnapshot"/> (the settings after the change) or <see cref="CommandRefused"/>.</summary>
    public sealed record UpdateSessionSettings(SessionSettingsUpdate Update);

    /// <summary>Reply <see cref="SessionStats"/>.</summary>
    public sealed record GetSessionStats
    {
        public static readonly GetSessionStats Instance = new();
    }

    /// <summary>Send the subscriber every <see cref="ITorrentEvent"/> until it stops or unsubscribes. Reply <see cref="Subscribed"/>.</summary>
    public sealed record Subscribe(IActorRef Subscriber);

    public sealed record Unsubscribe(IActorRef Subscriber);

    /// <summary>Stop every torrent cleanly (stopped announced, resume saved) and save the list; reply
    /// <see cref="ShutdownComplete"/>. The session itself keeps running until its system stops.</summary>
    public sealed record Shutdown
    {
        public static readonly Shutdown Instance = new();
    }

    // ---- Replies ----

    public sealed record TorrentAdded(InfoHash InfoHash, int Id, string Name, bool Duplicate);

    public sealed record CommandDone(InfoHash InfoHash);

    /// <summary>The command was not carried out; <paramref name="Reason"/> says why in one line.</summary>
    public sealed record CommandRefused(string Reason);

    public sealed record TorrentList(IReadOnlyList<TorrentStatus> Torrents);

    /// <summary>One parked torrent: its .torrent bytes, or its magnet link while the metadata is missing.</summary>
    public sealed record ParkedTorrent(InfoHash InfoHash, byte[]? Metainfo, string? Magnet, bool Paused);

    public sealed record ParkedTorrents(IReadOnlyList<ParkedTorrent> Torrents);

    public sealed record TorrentDetailsList(IReadOnlyList<TorrentDetails> Torrents);

    public sealed record Subscribed
    {
        public static readonly Subscribed Instance = new();
    }

    public sealed record ShutdownComplete
    {
        public static readonly ShutdownComplete Instance = new();
    }

    // ---- Events to subscribers ----

    public interface ITorrentEvent
    {
        InfoHash InfoHash { get; }
    }

    public sealed record TorrentProgress(InfoHash InfoHash, TorrentCoordinator.Progress Progress) : ITorrentEvent;

    public sealed record TorrentChecked(InfoHash InfoHash, int VerifiedPieces, int PieceCount) : ITorrentEvent;

    public sealed record TorrentCompleted(InfoHash InfoHash, long TotalBytes, long Downloaded, TimeSpan Elapsed) : ITorrentEvent;

    public sealed record TorrentSeedRatioReached(InfoHash InfoHash, long Uploaded, double Ratio) : ITorrentEvent;

    public sealed record TorrentFailed(InfoHash InfoHash, string Reason) : ITorrentEvent;

    /// <summary>The torrent's coordinator has stopped; the totals are its run's.</summary>
    public sealed record TorrentStopped(InfoHash InfoHash, long Uploaded, long Downloaded) : ITorrentEvent;

    public sealed record TorrentRemoved(InfoHash InfoHash) : ITorrentEvent;

    /// <summary>A magnet's metadata fetch, as its fetcher reported it.</summary>
    public sealed record TorrentMetadataProgress(InfoHash InfoHash, int PeersConnected, int PeersOffering, int PiecesReceived, int PiecesTotal)
        : ITorrentEvent;

    /// <summary>A magnet's metadata arrived and was saved; the download starts next.</summary>
    public sealed record TorrentMetadataReceived(InfoHash InfoHash, string Name, long TotalSize, int PieceCount, int FileCount)
        : ITorrentEvent;

    private sealed record ListenerOverdue
    {
        public static readonly ListenerOverdue Instance = new();
    }

    private sealed record SaveTick
    {
        public static readonly SaveTick Instance = new();
    }

    private sealed record StopOverdue(InfoHash InfoHash, int Generation);

    private sealed record HandoverDone(InfoHash InfoHash);

    /// <summary>How long after its metadata fetcher has ended a magnet's coordinator starts: the fetcher's
    /// connections are closed by then, but a peer may not have handled the close yet. Transmission 3.00 refuses a
    /// second connection from an address it still holds one from, and the coordinator retries only seconds later:
    /// measured on loopback (MagnetDownloadTests), 0.2 s was not enough, 0.6 s was, and the download from a
    /// Transmission seeder ends 10 s sooner than with no wait; a second leaves room for a real network. Closing the
    /// fetcher's connections first and dialling at once cannot do much better: Transmission 3.00 keys its peers by
    /// address and purges closed ones in its 500 ms reconnect pulse (RECONNECT_PERIOD_MSEC, peer-mgr.c), so at most
    /// half a second of the ~10 s a 6 MiB download from it takes is to be won (run-to-run spread is 1 s). Handing
    /// the fetcher's live connections to the coordinator would need a PeerActor that starts past its handshake.</summary>
    private static readonly TimeSpan HandoverDelay = TimeSpan.FromSeconds(1);

    /// <summary>How long a coordinator may take to stop (it bounds its own stop by the tracker timeout).</summary>
    private static readonly TimeSpan StopBudget = TimeSpan.FromSeconds(30);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly BtaSettings _settings;
    private readonly SessionOptions _options;
    private readonly TorrentParts _parts;
    private readonly Func<MagnetContext, IActorRef, Props> _fetcher;
    private readonly Dictionary<InfoHash, TorrentEntry> _torrents = [];
    private readonly Dictionary<IActorRef, TorrentEntry> _byCoordinator = [];
    // Fetchers that handed their metadata over and are closing their connections: the torrent's coordinator
    // starts once one has ended (see OnMetadataFetched).
    private readonly Dictionary<IActorRef, TorrentEntry> _handingOver = [];
    private readonly HashSet<IActorRef> _subscribers = [];
    private readonly HashSet<TorrentEntry> _dirty = [];
    private readonly List<IActorRef> _shutdownRequesters = [];
    private readonly Stopwatch _uptime = Stopwatch.StartNew();
    private readonly PeerId _peerId = PeerId.Generate();
    private SessionServices? _services;
    private IActorRef? _listener;
    // The port the listener bound (what trackers must hear: with listen-port 0 it is any free one); null until known.
    private int? _boundPort;
    private bool _listenerAnswered;
    private IActorRef _store = ActorRefs.Nobody;
    private SessionSettingsSnapshot _current;
    private int _nextId = 1;
    private long _downloadedBefore;
    private long _uploadedBefore;
    private long _downloadedThisSession;
    private long _uploadedThisSession;
    private bool _shuttingDown;

    public TorrentSessionActor(BtaSettings settings, SessionOptions options, TorrentParts parts,
        Func<MagnetContext, IActorRef, Props>? fetcher = null)
    {
        _settings = settings;
        _options = options;
        _parts = parts;
        _fetcher = fetcher ?? ((context, owner) => MetadataFetcherActor.Props(context, owner));
        var session = settings.Session;
        _current = new SessionSettingsSnapshot(
            options.DownloadDirectory ?? session.ResolveDownloadDirectory(),
            session.DownloadRateLimit,
            session.UploadRateLimit,
            session.MaxActiveDownloads,
            session.MaxActiveSeeds,
            session.QueueEnabled,
            settings.MaxConnections,
            settings.MaxPeersPerTorrent,
            settings.ListenPort,
            session.SeedRatioLimit,
            session.SeedRatioLimit > 0) { DhtEnabled = settings.Dht.Enabled, LsdEnabled = settings.Lsd.Enabled };
        Loading();
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="fetcher">Makes a magnet's metadata fetcher from its context and owner (tests pass a probe);
    /// null: the real <see cref="MetadataFetcherActor"/>.</param>
    public static Props Props(BtaSettings settings, SessionOptions options, TorrentParts? parts = null,
        Func<MagnetContext, IActorRef, Props>? fetcher = null) =>
        Akka.Actor.Props.Create(() => new TorrentSessionActor(settings, options, parts ?? TorrentParts.Real, fetcher));

    /// <summary>A torrent whose coordinator throws is stopped (and marked failed); nothing else is touched.
    /// The listener and the store restart.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(exception =>
    {
        _log.Error("A part of the session failed: {Error}", exception.Message);
        // The DHT node and LSD are stopped too: their sockets go with them (the session carries on without).
        return _byCoordinator.ContainsKey(Sender) || Sender.Equals(_dht) || Sender.Equals(_lsd) ? Directive.Stop : Directive.Restart;
    });

    protected override void PreStart()
    {
        _services = new SessionServices(_settings, _options.AddressFilter);
        if (_options.Listen)
        {
            _listener = Context.ActorOf(ListenerActor.Props(_settings.ListenAddress, _settings.ListenPort,
                _settings.MaxConnections, _settings.Timeouts.Handshake), "listener");
        }
        var store = _options.StateDirectory is { } folder ? new SessionStore(folder) : null;
        _store = Context.ActorOf(SessionStoreActor.Props(store), "store");
        _store.Tell(SessionStoreActor.Load.Instance);
        Timers.StartPeriodicTimer("save", SaveTick.Instance, _settings.Resume.SaveInterval);
    }

    protected override void PostStop() => _services?.Dispose();

    /// <summary>Until the stored list is read, commands wait (stashed) so ids and duplicates are right.</summary>
    private void Loading()
    {
        Receive<ListenerActor.Bound>(OnBound);
        Receive<SessionStoreActor.Loaded>(OnLoaded);
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>Loaded, but the listener has not said where it bound: no torrent starts before it has, or it
    /// would announce the configured port (0 with listen-port 0) instead of the bound one. Bounded by a timer.</summary>
    private void AwaitingListener()
    {
        Receive<ListenerActor.Bound>(m =>
        {
            OnBound(m);
            StartRunning();
        });
        Receive<ListenerOverdue>(_ => StartRunning());
        ReceiveAny(_ => Stash.Stash());
    }

    private void OnBound(ListenerActor.Bound bound)
    {
        _boundPort = bound.EndPoint?.Port;
        _listenerAnswered = true;
    }

    private void Running()
    {
        Receive<AddTorrent>(OnAdd);
        Receive<AddMagnet>(OnAddMagnet);
        Receive<RemoveTorrent>(m => WithTorrent(m.InfoHash, e => OnRemove(e, m.DeleteData)));
        Receive<StartTorrent>(m => WithTorrent(m.InfoHash, e => OnStart(e, m.Now)));
        Receive<StopTorrent>(m => WithTorrent(m.InfoHash, OnStop));
        Receive<ParkTorrent>(OnPark);
        Receive<ListParked>(_ => Sender.Tell(new ParkedTorrents(_torrents.Values.Where(e => e.Parked).OrderBy(e => e.Id)
            .Select(e => new ParkedTorrent(e.InfoHash, e.TorrentFile, e.Magnet?.ToString(), e.Paused)).ToArray())));
        Receive<VerifyTorrent>(m => WithTorrent(m.InfoHash, OnVerify));
        Receive<ReannounceTorrent>(m => WithTorrent(m.InfoHash, e =>
        {
            e.RunningCoordinator?.Tell(new TorrentCoordinator.Reannounce(e.InfoHash));
            Sender.Tell(new CommandDone(e.InfoHash));
        }));
        Receive<SetTorrentOptions>(m => WithTorrent(m.InfoHash, e => OnSetOptions(e, m.Update)));
        Receive<SetTorrentLocation>(m => WithTorrent(m.InfoHash, e => OnSetLocation(e, m.Location, m.Move)));
        Receive<MoveInQueue>(m => WithTorrent(m.InfoHash, e => OnMoveInQueue(e, m.Move)));
        Receive<AddPeers>(m =>
        {
            if (_torrents.TryGetValue(m.InfoHash, out var entry))
            {
                // While a magnet fetches its metadata, its fetcher takes the peers (as a coordinator would).
                entry.Coordinator?.Tell(new TorrentCoordinator.PeersDiscovered(m.InfoHash, m.Peers, m.Source));
            }
        });
        // Arrays, not collection expressions: a compiler-made list type does not survive serialisation.
        Receive<ListTorrents>(m => Sender.Tell(new TorrentList(Select(m.Only).Select(e => e.Status(_current)).ToArray())));
        Receive<GetTorrentDetails>(m => Sender.Tell(new TorrentDetailsList(Select(m.Only).Select(e => e.Details(_current)).ToArray())));
        Receive<GetSessionSettings>(_ => Sender.Tell(_current));
        Receive<UpdateSessionSettings>(m => OnUpdateSettings(m.Update));
        Receive<GetSessionStats>(_ => Sender.Tell(Stats()));
        Receive<Subscribe>(m =>
        {
            _subscribers.Add(Context.Watch(m.Subscriber));
            Sender.Tell(Subscribed.Instance);
        });
        Receive<Unsubscribe>(m =>
        {
            _subscribers.Remove(m.Subscriber);
            Context.Unwatch(m.Subscriber);
        });
        Receive<Shutdown>(_ => OnShutdown());
        ReceiveDht();
        ReceiveLsd();
        Receive<ListenerActor.Bound>(OnBound);

        // From the coordinators (Sender names the torrent).
        Receive<TorrentCoordinator.Progress>(m => FromCoordinator(e => OnProgress(e, m)));
        Receive<TorrentCoordinator.Checked>(m => FromCoordinator(e =>
        {
            e.Checked = true;
            Publish(new TorrentChecked(e.InfoHash, m.VerifiedPieces, m.PieceCount));
        }));
        Receive<TorrentCoordinator.Completed>(m => FromCoordinator(e => OnCompleted(e, m)));
        Receive<TorrentCoordinator.SeedRatioReached>(m => FromCoordinator(e => OnSeedRatioReached(e, m)));
        Receive<TorrentCoordinator.Failed>(m => FromCoordinator(e => OnFailed(e, m.Reason)));
        Receive<TorrentCoordinator.Stopped>(m => FromCoordinator(e => EndRun(e, m.Downloaded, m.Uploaded)));

        // From the metadata fetchers (Sender names the torrent, as for coordinators).
        Receive<MetadataFetcherActor.FetchProgress>(m => FromFetcher(e => OnFetchProgress(e, m)));
        Receive<MetadataFetcherActor.MetadataFetched>(m => FromFetcher(e => OnMetadataFetched(e, m)));
        Receive<MetadataFetcherActor.MetadataFailed>(m => FromFetcher(e => OnFailed(e, "metadata: " + m.Reason.ReplaceLineEndings(" "))));
        Receive<Terminated>(OnTerminated);
        Receive<StopOverdue>(OnStopOverdue);
        Receive<HandoverDone>(m =>
        {
            if (_torrents.TryGetValue(m.InfoHash, out var entry) && entry.AwaitingFetcherEnd)
            {
                entry.AwaitingFetcherEnd = false;
                Schedule();
            }
        });
        Receive<SessionStoreActor.JobDone>(OnJobDone);
        Receive<SessionStoreActor.Flushed>(_ => FinishShutdown());
        Receive<SaveTick>(_ => SaveDirty());
    }

    // ---- Loading ----

    private void OnLoaded(SessionStoreActor.Loaded loaded)
    {
        foreach (var problem in loaded.Problems)
        {
            _log.Warning("{Problem}", problem);
        }
        if (loaded.Session is { } session)
        {
            _nextId = Math.Max(_nextId, session.NextId);
            _downloadedBefore = session.DownloadedEver;
            _uploadedBefore = session.UploadedEver;
            _current = Apply(_current, new SessionSettingsUpdate(session.DownloadDirectory, session.DownloadLimit,
                session.UploadLimit, session.MaxActiveDownloads, session.MaxActiveSeeds, session.QueueEnabled,
                SeedRatioLimit: session.SeedRatioLimit, SeedRatioLimited: session.SeedRatioLimited));
            ApplyLimits();
        }
        foreach (var torrent in loaded.Torrents.OrderBy(t => t.Stored.QueuePosition).ThenBy(t => t.Stored.Id))
        {
            Restore(torrent);
        }
        if (loaded.Torrents.Count > 0)
        {
            _log.Info("Restored {Count} torrents from {Folder}", _torrents.Count, _options.StateDirectory);
        }
        if (_listener is not null && !_listenerAnswered)
        {
            Timers.StartSingleTimer("listener", ListenerOverdue.Instance, TimeSpan.FromSeconds(5));
            Become(AwaitingListener);
            return;
        }
        StartRunning();
    }

    private void StartRunning()
    {
        Timers.Cancel("listener");
        Become(Running);
        StartDht();
        StartLsd();
        Stash.UnstashAll();
        Schedule();
    }

    private void Restore(LoadedTorrent torrent)
    {
        var stored = torrent.Stored;
        if (_torrents.ContainsKey(torrent.InfoHash) || _torrents.Values.Any(e => e.Id == stored.Id))
        {
            _log.Warning("Skipped a second stored copy of torrent {Id} ({InfoHash})", stored.Id, stored.InfoHash);
            return;
        }
        var entry = torrent.Metainfo is { } metainfo
            ? new TorrentEntry(stored.Id, metainfo, torrent.TorrentFile!, stored.DownloadDirectory, stored.AddedAt)
            : new TorrentEntry(stored.Id, torrent.Magnet!, stored.DownloadDirectory, stored.AddedAt);
        entry.Paused = stored.Paused;
        entry.Seed = stored.Seed;
        entry.SeedRatio = stored.SeedRatio;
        entry.DownloadLimit = stored.DownloadLimit;
        entry.UploadLimit = stored.UploadLimit;
        entry.QueuePosition = _torrents.Count;
        entry.DoneAt = stored.DoneAt;
        entry.DownloadedBefore = stored.DownloadedEver;
        entry.UploadedBefore = stored.UploadedEver;
        entry.Error = stored.Error;
        if (entry.Metainfo is { } known)
        {
            entry.Files = SessionStore.ToSelection(stored);
            if (TryBitfield(stored.VerifiedPieces, known.PieceCount) is { } verified)
            {
                entry.Verified = verified;
                entry.Checked = true;
            }
        }
        entry.RecountWanted();
        entry.Activity = entry.Paused ? TorrentActivity.Stopped
            : entry.Error is not null ? TorrentActivity.Failed
            : TorrentActivity.QueuedToCheck;
        // A cluster node runs a stored torrent only once its shard entity claims it (the entity may live elsewhere).
        entry.Parked = _options.Sharded;
        _torrents.Add(entry.InfoHash, entry);
        _nextId = Math.Max(_nextId, entry.Id + 1);
    }

    private static Bitfield? TryBitfield(string base64, int pieceCount)
    {
        try
        {
            return Bitfield.FromWire(Convert.FromBase64String(base64), pieceCount);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    // ---- Commands ----

    private void OnAdd(AddTorrent message)
    {
        if (_shuttingDown)
        {
            Sender.Tell(new CommandRefused("the session is shutting down"));
            return;
        }
        var parsed = TorrentMetainfo.Parse(message.Metainfo);
        if (parsed.Metainfo is not { } metainfo)
        {
            Sender.Tell(new CommandRefused($"invalid or corrupt torrent file ({parsed.Error})"));
            return;
        }
        if (IsDuplicate(metainfo.InfoHash, message.Options) || DirectoryOf(message.Options) is not { } directory)
        {
            return;
        }
        var options = message.Options;
        if (options.Files is { } files && files.FileCount != metainfo.Files.Count)
        {
            Sender.Tell(new CommandRefused($"the file selection names {files.FileCount} files, the torrent has {metainfo.Files.Count}"));
            return;
        }
        var entry = new TorrentEntry(_nextId++, metainfo, message.Metainfo, directory, DateTimeOffset.UtcNow);
        if (options.Files is { } selection)
        {
            entry.Files = selection;
        }
        _store.Tell(new SessionStoreActor.SaveTorrentFile(entry.InfoHash, message.Metainfo));
        Admit(entry, options);
    }

    /// <summary>A magnet is a torrent without its metainfo yet: same ids, queue, options and duplicates; its
    /// link is kept in the state folder until the metadata arrives.</summary>
    private void OnAddMagnet(AddMagnet message)
    {
        if (_shuttingDown)
        {
            Sender.Tell(new CommandRefused("the session is shutting down"));
            return;
        }
        if (message.Uri.Length > SessionStore.MaxMagnetBytes)
        {
            Sender.Tell(new CommandRefused($"invalid magnet link: longer than {SessionStore.MaxMagnetBytes} characters"));
            return;
        }
        if (!MagnetLink.TryParse(message.Uri.Trim(), out var link, out var error))
        {
            Sender.Tell(new CommandRefused($"invalid magnet link: {error}"));
            return;
        }
        if (IsDuplicate(link.InfoHash, message.Options) || DirectoryOf(message.Options) is not { } directory)
        {
            return;
        }
        var entry = new TorrentEntry(_nextId++, link, directory, DateTimeOffset.UtcNow)
        {
            PendingFiles = message.Options.Files,
        };
        _store.Tell(new SessionStoreActor.SaveMagnet(link));
        Admit(entry, message.Options);
    }

    /// <summary>Answers a duplicate (the torrent we have, whether it came from a .torrent or a magnet).</summary>
    private bool IsDuplicate(InfoHash infoHash, AddTorrentOptions options)
    {
        if (!_torrents.TryGetValue(infoHash, out var existing))
        {
            return false;
        }
        if (existing.Parked && existing.AfterStop != AfterStop.Park)
        {
            Claim(existing, options);
            return true;
        }
        Sender.Tell(new TorrentAdded(existing.InfoHash, existing.Id, existing.Name, Duplicate: !existing.Parked));
        return true;
    }

    /// <summary>A parked torrent claimed by an add (its shard entity now lives here): it runs from what this node
    /// has on disk with its stored options, paused or not as the add says (the entity's spec is the cluster's
    /// latest word; this node's copy may predate a start or stop on another node).</summary>
    private void Claim(TorrentEntry entry, AddTorrentOptions options)
    {
        entry.Parked = false;
        if (entry.Paused != options.Paused)
        {
            entry.Paused = options.Paused;
            entry.Activity = entry.Paused ? TorrentActivity.Stopped
                : entry.Error is not null ? TorrentActivity.Failed
                : TorrentActivity.QueuedToCheck;
            Save(entry);
        }
        _log.Info("Claimed stored torrent {Id} {Name} ({InfoHash})", entry.Id, entry.Name, entry.InfoHash);
        Sender.Tell(new TorrentAdded(entry.InfoHash, entry.Id, entry.Name, Duplicate: false));
        Schedule();
    }

    private void OnPark(ParkTorrent message)
    {
        if (!_torrents.TryGetValue(message.InfoHash, out var entry) || entry.AfterStop is AfterStop.Remove or AfterStop.RemoveWithData)
        {
            Sender.Tell(new CommandDone(message.InfoHash));
            return;
        }
        entry.Parked = true;
        entry.ForceStart = false;
        if (entry.Coordinator is null)
        {
            Save(entry);
            Sender.Tell(new CommandDone(entry.InfoHash));
            return;
        }
        entry.ParkRequester = Sender;
        StopCoordinator(entry, AfterStop.Park);
    }

    /// <summary>The full download folder of an add, or null after refusing it.</summary>
    private string? DirectoryOf(AddTorrentOptions options)
    {
        try
        {
            return Path.GetFullPath(options.DownloadDirectory ?? _current.DownloadDirectory);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            Sender.Tell(new CommandRefused($"invalid download folder '{options.DownloadDirectory}': {ex.Message}"));
            return null;
        }
    }

    private void Admit(TorrentEntry entry, AddTorrentOptions options)
    {
        entry.Paused = options.Paused;
        entry.Seed = options.Seed;
        entry.SeedRatio = options.SeedRatio;
        entry.ForceStart = options.SkipQueue;
        entry.QueuePosition = _torrents.Count;
        entry.PendingPeers = options.Peers ?? [];
        entry.RecountWanted();
        entry.Activity = entry.Paused ? TorrentActivity.Stopped : TorrentActivity.QueuedToCheck;
        _torrents.Add(entry.InfoHash, entry);
        Save(entry);
        SaveSession();
        _log.Info("Added torrent {Id} {Name} ({InfoHash}){Magnet} in {Folder}", entry.Id, entry.Name, entry.InfoHash,
            entry.NeedsMetadata ? " from its magnet" : "", entry.Directory);
        Sender.Tell(new TorrentAdded(entry.InfoHash, entry.Id, entry.Name, Duplicate: false));
        Schedule();
    }

    private void OnRemove(TorrentEntry entry, bool deleteData)
    {
        entry.Paused = true;
        if (entry.Coordinator is not null)
        {
            StopCoordinator(entry, deleteData ? AfterStop.RemoveWithData : AfterStop.Remove);
        }
        else
        {
            FinishRemove(entry, deleteData);
        }
        Sender.Tell(new CommandDone(entry.InfoHash));
    }

    private void FinishRemove(TorrentEntry entry, bool deleteData)
    {
        _torrents.Remove(entry.InfoHash);
        _dirty.Remove(entry);
        _store.Tell(new SessionStoreActor.DeleteTorrent(entry.InfoHash));
        if (deleteData)
        {
            _store.Tell(new SessionStoreActor.DeleteData(entry.InfoHash, entry.Directory, entry.RelativePaths(), entry.TopFolder));
        }
        _log.Info("Removed torrent {Id} {Name}{Data}", entry.Id, entry.Name, deleteData ? " and its data" : "");
        Publish(new TorrentRemoved(entry.InfoHash));
        var position = 0;
        foreach (var other in _torrents.Values.OrderBy(e => e.QueuePosition))
        {
            other.QueuePosition = position++;
        }
        Schedule();
    }

    private void OnMoveInQueue(TorrentEntry entry, QueueMove move)
    {
        var order = _torrents.Values.OrderBy(e => e.QueuePosition).ToList();
        var from = order.IndexOf(entry);
        order.RemoveAt(from);
        order.Insert(move switch
        {
            QueueMove.Top => 0,
            QueueMove.Up => Math.Max(0, from - 1),
            QueueMove.Down => Math.Min(order.Count, from + 1),
            _ => order.Count,
        }, entry);
        for (var position = 0; position < order.Count; position++)
        {
            if (order[position].QueuePosition != position)
            {
                order[position].QueuePosition = position;
                Save(order[position]);
            }
        }
        Sender.Tell(new CommandDone(entry.InfoHash));
        Schedule();
    }

    private void OnStart(TorrentEntry entry, bool now)
    {
        entry.Paused = false;
        entry.ForceStart |= now;
        if (entry.Coordinator is null && entry.Activity is TorrentActivity.Stopped or TorrentActivity.Failed or TorrentActivity.Finished)
        {
            entry.Error = null;
            entry.Activity = TorrentActivity.QueuedToCheck;
        }
        if (entry.AfterStop == AfterStop.Nothing && entry.Coordinator is not null && entry.Stopping)
        {
            entry.AfterStop = AfterStop.Restart;
        }
        Save(entry);
        Sender.Tell(new CommandDone(entry.InfoHash));
        Schedule();
    }

    private void OnStop(TorrentEntry entry)
    {
        entry.Paused = true;
        entry.ForceStart = false;
        if (entry.Coordinator is not null)
        {
            if (entry.AfterStop == AfterStop.Restart)
            {
                entry.AfterStop = AfterStop.Nothing;
            }
            StopCoordinator(entry, entry.AfterStop);
        }
        if (entry.AfterStop == AfterStop.Nothing)
        {
            // Stopped from the user's side at once, as Transmission reports a torrent-stop: its coordinator may take
            // a while yet (a `stopped` announce, the resume save) while the next queued torrent already starts.
            entry.Activity = TorrentActivity.Stopped;
        }
        Save(entry);
        Sender.Tell(new CommandDone(entry.InfoHash));
        Schedule();
    }

    private void OnVerify(TorrentEntry entry)
    {
        if (entry.NeedsMetadata)
        {
            // No data to check before the metadata says what the data is (Transmission ignores it too).
            Sender.Tell(new CommandDone(entry.InfoHash));
            return;
        }
        if (entry.Coordinator is not null)
        {
            StopCoordinator(entry, AfterStop.Verify);
        }
        else if (entry.AfterStop == AfterStop.Nothing)
        {
            entry.AfterStop = AfterStop.Verify;
            entry.Activity = TorrentActivity.QueuedToCheck;
            _store.Tell(new SessionStoreActor.ForgetResume(entry.InfoHash, entry.Directory));
        }
        Sender.Tell(new CommandDone(entry.InfoHash));
    }

    private void OnSetOptions(TorrentEntry entry, TorrentOptionsUpdate update)
    {
        if (update.Files is { } files)
        {
            if (entry.Metainfo is not { } metainfo)
            {
                Sender.Tell(new CommandRefused("the torrent's files are not known until its metadata has arrived"));
                return;
            }
            if (files.FileCount != metainfo.Files.Count)
            {
                Sender.Tell(new CommandRefused($"the file selection names {files.FileCount} files, the torrent has {metainfo.Files.Count}"));
                return;
            }
            entry.Files = files;
            entry.RecountWanted();
            entry.RunningCoordinator?.Tell(new TorrentCoordinator.SetFiles(entry.InfoHash, files));
            if (entry.Coordinator is null && entry.Activity == TorrentActivity.Finished && !entry.WantedComplete)
            {
                entry.Activity = TorrentActivity.QueuedToCheck;
            }
        }
        if (update.DownloadLimit is not null || update.UploadLimit is not null)
        {
            entry.DownloadLimit = update.DownloadLimit ?? entry.DownloadLimit;
            entry.UploadLimit = update.UploadLimit ?? entry.UploadLimit;
            entry.RunningCoordinator?.Tell(new TorrentCoordinator.SetLimits(entry.InfoHash,
                update.DownloadLimit is null ? null : OwnLimit(entry.DownloadLimit, _settings.Download.RateLimit),
                update.UploadLimit is null ? null : OwnLimit(entry.UploadLimit, _settings.Upload.RateLimit)));
        }
        if (update.PeerLimit is { } peerLimit)
        {
            if (peerLimit < 1)
            {
                Sender.Tell(new CommandRefused("the peer limit must be at least 1"));
                return;
            }
            entry.PeerLimit = peerLimit;
            entry.RunningCoordinator?.Tell(new TorrentCoordinator.SetPeerLimit(entry.InfoHash, PeerLimitOf(entry)));
        }
        if (update.SeedRatio is { } ratio)
        {
            entry.SeedRatio = double.IsNaN(ratio) ? null : ratio;
            entry.RunningCoordinator?.Tell(new TorrentCoordinator.SetSeedRatio(entry.InfoHash, SeedRatioOf(entry)));
        }
        Save(entry);
        Sender.Tell(new CommandDone(entry.InfoHash));
        Schedule();
    }

    private void OnSetLocation(TorrentEntry entry, string location, bool move)
    {
        string target;
        try
        {
            target = Path.GetFullPath(location);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            Sender.Tell(new CommandRefused($"invalid location '{location}': {ex.Message}"));
            return;
        }
        if (move)
        {
            entry.MoveTo = target;
            if (entry.Coordinator is not null)
            {
                StopCoordinator(entry, AfterStop.Move);
            }
            else
            {
                entry.AfterStop = AfterStop.Move;
                RunMove(entry);
            }
        }
        else
        {
            entry.Directory = target;
            entry.Checked = false;
            if (entry.Coordinator is not null)
            {
                StopCoordinator(entry, AfterStop.Restart);
            }
        }
        Save(entry);
        Sender.Tell(new CommandDone(entry.InfoHash));
    }

    private void RunMove(TorrentEntry entry) => _store.Tell(new SessionStoreActor.MoveData(entry.InfoHash, entry.Directory,
        entry.MoveTo!, entry.RelativePaths(), entry.TopFolder));

    private void OnUpdateSettings(SessionSettingsUpdate update)
    {
        if (update.DownloadDirectory is { } folder)
        {
            try
            {
                update = update with { DownloadDirectory = Path.GetFullPath(folder) };
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
            {
                Sender.Tell(new CommandRefused($"invalid download folder '{folder}': {ex.Message}"));
                return;
            }
        }
        if (update is { MaxActiveDownloads: < 1 } or { MaxActiveSeeds: < 1 } or { DownloadLimit: < 0 } or { UploadLimit: < 0 }
            or { SeedRatioLimit: < 0 } or { PeerLimitGlobal: < 1 } or { PeerLimitPerTorrent: < 1 })
        {
            Sender.Tell(new CommandRefused("limits must be positive (queue sizes and peer limits at least 1)"));
            return;
        }
        _current = Apply(_current, update);
        ApplyLimits();
        if (update.PeerLimitGlobal is not null || update.PeerLimitPerTorrent is not null)
        {
            _listener?.Tell(new ListenerActor.SetMaxConnections(_current.PeerLimitGlobal));
            foreach (var entry in _torrents.Values.Where(e => e.RunningCoordinator is not null))
            {
                entry.RunningCoordinator!.Tell(new TorrentCoordinator.SetPeerLimit(entry.InfoHash, PeerLimitOf(entry)));
            }
        }
        if (update.SeedRatioLimit is not null || update.SeedRatioLimited is not null)
        {
            foreach (var entry in _torrents.Values.Where(e => e.RunningCoordinator is not null && e.SeedRatio is null))
            {
                entry.RunningCoordinator!.Tell(new TorrentCoordinator.SetSeedRatio(entry.InfoHash, SeedRatioOf(entry)));
            }
        }
        SaveSession();
        Sender.Tell(_current);
        Schedule();
    }

    private static SessionSettingsSnapshot Apply(SessionSettingsSnapshot current, SessionSettingsUpdate update) => current with
    {
        DownloadDirectory = update.DownloadDirectory ?? current.DownloadDirectory,
        DownloadLimit = update.DownloadLimit ?? current.DownloadLimit,
        UploadLimit = update.UploadLimit ?? current.UploadLimit,
        MaxActiveDownloads = update.MaxActiveDownloads ?? current.MaxActiveDownloads,
        MaxActiveSeeds = update.MaxActiveSeeds ?? current.MaxActiveSeeds,
        QueueEnabled = update.QueueEnabled ?? current.QueueEnabled,
        PeerLimitGlobal = update.PeerLimitGlobal ?? current.PeerLimitGlobal,
        PeerLimitPerTorrent = update.PeerLimitPerTorrent ?? current.PeerLimitPerTorrent,
        SeedRatioLimit = update.SeedRatioLimit ?? current.SeedRatioLimit,
        SeedRatioLimited = update.SeedRatioLimited ?? current.SeedRatioLimited,
    };

    private void ApplyLimits()
    {
        _services?.DownloadLimit.SetRate(_current.DownloadLimit);
        _services?.UploadLimit.SetRate(_current.UploadLimit);
    }

    private SessionStats Stats()
    {
        var running = _torrents.Values.Where(e => e.Coordinator is not null).ToList();
        return new SessionStats(
            _torrents.Values.Count(e => !e.Parked),
            running.Count(e => (e.Last?.DownloadRate ?? 0) + (e.Last?.UploadRate ?? 0) > 0),
            _torrents.Values.Count(e => e.Coordinator is null && !e.Parked),
            running.Sum(e => e.Last?.DownloadRate ?? 0),
            running.Sum(e => e.Last?.UploadRate ?? 0),
            _downloadedThisSession + running.Sum(e => e.Last?.Downloaded ?? 0),
            _uploadedThisSession + running.Sum(e => e.Last?.Uploaded ?? 0),
            _downloadedBefore + _downloadedThisSession + running.Sum(e => e.Last?.Downloaded ?? 0),
            _uploadedBefore + _uploadedThisSession + running.Sum(e => e.Last?.Uploaded ?? 0),
            _uptime.Elapsed);
    }

    private void OnShutdown()
    {
        _shuttingDown = true;
        _shutdownRequesters.Add(Sender);
        foreach (var entry in _torrents.Values.Where(e => e.Coordinator is not null))
        {
            if (!entry.Stopping)
            {
                StopCoordinator(entry, AfterStop.Nothing);
            }
        }
        CheckShutdown();
    }

    private void CheckShutdown()
    {
        if (!_shuttingDown || _shutdownRequesters.Count == 0 || _byCoordinator.Count > 0)
        {
            return;
        }
        foreach (var entry in _torrents.Values)
        {
            Save(entry);
        }
        SaveSession();
        // Replied once the store has written all of the above (it handles its mailbox in order).
        _store.Tell(SessionStoreActor.Flush.Instance);
    }

    private void FinishShutdown()
    {
        foreach (var requester in _shutdownRequesters)
        {
            requester.Tell(ShutdownComplete.Instance);
        }
        _shutdownRequesters.Clear();
    }

    // ---- From the coordinators ----

    private void OnProgress(TorrentEntry entry, TorrentCoordinator.Progress progress)
    {
        var changed = entry.Verified.Count != progress.VerifiedPieces;
        entry.Last = progress;
        if (Bitfield.FromWire(progress.VerifiedBitfield, entry.Metainfo!.PieceCount) is { } verified)
        {
            entry.Verified = verified;
        }
        entry.VerifiedBytes = progress.VerifiedBytes;
        entry.WantedBytes = progress.WantedBytes;
        entry.WantedVerifiedBytes = progress.WantedVerifiedBytes;
        if (progress.DownloadRate > 0 || progress.UploadRate > 0)
        {
            entry.ActivityAt = DateTimeOffset.UtcNow;
        }
        if (!entry.Stopping)
        {
            entry.Activity = progress.State switch
            {
                TorrentCoordinator.TorrentState.Checking => TorrentActivity.Checking,
                TorrentCoordinator.TorrentState.Downloading => TorrentActivity.Downloading,
                TorrentCoordinator.TorrentState.Seeding => TorrentActivity.Seeding,
                TorrentCoordinator.TorrentState.Completed => TorrentActivity.Finished,
                TorrentCoordinator.TorrentState.Failed => TorrentActivity.Failed,
                _ => entry.Activity,
            };
        }
        if (changed)
        {
            _dirty.Add(entry);
        }
        Publish(new TorrentProgress(entry.InfoHash, progress));
    }

    private void OnCompleted(TorrentEntry entry, TorrentCoordinator.Completed completed)
    {
        entry.DoneAt ??= DateTimeOffset.UtcNow;
        entry.Checked = true;
        entry.WantedVerifiedBytes = entry.WantedBytes;
        Save(entry);
        Publish(new TorrentCompleted(entry.InfoHash, completed.TotalBytes, completed.Downloaded, completed.Elapsed));
        if (entry.Seed && _current.QueueEnabled && !entry.ForceStart && !_shuttingDown)
        {
            var seeds = _torrents.Values.Count(e => e != entry && e.Coordinator is not null && !e.Stopping && e.Activity == TorrentActivity.Seeding);
            if (seeds >= _current.MaxActiveSeeds)
            {
                // Its download slot is free now, and every seed slot is taken: it waits in the seed queue.
                StopCoordinator(entry, AfterStop.Nothing);
            }
        }
        Schedule();
    }

    private void OnSeedRatioReached(TorrentEntry entry, TorrentCoordinator.SeedRatioReached reached)
    {
        _log.Info("Torrent {Id} {Name} reached seed ratio {Ratio:0.00}: stopping", entry.Id, entry.Name, reached.Ratio);
        Publish(new TorrentSeedRatioReached(entry.InfoHash, reached.Uploaded, reached.Ratio));
        if (!entry.Stopping)
        {
            StopCoordinator(entry, AfterStop.Nothing);
        }
        entry.Finish = true;
    }

    private void OnFailed(TorrentEntry entry, string reason)
    {
        entry.Error = reason;
        entry.Activity = TorrentActivity.Failed;
        Save(entry);
        Publish(new TorrentFailed(entry.InfoHash, reason));
        // The coordinator has closed its peers; nothing it holds is worth a clean stop.
        if (entry.Coordinator is { } coordinator)
        {
            Context.Stop(coordinator);
        }
    }

    // ---- From the metadata fetchers ----

    private void OnFetchProgress(TorrentEntry entry, MetadataFetcherActor.FetchProgress progress)
    {
        entry.Fetch = progress;
        Publish(new TorrentMetadataProgress(entry.InfoHash, progress.PeersConnected, progress.PeersOffering,
            progress.PiecesReceived, progress.PiecesTotal));
    }

    /// <summary>The metadata passed its hash and parse: the entry becomes an ordinary torrent (its .torrent saved,
    /// its .magnet removed) and its coordinator starts in the fetcher's place, with the fetcher's peers.</summary>
    private void OnMetadataFetched(TorrentEntry entry, MetadataFetcherActor.MetadataFetched fetched)
    {
        if (fetched.Metainfo.InfoHash != entry.InfoHash)
        {
            OnFailed(entry, $"the fetched metadata is for {fetched.Metainfo.InfoHash}, not {entry.InfoHash}");
            return;
        }
        var fetcher = Sender;
        _byCoordinator.Remove(fetcher);
        // It stops itself after this message; the stop below only makes sure. The coordinator waits for its end
        // (still watched: Terminated comes to OnTerminated): Transmission takes one connection per address, so a
        // coordinator dialling while the fetcher's connection is open is refused, then retries seconds later.
        Context.Stop(fetcher);
        _handingOver[fetcher] = entry;
        entry.AwaitingFetcherEnd = true;
        entry.Coordinator = null;
        entry.SetMetainfo(fetched.Metainfo, fetched.TorrentFile);
        if (entry.PendingFiles is { } files)
        {
            if (files.FileCount == fetched.Metainfo.Files.Count)
            {
                entry.Files = files;
            }
            else
            {
                _log.Warning("Torrent {Name}: the file selection given at add names {Given} files, the torrent has {Count}; fetching all",
                    fetched.Metainfo.Name, files.FileCount, fetched.Metainfo.Files.Count);
            }
            entry.PendingFiles = null;
        }
        entry.RecountWanted();
        entry.FetchedPeers = fetched.Peers;
        _store.Tell(new SessionStoreActor.SaveFetchedTorrent(entry.InfoHash, fetched.TorrentFile));
        _log.Info("Torrent {Id} {Name}: metadata received ({Size} bytes, {Pieces} pieces, {Files} files)", entry.Id,
            fetched.Metainfo.Name, fetched.Metainfo.TotalLength, fetched.Metainfo.PieceCount, fetched.Metainfo.Files.Count);
        Publish(new TorrentMetadataReceived(entry.InfoHash, fetched.Metainfo.Name, fetched.Metainfo.TotalLength,
            fetched.Metainfo.PieceCount, fetched.Metainfo.Files.Count));
        var after = entry.AfterStop;
        var stopping = entry.Stopping;
        entry.Stopping = false;
        entry.AfterStop = AfterStop.Nothing;
        entry.Activity = entry.Paused ? TorrentActivity.Stopped : TorrentActivity.QueuedToCheck;
        // The metadata can cross a stop or remove on its way: that command wins.
        if (stopping && after is AfterStop.Remove or AfterStop.RemoveWithData)
        {
            FinishRemove(entry, after == AfterStop.RemoveWithData);
        }
        else
        {
            if (stopping && after == AfterStop.Move)
            {
                entry.AfterStop = AfterStop.Move;
                RunMove(entry);
            }
            Save(entry);
        }
        CheckShutdown();
        Schedule();
    }

    private void OnTerminated(Terminated message)
    {
        if (_subscribers.Remove(message.ActorRef))
        {
            return;
        }
        if (_handingOver.Remove(message.ActorRef, out var handedOver))
        {
            Timers.StartSingleTimer("handover-" + handedOver.InfoHash.ToHex(), new HandoverDone(handedOver.InfoHash), HandoverDelay);
            return;
        }
        if (OnDhtTerminated(message.ActorRef) || OnLsdTerminated(message.ActorRef) || !_byCoordinator.Remove(message.ActorRef, out var entry))
        {
            return;
        }
        entry.Coordinator = null;
        DhtStopAnnouncing(entry.InfoHash);
        LsdStopAnnouncing(entry.InfoHash);
        if (entry.Last is { } last)
        {
            // Ended without a Stopped reply (failure, crash or an overdue stop): count what it last reported.
            EndRun(entry, last.Downloaded, last.Uploaded);
        }
        // A check-only run stops itself once it has reported the check.
        if (!entry.Stopping && !entry.CheckOnly && entry.Error is null)
        {
            entry.Error = "the torrent stopped unexpectedly (see the log)";
            Publish(new TorrentFailed(entry.InfoHash, entry.Error));
        }
        entry.Stopping = false;
        entry.CheckOnly = false;
        var after = entry.AfterStop;
        entry.AfterStop = AfterStop.Nothing;
        entry.Activity = entry.Error is not null ? TorrentActivity.Failed
            : entry.Finish ? TorrentActivity.Finished
            : entry.Paused ? TorrentActivity.Stopped
            : TorrentActivity.QueuedToCheck;
        entry.Finish = false;
        switch (after)
        {
            case AfterStop.Remove or AfterStop.RemoveWithData:
                FinishRemove(entry, after == AfterStop.RemoveWithData);
                break;
            case AfterStop.Verify:
                entry.AfterStop = AfterStop.Verify;
                entry.Activity = TorrentActivity.QueuedToCheck;
                _store.Tell(new SessionStoreActor.ForgetResume(entry.InfoHash, entry.Directory));
                break;
            case AfterStop.Move:
                entry.AfterStop = AfterStop.Move;
                RunMove(entry);
                break;
            case AfterStop.Park:
                // Paused or not as it was: the node that claims it next starts it the same way.
                entry.Activity = entry.Paused ? TorrentActivity.Stopped : TorrentActivity.QueuedToCheck;
                entry.ParkRequester?.Tell(new CommandDone(entry.InfoHash));
                entry.ParkRequester = null;
                break;
        }
        if (_torrents.ContainsKey(entry.InfoHash))
        {
            Save(entry);
        }
        CheckShutdown();
        Schedule();
    }

    private void EndRun(TorrentEntry entry, long downloaded, long uploaded)
    {
        entry.EndRun(downloaded, uploaded);
        _downloadedThisSession += downloaded;
        _uploadedThisSession += uploaded;
        Publish(new TorrentStopped(entry.InfoHash, uploaded, downloaded));
    }

    private void OnStopOverdue(StopOverdue overdue)
    {
        if (_torrents.TryGetValue(overdue.InfoHash, out var entry) && entry.Coordinator is { } coordinator
            && entry.Stopping && entry.Generation == overdue.Generation)
        {
            _log.Warning("Torrent {Name} did not stop within {Budget}; stopping it now", entry.Name, StopBudget);
            Context.Stop(coordinator);
        }
    }

    private void OnJobDone(SessionStoreActor.JobDone done)
    {
        if (done.Error is { } error)
        {
            _log.Error("Torrent {InfoHash}: {Job} failed: {Error}", done.InfoHash, done.Job, error);
        }
        if (!_torrents.TryGetValue(done.InfoHash, out var entry))
        {
            return;
        }
        switch (done.Job)
        {
            case "verify" when entry.AfterStop == AfterStop.Verify:
                entry.AfterStop = AfterStop.Nothing;
                entry.Checked = false;
                entry.Verified = new Bitfield(entry.Metainfo?.PieceCount ?? 0);
                entry.RecountWanted();
                if (entry.Paused || entry.Activity == TorrentActivity.Finished)
                {
                    // Transmission checks a stopped torrent and leaves it stopped.
                    entry.CheckOnly = true;
                    Spawn(entry);
                }
                break;
            case "move" when entry.AfterStop == AfterStop.Move:
                entry.AfterStop = AfterStop.Nothing;
                if (done.Error is null)
                {
                    entry.Directory = entry.MoveTo!;
                }
                else
                {
                    entry.Error = $"cannot move the data to {entry.MoveTo}: {done.Error}";
                    entry.Activity = TorrentActivity.Failed;
                }
                entry.MoveTo = null;
                Save(entry);
                break;
        }
        Schedule();
    }

    // ---- The queue ----

    /// <summary>Starts what may run: in queue order, torrents that are neither paused nor running, up to
    /// max-active-downloads that still miss wanted pieces and max-active-seeds that have them all; the rest are
    /// marked queued. torrent-start-now (and the CLI's own torrent) skip the queue.</summary>
    private void Schedule()
    {
        if (_shuttingDown)
        {
            return;
        }
        var downloads = _torrents.Values.Count(e => e.Coordinator is not null && !e.Stopping && e.Activity is not TorrentActivity.Seeding);
        var seeds = _torrents.Values.Count(e => e.Coordinator is not null && !e.Stopping && e.Activity is TorrentActivity.Seeding);
        foreach (var entry in _torrents.Values.OrderBy(e => e.QueuePosition))
        {
            if (entry.Coordinator is not null || entry.Paused || entry.Parked || entry.AfterStop != AfterStop.Nothing || entry.AwaitingFetcherEnd
                || entry.Activity is TorrentActivity.Failed or TorrentActivity.Finished)
            {
                continue;
            }
            var complete = entry.WantedComplete;
            if (complete && !entry.Seed)
            {
                entry.Activity = TorrentActivity.Finished;
                continue;
            }
            var free = !_current.QueueEnabled || entry.ForceStart
                || (complete ? seeds < _current.MaxActiveSeeds : downloads < _current.MaxActiveDownloads);
            if (!free)
            {
                entry.Activity = complete ? TorrentActivity.QueuedToSeed : TorrentActivity.QueuedToDownload;
                continue;
            }
            Spawn(entry);
            if (complete)
            {
                seeds++;
            }
            else
            {
                downloads++;
            }
        }
    }

    private void Spawn(TorrentEntry entry)
    {
        if (entry.Metainfo is null)
        {
            SpawnFetcher(entry);
            return;
        }
        var context = new TorrentContext(entry.Metainfo, _peerId, entry.Directory, _settings, _boundPort ?? _settings.ListenPort)
        {
            Services = _services,
            Dht = DhtWireFor(entry.Metainfo),
        };
        var options = new CoordinatorOptions(
            Seed: entry.Seed,
            SeedRatio: SeedRatioOf(entry),
            Listener: _listener,
            Files: entry.Files,
            DownloadLimit: OwnLimit(entry.DownloadLimit, _settings.Download.RateLimit),
            UploadLimit: OwnLimit(entry.UploadLimit, _settings.Upload.RateLimit),
            CheckOnly: entry.CheckOnly,
            PeerLimit: PeerLimitOf(entry));
        entry.Generation++;
        var coordinator = Context.ActorOf(TorrentCoordinator.Props(context, Self, _parts, options),
            $"torrent-{entry.InfoHash.ToHex()}-{entry.Generation}");
        Adopt(entry, coordinator, TorrentActivity.Checking);
        if (entry.FetchedPeers.Count > 0)
        {
            // Where the metadata came from: the swarm's first peers, known before the tracker answers.
            coordinator.Tell(new TorrentCoordinator.PeersDiscovered(entry.InfoHash, entry.FetchedPeers, PeerSource.Manual));
            entry.FetchedPeers = [];
        }
    }

    /// <summary>A magnet's run before its metadata: a fetcher in the coordinator's place (same queue slot, same
    /// stop, same watch), given the link and the peers known for it.</summary>
    private void SpawnFetcher(TorrentEntry entry)
    {
        var context = new MagnetContext(entry.Magnet!, _peerId, _settings, _boundPort ?? _settings.ListenPort)
        {
            Services = _services,
            // Peers that connect to us for the magnet are fetched from too (the coordinator's registration replaces the fetcher's).
            Listener = _listener,
        };
        entry.Generation++;
        var fetcher = Context.ActorOf(_fetcher(context, Self), $"metadata-{entry.InfoHash.ToHex()}-{entry.Generation}");
        entry.Fetch = null;
        Adopt(entry, fetcher, TorrentActivity.FetchingMetadata);
    }

    /// <summary>Makes <paramref name="run"/> (a coordinator, or a magnet's fetcher in its place) the entry's running
    /// child: watched, announced to the DHT and LSD, and given the peers named for the torrent.</summary>
    private void Adopt(TorrentEntry entry, IActorRef run, TorrentActivity activity)
    {
        Context.Watch(run);
        entry.Coordinator = run;
        entry.Error = null;
        entry.Activity = activity;
        entry.Last = null;
        _byCoordinator[run] = entry;
        DhtAnnounce(entry);
        LsdAnnounce(entry);
        if (entry.PendingPeers.Count > 0)
        {
            run.Tell(new TorrentCoordinator.PeersDiscovered(entry.InfoHash, entry.PendingPeers, PeerSource.Manual));
        }
    }

    /// <summary>The torrent's own peer limit, else the session's per-torrent one, never above the global one.</summary>
    private int PeerLimitOf(TorrentEntry entry) =>
        Math.Min(entry.PeerLimit > 0 ? entry.PeerLimit : _current.PeerLimitPerTorrent, _current.PeerLimitGlobal);

    /// <summary>The torrent's own limit when it has one, else the settings' per-torrent limit.</summary>
    private static long OwnLimit(long own, long configured) => own > 0 ? own : configured;

    private double? SeedRatioOf(TorrentEntry entry) =>
        entry.SeedRatio ?? (_current.SeedRatioLimited && _current.SeedRatioLimit > 0 ? _current.SeedRatioLimit : null);

    private void StopCoordinator(TorrentEntry entry, AfterStop after)
    {
        entry.AfterStop = after;
        if (entry.Stopping || entry.Coordinator is not { } coordinator)
        {
            return;
        }
        entry.Stopping = true;
        coordinator.Tell(entry.NeedsMetadata
            ? new MetadataFetcherActor.StopFetching(entry.InfoHash)
            : new TorrentCoordinator.Stop(entry.InfoHash));
        Timers.StartSingleTimer("stop-" + entry.InfoHash.ToHex(), new StopOverdue(entry.InfoHash, entry.Generation), StopBudget);
    }

    // ---- Helpers ----

    /// <summary>Routes a torrent command to its entry by the key <see cref="TorrentMessageExtractor"/> names.</summary>
    private void WithTorrent(InfoHash infoHash, Action<TorrentEntry> handle)
    {
        if (_torrents.TryGetValue(infoHash, out var entry) && !entry.Parked)
        {
            handle(entry);
        }
        else
        {
            Sender.Tell(new CommandRefused($"no torrent with info-hash {infoHash}"));
        }
    }

    private void FromCoordinator(Action<TorrentEntry> handle)
    {
        if (_byCoordinator.TryGetValue(Sender, out var entry) && !entry.NeedsMetadata)
        {
            handle(entry);
        }
    }

    /// <summary>From the fetcher the entry runs now; a fetcher being stopped still reports, and is heard.</summary>
    private void FromFetcher(Action<TorrentEntry> handle)
    {
        if (_byCoordinator.TryGetValue(Sender, out var entry) && entry.NeedsMetadata)
        {
            handle(entry);
        }
    }

    /// <summary>The torrents a list shows: a removed one is gone at once (as in Transmission), even while its
    /// coordinator still announces stopped.</summary>
    private IEnumerable<TorrentEntry> Select(IReadOnlyList<InfoHash>? only) => (only is null
        ? _torrents.Values.OrderBy(e => e.Id)
        : only.Distinct().Select(h => _torrents.GetValueOrDefault(h)).OfType<TorrentEntry>().OrderBy(e => e.Id))
        .Where(e => !e.Parked && e.AfterStop is not (AfterStop.Remove or AfterStop.RemoveWithData));

    private void Publish(ITorrentEvent message)
    {
        foreach (var subscriber in _subscribers)
        {
            subscriber.Tell(message);
        }
    }

    private void Save(TorrentEntry entry)
    {
        _dirty.Remove(entry);
        _store.Tell(new SessionStoreActor.SaveTorrent(entry.ToStored()));
    }

    private void SaveDirty()
    {
        foreach (var entry in _dirty.ToList())
        {
            Save(entry);
        }
    }

    private void SaveSession()
    {
        var stats = Stats();
        _store.Tell(new SessionStoreActor.SaveSession(new StoredSession(
            _nextId, _current.DownloadDirectory, _current.DownloadLimit, _current.UploadLimit,
            _current.MaxActiveDownloads, _current.MaxActiveSeeds, _current.QueueEnabled, _current.SeedRatioLimit,
            _current.SeedRatioLimited, stats.DownloadedEver, stats.UploadedEver)));
    }
}

/// <summary>How a session runs in this process.</summary>
/// <param name="StateDirectory">Where the torrent list is kept; null: nothing is kept (<c>bta download</c>).</param>
/// <param name="DownloadDirectory">The default folder for added torrents; null: the settings'.</param>
/// <param name="Listen">Accept incoming peers on bta.listen-port.</param>
public sealed record SessionOptions(string? StateDirectory = null, string? DownloadDirectory = null, bool Listen = true)
{
    public static readonly SessionOptions InProcess = new();

    /// <summary>Overrides the destinations the session may contact (tests prove the guard with one that refuses
    /// even loopback); null: bta.session.loopback-only decides.</summary>
    public Func<IPAddress, bool>? AddressFilter { get; init; }

    /// <summary>Makes LSD's transport (tests pass a fake, which the loopback guard does not apply to: it sends
    /// nothing); null: a multicast socket where <see cref="Lsd.LsdGuard"/> allows one.</summary>
    public Func<Lsd.ILsdTransport>? LsdTransport { get; init; }

    /// <summary>Cluster mode: torrents restored from the state folder stay parked until their shard entity claims
    /// them with an add (see <see cref="TorrentSessionActor.ParkTorrent"/>), so a node that rejoins never runs a
    /// torrent that moved to another node while it was away.</summary>
    public bool Sharded { get; init; }
}
