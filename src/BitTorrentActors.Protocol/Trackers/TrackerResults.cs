using System.Net;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Trackers;

/// <summary>
/// Why an announce or scrape did not produce peers. <see cref="FromTracker"/> tells a tracker's own
/// <c>failure reason</c> (it answered and refused) from a reply we could not understand (broken tracker, proxy page).
/// </summary>
public sealed record TrackerFailure(string Reason, bool FromTracker = false)
{
    public override string ToString() => Reason;
}

/// <summary>A successful announce, from HTTP or UDP. Intervals are already clamped (see <see cref="TrackerIntervals"/>).</summary>
public sealed record AnnounceResponse(
    TimeSpan Interval,
    TimeSpan? MinInterval,
    string? TrackerId,
    int? Complete,
    int? Incomplete,
    IReadOnlyList<IPEndPoint> Peers,
    string? WarningMessage);

/// <summary>Either an <see cref="AnnounceResponse"/> or a <see cref="TrackerFailure"/>, never both.</summary>
public readonly record struct AnnounceResult(AnnounceResponse? Response, TrackerFailure? Failure)
{
    public bool Success => Response is not null;

    public static AnnounceResult Ok(AnnounceResponse response) => new(response, null);

    public static AnnounceResult Fail(TrackerFailure failure) => new(null, failure);
}

/// <summary>Swarm counts for one torrent: seeders, leechers, completed downloads.</summary>
public sealed record ScrapeEntry(InfoHash InfoHash, int Complete, int Incomplete, int Downloaded);

/// <summary>Either scrape entries keyed by info-hash or a <see cref="TrackerFailure"/>, never both.</summary>
public readonly record struct ScrapeResult(IReadOnlyDictionary<InfoHash, ScrapeEntry>? Files, TrackerFailure? Failure)
{
    public bool Success => Files is not null;

    public static ScrapeResult Ok(IReadOnlyDictionary<InfoHash, ScrapeEntry> files) => new(files, null);

    public static ScrapeResult Fail(TrackerFailure failure) => new(null, failure);
}

/// <summary>
/// Bounds for tracker-supplied intervals. A tracker saying "interval 0" would have us hammer it, one saying
/// a year would let our peer list go stale, so every interval is clamped to <see cref="Minimum"/>..<see cref="Maximum"/>.
/// </summary>
public static class TrackerIntervals
{
    public static readonly TimeSpan Minimum = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan Maximum = TimeSpan.FromHours(2);

    public static TimeSpan Clamp(long seconds) =>
        TimeSpan.FromSeconds(Math.Clamp(seconds, (long)Minimum.TotalSeconds, (long)Maximum.TotalSeconds));

    /// <summary>Clamps and also keeps the minimum interval no longer than the regular interval.</summary>
    internal static TimeSpan? ClampMin(long? seconds, TimeSpan interval) =>
        seconds is { } s ? TimeSpan.FromTicks(Math.Min(Clamp(s).Ticks, interval.Ticks)) : null;

    /// <summary>Counts are non-negative and fit an int; anything else from a tracker is noise.</summary>
    internal static int? Count(long? value) => value is >= 0 and <= int.MaxValue ? (int)value.Value : null;
}
