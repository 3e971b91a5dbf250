using Akka.Actor;
using BitTorrentActors.Engine.Metadata;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Magnet;
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
    /// <summary>Cluster handoff: the torrent is parked (kept on disk and in the list, not run or shown).</summary>
    Park,
}

/// <summary>
/// The session's record of one torrent: its identity and options, the coordinator running it (if any), and the
/// last progress it reported. Plain mutable state owned by <see cref="TorrentSessionActor"/> alone. A torrent
/// added from a magnet has its identity (<see cref="Magnet"/>) before its metainfo: until the metadata arrives
/// <see cref="Metainfo"/> is null, it has no files and no size, and <see cref="Coordinator"/> is its
/// <see cref="MetadataFetcherActor"/> while it runs.
/// </summary>
internal sealed class TorrentEntry
{
    public TorrentEntry(int id, TorrentMetainfo metainfo, byte[] torrentFile, string directory, DateTimeOffset addedAt)
    {
        Id = id;
        InfoHash = metainfo.InfoHash;
        Directory = directory;
        AddedAt = addedAt;
        Files = FileSelection.All(0);
        Verified = new Bitfield(0);
        SetMetainfo(metainfo, torrentFile);
    }

    public TorrentEntry(int id, MagnetLink magnet, string directory, DateTimeOffset addedAt)
    {
        Id = id;
        InfoHash = magnet.InfoHash;
        Magnet = magnet;
        Directory = directory;
        AddedAt = addedAt;
        Files = FileSelection.All(0);
        Verified = new Bitfield(0);
    }

    public int Id { get; }

    public InfoHash InfoHash { get; }

    /// <summary>Null until a magnet's metadata has arrived.</summary>
    public TorrentMetainfo? Metainfo { get; private set; }

    public byte[]? TorrentFile { get; private set; }

    /// <summary>The link the torrent was added from; null for a torrent added from its .torrent.</summary>
    public MagnetLink? Magnet { get; }

    /// <summary>True while the torrent is known by its magnet alone (<see cref="Coordinator"/> is then a fetcher).</summary>
    public bool NeedsMetadata => Metainfo is null;

    /// <summary>The coordinator when one runs (never the metadata fetcher): what torrent commands go to.</summary>
    public IActorRef? RunningCoordinator => Metainfo is null ? null : Coordinator;

    /// <summary>The torrent's name, or while a magnet waits for its metadata, the link's <c>dn</c> made safe for
    /// display (it is never used as a path), else the info-hash in hex (as Transmission shows it).</summary>
    public string Name => Metainfo?.Name ?? MagnetNames.DisplayName(Magnet?.DisplayName, InfoHash);

    /// <summary>The fetcher's last report while a magnet fetches its metadata.</summary>
    public MetadataFetcherActor.FetchProgress? Fetch { get; set; }

    /// <summary>A file selection given at add, before the magnet's metadata said how many files there are;
    /// applied when it arrives if the counts agree.</summary>
    public FileSelection? PendingFiles { get; set; }

    /// <summary>The metadata is here and its fetcher is still closing its connections: no coordinator yet.</summary>
    public bool AwaitingFetcherEnd { get; set; }

    /// <summary>The peers the metadata fetcher knew, for the first coordinator only.</summary>
    public IReadOnlyList<System.Net.IPEndPoint> FetchedPeers { get; set; } = [];

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

    /// <summary>Cluster mode: kept in this node's state folder but hosted elsewhere (or not yet claimed by its
    /// shard entity): never scheduled, listed or commanded until an add claims it
    /// (<see cref="SessionOptions.Sharded"/>).</summary>
    public bool Parked { get; set; }

    /// <summary>Who asked for the park (a shard entity handing off): told once the coordinator has stopped.</summary>
    public IActorRef? ParkRequester { get; set; }

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

