using System.Collections.Frozen;
using System.Text.Json;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Api.Rpc;

/// <summary>What one torrent field is computed from: the torrent's status, its details when a field needs them
/// (files, peers, trackers, pieces), the session's settings and the time of the request.</summary>
public sealed record TorrentFieldSource(
    TorrentStatus Status,
    TorrentDetails? Details,
    SessionSettingsSnapshot Session,
    DateTimeOffset Now);

/// <summary>
/// Transmission's <c>torrent-get</c> fields (rpc-spec.md section 3.3, as Transmission 3.00 writes them): every
/// field <c>transmission-remote</c> 3.00 reads for -l, -i, -f, -pi, -it, and what the Transmission web UI reads.
/// Rates are bytes per second, limits kB/s (1000 bytes), dates Unix seconds (0 = never). A field bta does not
/// know is left out of the reply, as Transmission does.
/// </summary>
public static class TorrentFields
{
    /// <summary>Transmission's <c>eta</c> when there is nothing to wait for.</summary>
    public const int EtaNotAvailable = -1;

    /// <summary>Transmission's <c>eta</c> while nothing arrives.</summary>
    public const int EtaUnknown = -2;

    private delegate void FieldWriter(Utf8JsonWriter writer, TorrentFieldSource source);

    /// <summary>Fields that need <see cref="TorrentDetails"/> (one more walk of files, peers and trackers).</summary>
    private static readonly FrozenSet<string> DetailFields = new[]
    {
        "comment", "creator", "dateCreated", "files", "fileStats", "magnetLink", "peers", "peersFrom", "pieces",
        "priorities", "trackers", "trackerStats", "wanted", "file-count",
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, FieldWriter> Writers = new Dictionary<string, FieldWriter>(StringComparer.Ordinal)
    {
        ["activityDate"] = (w, s) => w.WriteNumberValue(Unix(s.Status.ActivityAt)),
        ["addedDate"] = (w, s) => w.WriteNumberValue(Unix(s.Status.AddedAt)),
        ["bandwidthPriority"] = (w, _) => w.WriteNumberValue(0),
        // bta's own: the cluster node hosting the torrent (cluster hostname:port); "" for a single-node daemon.
        ["bta-node"] = (w, s) => w.WriteStringValue(s.Status.Node ?? ""),
        ["comment"] = (w, s) => w.WriteStringValue(s.Details?.Comment ?? ""),
        ["corruptEver"] = (w, _) => w.WriteNumberValue(0),
        ["creator"] = (w, s) => w.WriteStringValue(s.Details?.Creator ?? ""),
        ["dateCreated"] = (w, s) => w.WriteNumberValue(Unix(s.Details?.DateCreated)),
        ["desiredAvailable"] = (w, s) => w.WriteNumberValue(s.Status.PeersSendingToUs > 0 ? s.Status.LeftUntilDone : 0),
        ["doneDate"] = (w, s) => w.WriteNumberValue(Unix(s.Status.DoneAt)),
        ["downloadDir"] = (w, s) => w.WriteStringValue(s.Status.DownloadDirectory),
        ["downloadedEver"] = (w, s) => w.WriteNumberValue(s.Status.DownloadedEver),
        ["downloadLimit"] = (w, s) => w.WriteNumberValue(Kilo(s.Status.DownloadLimit)),
        ["downloadLimited"] = (w, s) => w.WriteBooleanValue(s.Status.DownloadLimit > 0),
        ["editDate"] = (w, _) => w.WriteNumberValue(0),
        ["error"] = (w, s) => w.WriteNumberValue(ErrorCode(s.Status)),
        ["errorString"] = (w, s) => w.WriteStringValue(s.Status.Error ?? ""),
        ["eta"] = (w, s) => w.WriteNumberValue(Eta(s.Status)),
        ["etaIdle"] = (w, _) => w.WriteNumberValue(EtaNotAvailable),
        ["file-count"] = (w, s) => w.WriteNumberValue(s.Details?.Files.Count ?? 0),
        ["files"] = (w, s) => WriteFiles(w, s.Details),
        ["fileStats"] = (w, s) => WriteFileStats(w, s.Details),
        ["hashString"] = (w, s) => w.WriteStringValue(s.Status.InfoHash.ToHex()),
        ["haveUnchecked"] = (w, _) => w.WriteNumberValue(0),
        ["haveValid"] = (w, s) => w.WriteNumberValue(s.Status.VerifiedBytes),
        ["honorsSessionLimits"] = (w, _) => w.WriteBooleanValue(true),
        ["id"] = (w, s) => w.WriteNumberValue(s.Status.Id),
        ["isFinished"] = (w, s) => w.WriteBooleanValue(s.Status.Activity == TorrentActivity.Finished),
        ["isPrivate"] = (w, s) => w.WriteBooleanValue(s.Status.IsPrivate),
        ["isStalled"] = (w, _) => w.WriteBooleanValue(false),
        ["labels"] = (w, _) => { w.WriteStartArray(); w.WriteEndArray(); },
        ["leftUntilDone"] = (w, s) => w.WriteNumberValue(s.Status.LeftUntilDone),
        ["magnetLink"] = (w, s) => w.WriteStringValue(s.Details?.MagnetLink ?? ""),
        ["manualAnnounceTime"] = (w, _) => w.WriteNumberValue(-1),
        ["maxConnectedPeers"] = (w, s) => w.WriteNumberValue(s.Session.PeerLimitPerTorrent),
        ["metadataPercentComplete"] = (w, s) => w.WriteNumberValue(s.Status.MetadataPercentComplete),
        ["name"] = (w, s) => w.WriteStringValue(s.Status.Name),
        ["peer-limit"] = (w, s) => w.WriteNumberValue(s.Session.PeerLimitPerTorrent),
        ["peers"] = (w, s) => WritePeers(w, s.Details),
        ["peersConnected"] = (w, s) => w.WriteNumberValue(s.Status.ConnectedPeers),
        ["peersFrom"] = (w, s) => WritePeersFrom(w, s.Details),
        ["peersGettingFromUs"] = (w, s) => w.WriteNumberValue(s.Status.PeersGettingFromUs),
        ["peersSendingToUs"] = (w, s) => w.WriteNumberValue(s.Status.PeersSendingToUs),
        ["percentDone"] = (w, s) => w.WriteNumberValue(PercentDone(s.Status)),
        ["pieceCount"] = (w, s) => w.WriteNumberValue(s.Status.PieceCount),
        ["pieces"] = (w, s) => w.WriteBase64StringValue(s.Details?.VerifiedPieces ?? []),
        ["pieceSize"] = (w, s) => w.WriteNumberValue(s.Status.PieceSize),
        ["priorities"] = (w, s) => WriteEach(w, s.Details, f => w.WriteNumberValue((int)f.Priority)),
        ["queuePosition"] = (w, s) => w.WriteNumberValue(s.Status.QueuePosition),
        ["rateDownload"] = (w, s) => w.WriteNumberValue(s.Status.DownloadRate),
        ["rateUpload"] = (w, s) => w.WriteNumberValue(s.Status.UploadRate),
        ["recheckProgress"] = (w, s) => w.WriteNumberValue(RecheckProgress(s.Status)),
        ["secondsDownloading"] = (w, _) => w.WriteNumberValue(0),
        ["secondsSeeding"] = (w, _) => w.WriteNumberValue(0),
        ["seedIdleLimit"] = (w, _) => w.WriteNumberValue(30),
        ["seedIdleMode"] = (w, _) => w.WriteNumberValue(0),
        ["seedRatioLimit"] = (w, s) => w.WriteNumberValue(s.Status.SeedRatio ?? s.Session.SeedRatioLimit),
        ["seedRatioMode"] = (w, s) => w.WriteNumberValue(SeedRatioMode(s)),
        ["sizeWhenDone"] = (w, s) => w.WriteNumberValue(SizeWhenDone(s.Status)),
        ["startDate"] = (w, s) => w.WriteNumberValue(s.Status.Activity.IsRunning() ? Unix(s.Status.ActivityAt) : 0),
        ["status"] = (w, s) => w.WriteNumberValue(s.Status.Activity.TransmissionStatus()),
        ["torrentFile"] = (w, _) => w.WriteStringValue(""),
        ["totalSize"] = (w, s) => w.WriteNumberValue(s.Status.TotalSize),
        ["trackers"] = (w, s) => WriteTrackers(w, s.Details),
        ["trackerStats"] = (w, s) => WriteTrackerStats(w, s.Details, s.Status),
        ["uploadedEver"] = (w, s) => w.WriteNumberValue(s.Status.UploadedEver),
        ["uploadLimit"] = (w, s) => w.WriteNumberValue(Kilo(s.Status.UploadLimit)),
        ["uploadLimited"] = (w, s) => w.WriteBooleanValue(s.Status.UploadLimit > 0),
        ["uploadRatio"] = (w, s) => w.WriteNumberValue(Ratio(s.Status)),
        ["wanted"] = (w, s) => WriteEach(w, s.Details, f => w.WriteNumberValue(f.Wanted ? 1 : 0)),
        ["webseeds"] = (w, _) => { w.WriteStartArray(); w.WriteEndArray(); },
        ["webseedsSendingToUs"] = (w, _) => w.WriteNumberValue(0),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Every field bta answers, in name order.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Writers.Keys.Order(StringComparer.Ordinal)];

    public static bool IsKnown(string field) => Writers.ContainsKey(field);

    /// <summary>True when one of <paramref name="fields"/> needs the torrent's details.</summary>
    public static bool NeedDetails(IEnumerable<string> fields) => fields.Any(DetailFields.Contains);

    /// <summary>Writes one torrent as an object of the known <paramref name="fields"/> (unknown ones left out).</summary>
    public static void WriteObject(Utf8JsonWriter writer, IReadOnlyList<string> fields, TorrentFieldSource source)
    {
        writer.WriteStartObject();
        foreach (var field in fields)
        {
            if (Writers.TryGetValue(field, out var write))
            {
                writer.WritePropertyName(field);
                write(writer, source);
            }
        }
        writer.WriteEndObject();
    }

    /// <summary>Writes one torrent as an array of values in the order of <paramref name="fields"/> (the
    /// <c>"format": "table"</c> of rpc-version 16; every field there must be known).</summary>
    public static void WriteRow(Utf8JsonWriter writer, IReadOnlyList<string> fields, TorrentFieldSource source)
    {
        writer.WriteStartArray();
        foreach (var field in fields)
        {
            Writers[field](writer, source);
        }
        writer.WriteEndArray();
    }

    /// <summary>Transmission's <c>sizeWhenDone</c>: the bytes of every piece that is wanted or already verified
    /// (a file deselected after it arrived still counts, as transmission-remote's Have column shows).</summary>
    public static long SizeWhenDone(TorrentStatus status) => status.VerifiedBytes + status.LeftUntilDone;

    /// <summary>(sizeWhenDone - leftUntilDone) / sizeWhenDone, 1 for an empty torrent (Transmission 3.00's rule).</summary>
    public static double PercentDone(TorrentStatus status)
    {
        var size = SizeWhenDone(status);
        // A magnet without its metadata has no size yet: nothing is done (Transmission shows 0%).
        return !status.HasMetadata ? 0 : size == 0 ? 1 : Math.Round(status.VerifiedBytes / (double)size, 4);
    }

    /// <summary>Seconds until the wanted bytes are in at the current rate (Transmission's <c>eta</c>).</summary>
    public static long Eta(TorrentStatus status)
    {
        if (status.Activity != TorrentActivity.Downloading || status.LeftUntilDone == 0)
        {
            return EtaNotAvailable;
        }
        return status.DownloadRate > 0 ? status.LeftUntilDone / status.DownloadRate : EtaUnknown;
    }

    /// <summary>Uploaded over downloaded (or over verified bytes for a torrent that was never downloaded, as
    /// Transmission 3.00 does); -1 when both are zero, -2 for infinity.</summary>
    public static double Ratio(TorrentStatus status)
    {
        var downloaded = status.DownloadedEver > 0 ? status.DownloadedEver : status.VerifiedBytes;
        if (downloaded > 0)
        {
            return Math.Round(status.UploadedEver / (double)downloaded, 4);
        }
        return status.UploadedEver > 0 ? -2 : -1;
    }

    /// <summary>0 none, 3 a local error (1 and 2, tracker warning and error, are not told apart in bta yet).</summary>
    public static int ErrorCode(TorrentStatus status) => status.Error is null ? 0 : 3;

    public static long Unix(DateTimeOffset? time) => time is { } t ? t.ToUnixTimeSeconds() : 0;

    private static long Kilo(long bytesPerSecond) => bytesPerSecond / 1000;

    private static double RecheckProgress(TorrentStatus status) =>
        status.Activity == TorrentActivity.Checking && status.PieceCount > 0
            ? Math.Round(status.VerifiedPieces / (double)status.PieceCount, 4)
            : 0;

    /// <summary>0 the session's limit (what the status reports when the torrent has none of its own), 1 the
    /// torrent's own (2, unlimited, bta expresses as the session's limit being off).</summary>
    private static int SeedRatioMode(TorrentFieldSource s) =>
        s.Status.SeedRatio is not { } ratio || (s.Session.SeedRatioLimited && ratio == s.Session.SeedRatioLimit) ? 0 : 1;

    private static void WriteEach(Utf8JsonWriter w, TorrentDetails? details, Action<FileStatus> write)
    {
        w.WriteStartArray();
        foreach (var file in details?.Files ?? [])
        {
            write(file);
        }
        w.WriteEndArray();
    }

    private static void WriteFiles(Utf8JsonWriter w, TorrentDetails? details)
    {
        w.WriteStartArray();
        foreach (var file in details?.Files ?? [])
        {
            w.WriteStartObject();
            w.WriteNumber("bytesCompleted", file.BytesCompleted);
            w.WriteNumber("length", file.Length);
            w.WriteString("name", file.Path);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteFileStats(Utf8JsonWriter w, TorrentDetails? details)
    {
        w.WriteStartArray();
        foreach (var file in details?.Files ?? [])
        {
            w.WriteStartObject();
            w.WriteNumber("bytesCompleted", file.BytesCompleted);
            w.WriteBoolean("wanted", file.Wanted);
            w.WriteNumber("priority", (int)file.Priority);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WritePeers(Utf8JsonWriter w, TorrentDetails? details)
    {
        w.WriteStartArray();
        foreach (var peer in details?.Peers ?? [])
        {
            w.WriteStartObject();
            w.WriteString("address", peer.Address);
            w.WriteString("clientName", peer.Client);
            w.WriteBoolean("clientIsChoked", peer.AmChoking);
            w.WriteBoolean("clientIsInterested", peer.AmInterested);
            w.WriteString("flagStr", FlagString(peer));
            w.WriteBoolean("isDownloadingFrom", peer.DownloadRate > 0);
            w.WriteBoolean("isEncrypted", false);
            w.WriteBoolean("isIncoming", peer.Incoming);
            w.WriteBoolean("isUploadingTo", peer.UploadRate > 0);
            w.WriteBoolean("isUTP", false);
            w.WriteBoolean("peerIsChoked", peer.AmChoking);
            w.WriteBoolean("peerIsInterested", peer.PeerInterested);
            w.WriteNumber("port", peer.Port);
            w.WriteNumber("progress", Math.Round(peer.Progress, 4));
            w.WriteNumber("rateToClient", peer.DownloadRate);
            w.WriteNumber("rateToPeer", peer.UploadRate);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Transmission's peer flags: D downloading from, d we want to but are choked, U uploading to,
    /// u they want to but we choke them, I incoming.</summary>
    public static string FlagString(PeerSummary peer)
    {
        var flags = new System.Text.StringBuilder(4);
        if (peer.DownloadRate > 0)
        {
            flags.Append('D');
        }
        else if (peer.AmInterested && peer.PeerChoking)
        {
            flags.Append('d');
        }
        if (peer.UploadRate > 0)
        {
            flags.Append('U');
        }
        else if (peer.PeerInterested && peer.AmChoking)
        {
            flags.Append('u');
        }
        if (peer.Incoming)
        {
            flags.Append('I');
        }
        return flags.ToString();
    }

    private static void WritePeersFrom(Utf8JsonWriter w, TorrentDetails? details)
    {
        var peers = details?.Peers ?? [];
        var incoming = peers.Count(p => p.Incoming);
        w.WriteStartObject();
        w.WriteNumber("fromCache", 0);
        w.WriteNumber("fromDht", 0);
        w.WriteNumber("fromIncoming", incoming);
        w.WriteNumber("fromLpd", 0);
        w.WriteNumber("fromLtep", 0);
        w.WriteNumber("fromPex", 0);
        w.WriteNumber("fromTracker", peers.Count - incoming);
        w.WriteEndObject();
    }

    private static void WriteTrackers(Utf8JsonWriter w, TorrentDetails? details)
    {
        w.WriteStartArray();
        var id = 0;
        foreach (var tracker in details?.Trackers ?? [])
        {
            w.WriteStartObject();
            w.WriteString("announce", tracker.Url);
            w.WriteNumber("id", id++);
            w.WriteString("scrape", ScrapeUrl(tracker.Url));
            w.WriteNumber("tier", tracker.Tier);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteTrackerStats(Utf8JsonWriter w, TorrentDetails? details, TorrentStatus status)
    {
        w.WriteStartArray();
        var id = 0;
        foreach (var tracker in details?.Trackers ?? [])
        {
            var announced = tracker.LastAnnounceTime is not null;
            w.WriteStartObject();
            w.WriteString("announce", tracker.Url);
            // 0 inactive, 1 waiting, 2 queued, 3 announcing (Transmission's tr_tracker_state).
            w.WriteNumber("announceState", status.Activity.IsRunning() ? 1 : 0);
            w.WriteNumber("downloadCount", -1);
            w.WriteBoolean("hasAnnounced", announced);
            w.WriteBoolean("hasScraped", false);
            w.WriteString("host", HostOf(tracker.Url));
            w.WriteNumber("id", id++);
            w.WriteBoolean("isBackup", false);
            w.WriteNumber("lastAnnouncePeerCount", tracker.LastAnnouncePeerCount);
            w.WriteString("lastAnnounceResult", tracker.LastAnnounceResult);
            w.WriteNumber("lastAnnounceStartTime", Unix(tracker.LastAnnounceTime));
            w.WriteBoolean("lastAnnounceSucceeded", tracker.LastAnnounceSucceeded);
            w.WriteNumber("lastAnnounceTime", Unix(tracker.LastAnnounceTime));
            w.WriteBoolean("lastAnnounceTimedOut", false);
            w.WriteString("lastScrapeResult", "");
            w.WriteNumber("lastScrapeStartTime", 0);
            w.WriteBoolean("lastScrapeSucceeded", false);
            w.WriteNumber("lastScrapeTime", 0);
            w.WriteBoolean("lastScrapeTimedOut", false);
            w.WriteNumber("leecherCount", -1);
            w.WriteNumber("nextAnnounceTime", Unix(tracker.NextAnnounceTime));
            w.WriteNumber("nextScrapeTime", 0);
            w.WriteString("scrape", ScrapeUrl(tracker.Url));
            w.WriteNumber("scrapeState", 0);
            w.WriteNumber("seederCount", -1);
            w.WriteNumber("tier", tracker.Tier);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static string HostOf(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}" : url;

    /// <summary>BEP 48's convention: the last "announce" of the path becomes "scrape"; else no scrape URL.</summary>
    private static string ScrapeUrl(string announce)
    {
        var slash = announce.LastIndexOf('/');
        return slash >= 0 && string.CompareOrdinal(announce, slash + 1, "announce", 0, 8) == 0
            ? string.Concat(announce.AsSpan(0, slash + 1), "scrape", announce.AsSpan(slash + 9))
            : "";
    }
}
