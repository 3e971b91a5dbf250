using Akka.Actor;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Session;

/// <summary>What the session should do once a torrent's coordinator has stopped.</summary>
internal enum AfterStop
{
    Nothing,
    Restart,
    Verify,
    Remove,
    RemoveWithData,
    Move,
}

/// <summary>
/// The session's record of one torrent: its identity and options, the coordinator running it (if any), and the
/// last progress it reported. Plain mutable state owned by <see cref="TorrentSessionActor"/> alone.
/// </summary>
internal sealed class TorrentEntry
{
    public TorrentEntry(int id, TorrentMetainfo metainfo, byte[] torrentFile, string directory, DateTimeOffset addedAt)
    {
        Id = id;
        Metainfo = metainfo;
        TorrentFile = torrentFile;
        Directory = directory;
        AddedAt = addedAt;
        Files = FileSelection.All(metainfo.Files.Count);
        Verified = new Bitfield(metainfo.PieceCount);
        WantedBytes = metainfo.TotalLength;
    }

    public int Id { get; }

    public InfoHash InfoHash => Metainfo.InfoHash;

    public TorrentMetainfo Metainfo { get; }

    public byte[] TorrentFile { get; }

    public string Directory { get; set; }

    public DateTimeOffset AddedAt { get; }

    public DateTimeOffset? DoneAt { get; set; }

    public DateTimeOffset? ActivityAt { get; set; }

    /// <summary>The user stopped it (Transmission's paused); the queue never starts it.</summary>
    public bool Paused { get; set; }

    /// <summary>Started with torrent-start-now: runs whatever the queue says.</summary>
    public bool ForceStart { get; set; }

    public bool Seed { get; set; } = true;

    /// <summary>The torrent's own seed ratio; null: the session's.</summary>
    public double? SeedRatio { get; set; }

    public FileSelection Files { get; set; }

    public long DownloadLimit { get; set; }

    public long UploadLimit { get; set; }

    /// <summary>The torrent's own connection limit; 0: the session's.</summary>
    public int PeerLimit { get; set; }

    public int QueuePosition { get; set; }

    public IActorRef? Coordinator { get; set; }

    /// <summary>Incremented for every coordinator started, so a new one never reuses a stopping one's name.</summary>
    public int Generation { get; set; }

    public TorrentActivity Activity { get; set; } = TorrentActivity.QueuedToCheck;

    public string? Error { get; set; }

    public AfterStop AfterStop { get; set; }

    /// <summary>A stop was sent to the coordinator and it has not ended yet.</summary>
    public bool Stopping { get; set; }

    /// <summary>The run ends finished (seed ratio reached), not queued.</summary>
    public bool Finish { get; set; }

    /// <summary>Peers given at add, handed to every coordinator started for the torrent.</summary>
    public IReadOnlyList<System.Net.IPEndPoint> PendingPeers { get; set; } = [];

    /// <summary>The folder a pending move goes to.</summary>
    public string? MoveTo { get; set; }

    /// <summary>The running coordinator only checks the data, then stops (a verify of a paused torrent).</summary>
    public bool CheckOnly { get; set; }

    /// <summary>Set once a check of this data has run in this session or a saved bitfield was loaded.</summary>
    public bool Checked { get; set; }

    public Bitfield Verified { get; set; }

    public long VerifiedBytes { get; set; }

    public long WantedBytes { get; set; }

    public long WantedVerifiedBytes { get; set; }

    public bool WantedComplete => Checked && WantedVerifiedBytes >= WantedBytes;

    /// <summary>Totals of earlier runs; the running coordinator's own come on top.</summary>
    public long DownloadedBefore { get; set; }

    public long UploadedBefore { get; set; }

    public TorrentCoordinator.Progress? Last { get; set; }

    public long DownloadedEver => DownloadedBefore + (Last?.Downloaded ?? 0);

    public long UploadedEver => UploadedBefore + (Last?.Uploaded ?? 0);

    /// <summary>Folds the running coordinator's totals into the earlier ones once it has stopped.</summary>
    public void EndRun(long downloaded, long uploaded)
    {
        DownloadedBefore += downloaded;
        UploadedBefore += uploaded;
        Last = null;
    }

    /// <summary>Recomputes the wanted byte counts from <see cref="Verified"/> and <see cref="Files"/>.</summary>
    public void RecountWanted()
    {
        var priorities = Files.PiecePriorities(Metainfo);
        long wanted = 0, verified = 0, have = 0;
        for (var piece = 0; piece < priorities.Length; piece++)
        {
            var size = Metainfo.GetPieceSize(piece);
            var isVerified = Verified.Get(piece);
            if (isVerified)
            {
                have += size;
            }
            if (priorities[piece] == 0)
            {
                continue;
            }
            wanted += size;
            if (isVerified)
            {
                verified += size;
            }
        }
        WantedBytes = wanted;
        WantedVerifiedBytes = verified;
        VerifiedBytes = have;
    }

