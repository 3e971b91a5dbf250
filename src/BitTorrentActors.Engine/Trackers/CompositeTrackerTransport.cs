using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Trackers;

/// <summary>
/// Picks the transport by the URL's scheme: HTTP(S) or UDP. This is what the tracker actor, <c>bta peers</c> and
/// <c>bta scrape</c> use; any other scheme (wss://, file://, a typo) is refused with <see cref="Unsupported"/>.
/// </summary>
public sealed class CompositeTrackerTransport : ITrackerTransport, ITrackerScraper
{
    private readonly IReadOnlyList<ITrackerTransport> _transports;

    public CompositeTrackerTransport(params ITrackerTransport[] transports)
    {
        ArgumentNullException.ThrowIfNull(transports);
        _transports = transports;
    }

    /// <summary>HTTP with the tracker timeout, UDP with the BEP 15 schedule over <paramref name="udp"/>.</summary>
    public static CompositeTrackerTransport FromSettings(TrackerSettings settings, UdpTrackerSocket udp, HttpClient? http = null) =>
        new(HttpTrackerTransport.FromSettings(settings, http), UdpTrackerTransport.FromSettings(settings, udp));

    /// <summary>The one line that says why a tracker URL is not used.</summary>
    public static string Unsupported(string url)
    {
        var scheme = Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Scheme + "://" : "no scheme";
        return $"unsupported tracker URL ({scheme}): only http, https and udp trackers are used";
    }

    public bool Supports(string url) => _transports.Any(t => t.Supports(url));

    public Task<AnnounceResult> AnnounceAsync(string url, AnnounceRequest request, CancellationToken cancellationToken) =>
        _transports.FirstOrDefault(t => t.Supports(url)) is { } transport
            ? transport.AnnounceAsync(url, request, cancellationToken)
            : Task.FromResult(AnnounceResult.Fail(new TrackerFailure(Unsupported(url))));

    public Task<ScrapeResult> ScrapeAsync(
        string announceUrl, IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken) =>
        _transports.OfType<ITrackerScraper>().FirstOrDefault(t => t.Supports(announceUrl)) is { } scraper
            ? scraper.ScrapeAsync(announceUrl, infoHashes, cancellationToken)
            : Task.FromResult(ScrapeResult.Fail(new TrackerFailure(Unsupported(announceUrl))));
}