    /// <summary>Gives a magnet its metainfo (or a torrent its own at add): files all wanted, nothing verified.</summary>
    public void SetMetainfo(TorrentMetainfo metainfo, byte[] torrentFile)
    {
        Metainfo = metainfo;
        TorrentFile = torrentFile;
        Files = FileSelection.All(metainfo.Files.Count);
        Verified = new Bitfield(metainfo.PieceCount);
        WantedBytes = metainfo.TotalLength;
        Fetch = null;
    }

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
        if (Metainfo is null)
        {
            WantedBytes = WantedVerifiedBytes = VerifiedBytes = 0;
            return;
        }
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
        Name,
        Directory,
        Activity,
        Error,
        Metainfo?.TotalLength ?? 0,
        Metainfo?.PieceCount ?? 0,
        Metainfo?.PieceLength ?? 0,
        Verified.Count,
        VerifiedBytes,
        WantedBytes,
        WantedVerifiedBytes,
        Coordinator is null ? 0 : Last?.DownloadRate ?? 0,
        Coordinator is null ? 0 : Last?.UploadRate ?? 0,
        DownloadedEver,
        UploadedEver,
        Coordinator is null ? 0 : Metainfo is null ? Fetch?.PeersConnected ?? 0 : Last?.Peers ?? 0,
        Coordinator is null ? 0 : Last?.PeerList.Count(p => p.DownloadRate > 0) ?? 0,
        Coordinator is null ? 0 : Last?.PeerList.Count(p => p.UploadRate > 0) ?? 0,
        QueuePosition,
        AddedAt,
        DoneAt,
        ActivityAt,
        Metainfo?.IsPrivate ?? false,
        DownloadLimit,
        UploadLimit,
        SeedRatio ?? (session.SeedRatioLimited ? session.SeedRatioLimit : null))
    {
        // All pieces in is not yet metadata: the hash check and the parse follow.
        MetadataPercentComplete = Metainfo is null ? Math.Min(Fetch?.Fraction ?? 0, 0.999) : 1,
        MetadataPeersOffering = Metainfo is null && Coordinator is not null ? Fetch?.PeersOffering ?? 0 : 0,
    };

    public TorrentDetails Details(SessionSettingsSnapshot session)
    {
        var files = new List<FileStatus>();
        if (Metainfo is { } metainfo)
        {
            var layout = metainfo.Layout;
            for (var file = 0; file < layout.Files.Count; file++)
            {
                var entry = layout.Files[file];
                files.Add(new FileStatus(entry.Path, entry.Length, CompletedBytes(entry), Files.IsWanted(file), Files.PriorityOf(file)));
            }
        }
        var trackers = Last?.Trackers ?? [];
        if (trackers.Count == 0)
        {
            // A magnet's trackers, one tier each (as its metadata torrent will have them).
            IEnumerable<IEnumerable<string>> tiers = Metainfo?.AnnounceTiers ?? (IEnumerable<IEnumerable<string>>)Magnet!.Trackers.Select(url => new[] { url });
            trackers = tiers.SelectMany((tier, index) =>
                tier.Select(url => new TrackerSummary(url, index, false, "", null, 0, null))).ToArray();
        }
        return new TorrentDetails(
            Status(session),
            files.ToArray(),
            Coordinator is null ? Array.Empty<PeerSummary>() : Last?.PeerList ?? Array.Empty<PeerSummary>(),
            trackers,
            Verified.AsSpan().ToArray(),
            Metainfo?.Comment,
            Metainfo?.CreatedBy,
            Metainfo?.CreationDate,
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
        Metainfo is null ? [] : [.. Metainfo.Files.Where(f => !f.IsPadFile).Select(f => f.Path)];

    /// <summary>The torrent's own folder for a multi-file torrent (removed when empty after a delete or move).</summary>
    public string? TopFolder => Metainfo is { IsMultiFile: true } m ? m.Files.FirstOrDefault()?.PathElements.FirstOrDefault() : null;

    private long CompletedBytes(Protocol.Metainfo.TorrentFile file)
    {
        if (file.Length == 0 || Metainfo is null)
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
        if (Metainfo is null)
        {
            return Magnet!.ToString();
        }
        var link = $"magnet:?xt=urn:btih:{InfoHash.ToHex()}&dn={Uri.EscapeDataString(Metainfo.Name)}";
        foreach (var url in Metainfo.AnnounceTiers.SelectMany(t => t))
        {
            link += "&tr=" + Uri.EscapeDataString(url);
        }
        return link;
    }
}
