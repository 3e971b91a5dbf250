using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Trackers;

/// <summary>
/// One announce to one tracker URL. The seam lets HTTP work now and UDP (BEP 15) slot in later behind a
/// composite, and lets tests script answers. Implementations never throw for network or tracker trouble: every
/// problem comes back as a <see cref="TrackerFailure"/> so the caller has one path for "it did not work".
/// </summary>
public interface ITrackerTransport
{
    /// <summary>Whether this transport speaks the URL's scheme; the actor skips (and reports once) the others.</summary>
    bool Supports(string url);

    Task<AnnounceResult> AnnounceAsync(string url, AnnounceRequest request, CancellationToken cancellationToken);
}