    public TorrentStatus Status(SessionSettingsSnapshot session) => new(
        InfoHash,
        Id,
        Metainfo.Name,
        Directory,
        Activity,
        Error,
        Metainfo.TotalLength,
        Metainfo.PieceCount,
        Metainfo.PieceLength,
        Verified.Count,
        VerifiedBytes,
        WantedBytes,
        WantedVerifiedBytes,
        Coordinator is null ? 0 : Last?.DownloadRate ?? 0,
        Coordinator is null ? 0 : Last?.UploadRate ?? 0,
        DownloadedEver,
        UploadedEver,
        Coordinator is null ? 0 : Last?.Peers ?? 0,
        Coordinator is null ? 0 : Last?.PeerList.Count(p => p.DownloadRate > 0) ?? 0,
        Coordinator is null ? 0 : Last?.PeerList.Count(p => p.UploadRate > 0) ?? 0,
        QueuePosition,
        AddedAt,
        DoneAt,
        ActivityAt,
        Metainfo.IsPrivate,
        DownloadLimit,
        UploadLimit,
        SeedRatio ?? (session.SeedRatioLimited ? session.SeedRatioLimit : null));

    public TorrentDetails Details(SessionSettingsSnapshot session)
    {
        var layout = Metainfo.Layout;
        var files = new List<FileStatus>(layout.Files.Count);
        for (var file = 0; file < layout.Files.Count; file++)
        {
            var entry = layout.Files[file];
            files.Add(new FileStatus(entry.Path, entry.Length, CompletedBytes(entry), Files.IsWanted(file), Files.PriorityOf(file)));
        }
        var trackers = Last?.Trackers ?? [];
        if (trackers.Count == 0)
        {
            trackers = Metainfo.AnnounceTiers.SelectMany((tier, index) =>
                tier.Select(url => new TrackerSummary(url, index, false, "", null, 0, null))).ToArray();
        }
        return new TorrentDetails(
            Status(session),
            files.ToArray(),
            Coordinator is null ? Array.Empty<PeerSummary>() : Last?.PeerList ?? Array.Empty<PeerSummary>(),
            trackers,
            Verified.AsSpan().ToArray(),
            Metainfo.Comment,
            Metainfo.CreatedBy,
            Metainfo.CreationDate,
            MagnetLink());
    }

    public StoredTorrent ToStored() => new(
        InfoHash.ToHex(),
        Id,
        Directory,
        Paused,
        Seed,
        SeedRatio,
        [.. Files.Wanted],
        [.. Files.Priorities.Select(p => (int)p)],
        DownloadLimit,
        UploadLimit,
        QueuePosition,
        AddedAt,
        DoneAt,
        DownloadedEver,
        UploadedEver,
        Convert.ToBase64String(Verified.AsSpan()),
        Activity == TorrentActivity.Failed ? Error : null);

    /// <summary>The paths, relative to <see cref="Directory"/>, of every file the torrent may have created.</summary>
    public IReadOnlyList<string> RelativePaths() =>
        [.. Metainfo.Files.Where(f => !f.IsPadFile).Select(f => f.Path)];

    /// <summary>The torrent's own folder for a multi-file torrent (removed when empty after a delete or move).</summary>
    public string? TopFolder => Metainfo.IsMultiFile ? Metainfo.Files.FirstOrDefault()?.PathElements.FirstOrDefault() : null;

    private long CompletedBytes(Protocol.Metainfo.TorrentFile file)
    {
        if (file.Length == 0)
        {
            return 0;
        }
        var pieceLength = (long)Metainfo.PieceLength;
        var first = (int)(file.Offset / pieceLength);
        var last = (int)((file.End - 1) / pieceLength);
        long done = 0;
        for (var piece = first; piece <= last; piece++)
        {
            if (!Verified.Get(piece))
            {
                continue;
            }
            var start = Math.Max(file.Offset, piece * pieceLength);
            var end = Math.Min(file.End, (piece * pieceLength) + Metainfo.GetPieceSize(piece));
            done += end - start;
        }
        return done;
    }

    private string MagnetLink()
    {
        var link = $"magnet:?xt=urn:btih:{InfoHash.ToHex()}&dn={Uri.EscapeDataString(Metainfo.Name)}";
        foreach (var url in Metainfo.AnnounceTiers.SelectMany(t => t))
        {
            link += "&tr=" + Uri.EscapeDataString(url);
        }
        return link;
    }
}
