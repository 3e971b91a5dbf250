using System.Net;
using System.Security.Cryptography;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Trackers;

namespace BitTorrentActors.Engine.Session;

/// <summary>
/// What the session owns for all its torrents and lends to their actors: the UDP service (BEP 15 trackers and the
/// DHT on one socket) bound to bta.listen-address, the HTTP client, the tracker key (BEP 7: one per session) and the
/// session-wide rate limits. Created in the session actor's PreStart and disposed in its PostStop, so two actor
/// systems in one process share nothing. The objects here are thread-safe services, not actor state.
/// </summary>
public sealed class SessionServices : IDisposable
{
    /// <param name="addressFilter">Overrides the destinations allowed (tests prove the guard with one that
    /// refuses even loopback); null: loopback only when bta.session.loopback-only is on, else any.</param>
    public SessionServices(BtaSettings settings, Func<IPAddress, bool>? addressFilter = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var guarded = addressFilter is not null || settings.Session.LoopbackOnly;
        AddressFilter = addressFilter ?? (settings.Session.LoopbackOnly ? IPAddress.IsLoopback : static _ => true);
        Network = new UdpService(settings.ListenAddress, AddressFilter);
        Udp = new UdpTrackerSocket(Network);
        Http = HttpTrackerTransport.CreateClient(guarded ? AddressFilter : null);
        TrackerKey = BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(sizeof(uint)));
        DownloadLimit = new RateLimiter(settings.Session.DownloadRateLimit);
        UploadLimit = new RateLimiter(settings.Session.UploadRateLimit);
        TrackerTransport = new CompositeTrackerTransport(
            HttpTrackerTransport.FromSettings(settings.Tracker, Http),
            UdpTrackerTransport.FromSettings(settings.Tracker, Udp));
    }

    /// <summary>The session's one UDP socket (per family), shared by the DHT node and the UDP tracker client;
    /// the session binds it to the DHT port before any torrent starts.</summary>
    public UdpService Network { get; }

    /// <summary>The UDP tracker client, on <see cref="Network"/>.</summary>
    public UdpTrackerSocket Udp { get; }

    public HttpClient Http { get; }

    /// <summary>The aligned buffers every torrent's direct writes copy through: as many kept as writes can run at
    /// once on this machine's cores (a torrent writes one piece at a time).</summary>
    public Storage.StagingBuffers Staging { get; } = new(keep: Math.Clamp(Environment.ProcessorCount, 2, 8));

    public uint TrackerKey { get; }

    /// <summary>Every torrent's download limiter books here too (session-wide cap).</summary>
    public RateLimiter DownloadLimit { get; }

    /// <summary>Every torrent's upload limiter books here too (session-wide cap).</summary>
    public RateLimiter UploadLimit { get; }

    /// <summary>False for an address the session must never contact (bta.session.loopback-only).</summary>
    public Func<IPAddress, bool> AddressFilter { get; }

    public CompositeTrackerTransport TrackerTransport { get; }

    public void Dispose()
    {
        Udp.Dispose();
        Network.Dispose();
        Http.Dispose();
    }
}
