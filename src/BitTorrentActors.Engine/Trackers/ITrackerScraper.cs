using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Trackers;

/// <summary>
/// Swarm counts from one tracker (BEP 48 over HTTP, BEP 15 scrape over UDP). Separate from
/// <see cref="ITrackerTransport"/> so scripted announce transports in tests need not implement it. Like announces,
/// every problem comes back as a <see cref="TrackerFailure"/>, never as an exception.
/// </summary>
public interface ITrackerScraper
{
    bool Supports(string url);

    Task<ScrapeResult> ScrapeAsync(string announceUrl, IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken);
}
