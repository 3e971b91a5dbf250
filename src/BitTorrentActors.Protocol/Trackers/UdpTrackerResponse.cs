namespace BitTorrentActors.Protocol.Trackers;

/// <summary>BEP 15 action codes. <see cref="Unknown"/> marks a packet too short to carry one.</summary>
public enum UdpTrackerAction
{
    Unknown = -1,
    Connect = 0,
    Announce = 1,
    Scrape = 2,
    Error = 3,
}

/// <summary>Counts for one scraped torrent, in the order the hashes were requested (BEP 15 replies carry no hashes).</summary>
public readonly record struct ScrapeCounts(int Complete, int Incomplete, int Downloaded);

/// <summary>
/// A decoded UDP tracker packet. <see cref="Action"/> and <see cref="TransactionId"/> are filled in whenever the
/// packet had them, even when invalid, so the caller can match it to its request and log what arrived; which of
/// the other members is set depends on the action.
/// </summary>
public sealed record UdpTrackerResponse(UdpTrackerAction Action, int TransactionId)
{
    /// <summary>Why the packet was refused; null when valid.</summary>
    public string? InvalidReason { get; init; }

    public bool IsValid => InvalidReason is null;

    /// <summary>For <see cref="UdpTrackerAction.Connect"/>.</summary>
    public long ConnectionId { get; init; }

    /// <summary>For <see cref="UdpTrackerAction.Announce"/>: seeders are Complete, leechers Incomplete.</summary>
    public AnnounceResponse? Announce { get; init; }

    /// <summary>For <see cref="UdpTrackerAction.Scrape"/>.</summary>
    public IReadOnlyList<ScrapeCounts> Scrape { get; init; } = [];

    /// <summary>For <see cref="UdpTrackerAction.Error"/>: the tracker's message, UTF-8 decoded.</summary>
    public string? ErrorMessage { get; init; }
}
