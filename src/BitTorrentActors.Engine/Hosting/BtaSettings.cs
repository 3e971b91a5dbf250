using System.Net;
using Akka.Configuration;
using Serilog.Events;

namespace BitTorrentActors.Engine.Hosting;

/// <summary>
/// The client's settings, read from the <c>bta</c> section of the final HOCON (hocon.conf, then each
/// <c>--config</c> overlay, then command-line overrides). <see cref="FromConfig"/> validates every value and
/// throws <see cref="BtaConfigException"/> naming the key on the first bad one.
/// </summary>
public sealed record BtaSettings(
    int ListenPort,
    IPAddress ListenAddress,
    int MaxPeersPerTorrent,
    int MaxConnections,
    int BlockSize,
    RequestPipelineSettings RequestPipeline,
    TimeoutSettings Timeouts,
    TimeSpan KeepAliveInterval,
    PeerRetrySettings PeerRetry,
    TrackerSettings Tracker,
    ResumeSettings Resume,
    UploadSettings Upload,
    DownloadSettings Download,
    TimeSpan ProgressInterval,
    LoggingSettings Logging)
{
    /// <summary>The session: the daemon's torrent list, the queue and the session-wide limits.</summary>
    public SessionSettings Session { get; init; } = SessionSettings.Default;

    /// <summary>The daemon's Transmission RPC.</summary>
    public RpcSettings Rpc { get; init; } = RpcSettings.Default;

    /// <summary>The session's Mainline DHT node.</summary>
    public DhtSettings Dht { get; init; } = DhtSettings.Default;

    /// <summary>Local service discovery (BEP 14) on the LAN's multicast group.</summary>
    public LsdSettings Lsd { get; init; } = LsdSettings.Default;

    /// <summary>Cluster mode of the daemon: torrents sharded over several bta processes.</summary>
    public ClusterSettings Cluster { get; init; } = ClusterSettings.Default;

    /// <summary>How often each peer gets our BEP 11 PEX message (libtorrent cuts off a peer sending more than 6 a minute).</summary>
    public TimeSpan PexInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The HOCON section holding the client's settings.</summary>
    public const string Section = "bta";

    /// <summary>Largest block a peer may be asked for; peers drop requests over 16 KiB.</summary>
    public const int MaxBlockSize = 16 * 1024;

    /// <summary>Dispatcher id for the file writers (SHA-1 as blocks arrive) and the session store.</summary>
    public const string IoDispatcherId = "akka.actor.bta-io-dispatcher";

    /// <summary>Dispatcher id for peer connections and message routing.</summary>
    public const string PeerDispatcherId = "akka.actor.bta-peer-dispatcher";

    public static BtaSettings FromConfig(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var r = new ConfigReader(config);

        var maxConnections = r.GetInt("bta.max-connections", 1, 100_000);
        var maxPeers = r.GetInt("bta.max-peers-per-torrent", 1, 100_000);
        if (maxPeers > maxConnections)
        {
            throw new BtaConfigException(
                "bta.max-peers-per-torrent",
                $"must not exceed bta.max-connections ({maxConnections}), got {maxPeers}");
        }

        var timeouts = new TimeoutSettings(
            r.GetDuration("bta.timeouts.connect"),
            r.GetDuration("bta.timeouts.handshake"),
            r.GetDuration("bta.timeouts.request"),
            r.GetDuration("bta.timeouts.idle"));
        var keepAlive = r.GetDuration("bta.keep-alive-interval");
        if (keepAlive >= timeouts.Idle)
        {
            throw new BtaConfigException(
                "bta.keep-alive-interval",
                $"must be shorter than bta.timeouts.idle ({timeouts.Idle}), got {keepAlive}");
        }

        return new BtaSettings(
            r.GetInt("bta.listen-port", 0, 65535),
            ReadAddress(r, "bta.listen-address"),
            maxPeers,
            maxConnections,
            (int)r.GetByteSize("bta.block-size", 1024, MaxBlockSize),
            ReadPipeline(r),
            timeouts,
            keepAlive,
            new PeerRetrySettings(
                r.GetDuration("bta.peer-retry.min-backoff"),
                ReadMaxBackoff(r, "bta.peer-retry"),
                r.GetInt("bta.peer-retry.max-attempts", 0, 1000)),
            new TrackerSettings(
                r.GetInt("bta.tracker.numwant", 0, 10_000),
                r.GetDuration("bta.tracker.min-backoff"),
                ReadMaxBackoff(r, "bta.tracker"),
                r.GetDuration("bta.tracker.timeout"))
            {
                // UDP trackers (BEP 15, issue 5): the retransmission schedule.
                UdpBaseTimeout = r.GetDuration("bta.tracker.udp-base-timeout"),
                UdpAttempts = r.GetInt("bta.tracker.udp-attempts", 1, 9),
            },
            new ResumeSettings(r.GetDuration("bta.resume.save-interval")),
            new UploadSettings(
                r.GetInt("bta.upload.unchoke-slots", 1, 1000),
                r.GetDuration("bta.upload.optimistic-unchoke-interval"),
                r.GetDuration("bta.upload.rechoke-interval"),
                r.GetByteSize("bta.upload.rate-limit", 0, long.MaxValue, rate: true),
                r.GetInt("bta.upload.max-requests-per-peer", 1, 100_000))
            {
                MaxUnsentPerPeer = r.GetByteSize("bta.upload.max-unsent-per-peer", 64 * 1024, 64 * 1024 * 1024),
            },
            new DownloadSettings(r.GetByteSize("bta.download.rate-limit", 0, long.MaxValue, rate: true),
                r.GetByteSize("bta.download.max-buffered-bytes", 0, long.MaxValue))
            {
                StallWarning = config.HasPath("bta.download.stall-warning")
                    ? r.GetDuration("bta.download.stall-warning")
                    : TimeSpan.FromSeconds(30),
                DirectWrites = !config.HasPath("bta.download.direct-writes") || SessionSettings.ReadBool(r, "bta.download.direct-writes"),
            },
            r.GetDuration("bta.progress-interval"),
            new LoggingSettings(
                ReadLogLevel(r, "bta.logging.level"),
                r.GetString("bta.logging.file")))
        {
            Session = SessionSettings.Read(r, config),
            Rpc = RpcSettings.Read(r, config),
            Dht = DhtSettings.Read(r, config),
            Lsd = LsdSettings.Read(r, config),
            Cluster = ClusterSettings.Read(r, config),
            PexInterval = config.HasPath("bta.pex.interval") ? r.GetDuration("bta.pex.interval") : TimeSpan.FromSeconds(60),
        };
    }

    /// <summary>Parses a Serilog level name, case-insensitively (Verbose, Debug, Information, Warning, ...), or a
    /// common short form (trace, debug, info, warn, err, fatal, and Serilog's three-letter codes).</summary>
    public static bool TryParseLogLevel(string text, out LogEventLevel level)
    {
        if (SettingRanges.LogLevelAlias(text) is { } alias)
        {
            level = alias;
            return true;
        }
        level = default;
        return !int.TryParse(text, out _) && Enum.TryParse(text, ignoreCase: true, out level)
            && Enum.IsDefined(level);
    }

    private static IPAddress ReadAddress(ConfigReader r, string key)
    {
        var raw = r.GetString(key);
        return IPAddress.TryParse(raw, out var address)
            ? address
            : throw new BtaConfigException(key, $"expected an IP address such as 0.0.0.0, got '{raw}'");
    }

    private static RequestPipelineSettings ReadPipeline(ConfigReader r)
    {
        var min = r.GetInt("bta.request-pipeline.min", 1, 10_000);
        var max = r.GetInt("bta.request-pipeline.max", 1, 10_000);
        var initial = r.GetInt("bta.request-pipeline.initial", 1, 10_000);
        if (max < min)
        {
            throw new BtaConfigException("bta.request-pipeline.max", $"must be at least min ({min}), got {max}");
        }
        if (initial < min || initial > max)
        {
            throw new BtaConfigException(
                "bta.request-pipeline.initial", $"must be between min ({min}) and max ({max}), got {initial}");
        }
        return new RequestPipelineSettings(initial, min, max);
    }

    private static TimeSpan ReadMaxBackoff(ConfigReader r, string section)
    {
        var min = r.GetDuration(section + ".min-backoff");
        var max = r.GetDuration(section + ".max-backoff");
        return max >= min
            ? max
            : throw new BtaConfigException(section + ".max-backoff", $"must be at least min-backoff ({min}), got {max}");
    }

    private static LogEventLevel ReadLogLevel(ConfigReader r, string key)
    {
        var raw = r.GetString(key);
        return TryParseLogLevel(raw, out var level)
            ? level
            : throw new BtaConfigException(
                key, $"expected Verbose, Debug, Information, Warning, Error or Fatal, got '{raw}'");
    }
}

/// <summary>Outstanding block requests per peer: a new peer starts at Initial, adapted between Min and Max.</summary>
public sealed record RequestPipelineSettings(int Initial, int Min, int Max);

public sealed record TimeoutSettings(TimeSpan Connect, TimeSpan Handshake, TimeSpan Request, TimeSpan Idle);

public sealed record PeerRetrySettings(TimeSpan MinBackoff, TimeSpan MaxBackoff, int MaxAttempts);

public sealed record TrackerSettings(int NumWant, TimeSpan MinBackoff, TimeSpan MaxBackoff, TimeSpan Timeout)
{
    /// <summary>BEP 15: wait 15 * 2^n s after send n; tests shorten the 15 s.</summary>
    public TimeSpan UdpBaseTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Sends of one UDP request before the tracker counts as down (BEP 15 allows up to 9, n = 0..8).</summary>
    public int UdpAttempts { get; init; } = 3;
}

public sealed record ResumeSettings(TimeSpan SaveInterval);

/// <summary>Choking and upload limits; RateLimit is bytes per second, 0 = unlimited.</summary>
public sealed record UploadSettings(
    int UnchokeSlots,
    TimeSpan OptimisticUnchokeInterval,
    TimeSpan RechokeInterval,
    long RateLimit,
    int MaxRequestsPerPeer)
{
    /// <summary>Bytes unsent in a peer's outbox plus blocks being read for it, above which no further block is
    /// read (bta.upload.max-unsent-per-peer).</summary>
    public long MaxUnsentPerPeer { get; init; } = 512 * 1024;
}

/// <summary>RateLimit is bytes per second, 0 = unlimited.</summary>
/// <param name="MaxBufferedBytes">Bytes of pieces started but not yet verified and written: bounds the memory
/// blocks wait in, and how far ahead of the disk the peers may run.</param>
public sealed record DownloadSettings(long RateLimit, long MaxBufferedBytes)
{
    /// <summary>No block for this long while peers are connected: one warning with the state that explains it.</summary>
    public TimeSpan StallWarning { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Verified pieces are written past the page cache (O_DIRECT, Linux) where the file system allows.</summary>
    public bool DirectWrites { get; init; } = true;
}

/// <summary>Minimum level for bta and Akka logs; File is empty when only the console is written.</summary>
public sealed record LoggingSettings(LogEventLevel Level, string File);
