using System.Text.Json;
using System.Text.Json.Serialization;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Magnet;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Session;

/// <summary>What the daemon keeps of one torrent besides its piece resume data: the options a user set and
/// the last known progress, so a restart shows paused torrents as they were without a check.</summary>
public sealed record StoredTorrent(
    string InfoHash,
    int Id,
    string DownloadDirectory,
    bool Paused,
    bool Seed,
    double? SeedRatio,
    bool[] FilesWanted,
    int[] FilePriorities,
    long DownloadLimit,
    long UploadLimit,
    int QueuePosition,
    DateTimeOffset AddedAt,
    DateTimeOffset? DoneAt,
    long DownloadedEver,
    long UploadedEver,
    string VerifiedPieces,
    string? Error);

/// <summary>Session-wide state: the next torrent id and the settings changed through the RPC.</summary>
public sealed record StoredSession(
    int NextId,
    string? DownloadDirectory,
    long? DownloadLimit,
    long? UploadLimit,
    int? MaxActiveDownloads,
    int? MaxActiveSeeds,
    bool? QueueEnabled,
    double? SeedRatioLimit,
    bool? SeedRatioLimited,
    long DownloadedEver,
    long UploadedEver);

/// <summary>One torrent read back from the state folder: with its .torrent, or (a magnet still fetching its
/// metadata) with its <see cref="Magnet"/> alone.</summary>
public sealed record LoadedTorrent(StoredTorrent Stored, byte[]? TorrentFile, TorrentMetainfo? Metainfo)
{
    public MagnetLink? Magnet { get; init; }

    public InfoHash InfoHash => Metainfo?.InfoHash ?? Magnet!.InfoHash;
}

/// <summary>
/// The daemon's torrent list on disk, as Transmission keeps it: <c>torrents/&lt;info-hash&gt;.torrent</c> (the
/// metainfo as added) and <c>torrents/&lt;info-hash&gt;.json</c> (<see cref="StoredTorrent"/>) per torrent, and
/// <c>session.json</c>. A torrent added from a magnet has <c>torrents/&lt;info-hash&gt;.magnet</c> (the link, one
/// line) instead of the .torrent until its metadata arrives; then the .torrent is written and the .magnet removed. Every write goes to a temporary file that is flushed and renamed over the old one, so a
/// SIGKILL leaves the old or the new file, never half of one. Plain blocking I/O: only
/// <see cref="SessionStoreActor"/> calls it, on the I/O dispatcher.
/// </summary>
public sealed class SessionStore
{
    private readonly string _torrents;
    private readonly string _sessionFile;

    public SessionStore(string stateDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateDirectory);
        Directory = Path.GetFullPath(stateDirectory);
        _torrents = Path.Combine(Directory, "torrents");
        _sessionFile = Path.Combine(Directory, "session.json");
    }

    public string Directory { get; }

    /// <summary>Every torrent that reads back whole; each one that does not is one problem line, and the
    /// others still load.</summary>
    public (IReadOnlyList<LoadedTorrent> Torrents, StoredSession? Session, IReadOnlyList<string> Problems) Load()
    {
        var problems = new List<string>();
        var torrents = new List<LoadedTorrent>();
        System.IO.Directory.CreateDirectory(_torrents);
        StoredSession? session = null;
        if (File.Exists(_sessionFile))
        {
            try
            {
                session = JsonSerializer.Deserialize(File.ReadAllBytes(_sessionFile), SessionStoreJson.Default.StoredSession);
            }
            catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
            {
                problems.Add($"{_sessionFile}: unreadable session state, using the defaults ({ex.Message})");
            }
        }
        foreach (var json in System.IO.Directory.EnumerateFiles(_torrents, "*.json").Order(StringComparer.Ordinal))
        {
            if (ReadOne(json, out var loaded, out var problem))
            {
                torrents.Add(loaded);
            }
            else
            {
                problems.Add(problem);
            }
        }
        return (torrents, session, problems);
    }

    public void SaveTorrentFile(InfoHash infoHash, byte[] torrentFile) =>
        WriteAtomically(Path.Combine(_torrents, infoHash.ToHex() + ".torrent"), torrentFile);

    public void SaveMagnet(MagnetLink magnet) =>
        WriteAtomically(MagnetPath(magnet.InfoHash), System.Text.Encoding.UTF8.GetBytes(magnet + "\n"));

    /// <summary>A magnet's metadata arrived: its .torrent is written, then its .magnet removed (a kill between
    /// the two leaves both, and Load prefers the .torrent), so a restart never fetches it again.</summary>
    public void SaveFetchedTorrent(InfoHash infoHash, byte[] torrentFile)
    {
        SaveTorrentFile(infoHash, torrentFile);
        File.Delete(MagnetPath(infoHash));
    }

    public void SaveTorrent(StoredTorrent torrent) =>
        WriteAtomically(Path.Combine(_torrents, torrent.InfoHash + ".json"), JsonSerializer.SerializeToUtf8Bytes(torrent, SessionStoreJson.Default.StoredTorrent));

    public void SaveSession(StoredSession session) =>
        WriteAtomically(_sessionFile, JsonSerializer.SerializeToUtf8Bytes(session, SessionStoreJson.Default.StoredSession));

    public void DeleteTorrent(InfoHash infoHash)
    {
        // The .json first: a kill between the two leaves an orphaned .torrent, which Load ignores.
        File.Delete(Path.Combine(_torrents, infoHash.ToHex() + ".json"));
        File.Delete(Path.Combine(_torrents, infoHash.ToHex() + ".torrent"));
        File.Delete(MagnetPath(infoHash));
    }

    private string MagnetPath(InfoHash infoHash) => Path.Combine(_torrents, infoHash.ToHex() + ".magnet");

    private bool ReadOne(string jsonPath, out LoadedTorrent loaded, out string problem)
    {
        loaded = null!;
        problem = "";
        try
        {
            var stored = JsonSerializer.Deserialize(File.ReadAllBytes(jsonPath), SessionStoreJson.Default.StoredTorrent)
                ?? throw new JsonException("empty");
            if (!InfoHash.TryParseHex(stored.InfoHash, out var hash) || !string.Equals(
                    Path.GetFileNameWithoutExtension(jsonPath), stored.InfoHash, StringComparison.OrdinalIgnoreCase))
            {
                problem = $"{jsonPath}: the info-hash inside does not match the file name; torrent skipped";
                return false;
            }
            var torrentPath = Path.ChangeExtension(jsonPath, ".torrent");
            if (!File.Exists(torrentPath) && File.Exists(MagnetPath(hash)))
            {
                return ReadMagnet(stored, hash, out loaded, out problem);
            }
            var bytes = File.ReadAllBytes(torrentPath);
            var parsed = TorrentMetainfo.Parse(bytes);
            if (parsed.Metainfo is not { } metainfo)
            {
                problem = $"{torrentPath}: {parsed.Error}; torrent skipped";
                return false;
            }
            if (metainfo.InfoHash != hash)
            {
                problem = $"{torrentPath}: its info-hash is {metainfo.InfoHash}, not {hash}; torrent skipped";
                return false;
            }
            if (stored.FilesWanted.Length != metainfo.Files.Count || stored.FilePriorities.Length != metainfo.Files.Count)
            {
                stored = stored with
                {
                    FilesWanted = Enumerable.Repeat(true, metainfo.Files.Count).ToArray(),
                    FilePriorities = new int[metainfo.Files.Count],
                };
            }
            loaded = new LoadedTorrent(stored, bytes, metainfo);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            problem = $"{jsonPath}: unreadable ({ex.Message}); torrent skipped";
            return false;
        }
    }

    private bool ReadMagnet(StoredTorrent stored, InfoHash hash, out LoadedTorrent loaded, out string problem)
    {
        loaded = null!;
        var path = MagnetPath(hash);
        var info = new FileInfo(path);
        // A link is a line; a big file here is not one of ours.
        if (info.Length > MaxMagnetBytes)
        {
            problem = $"{path}: {info.Length} bytes is too long for a magnet link; torrent skipped";
            return false;
        }
        var text = File.ReadAllText(path).Trim();
        if (!MagnetLink.TryParse(text, out var magnet, out var error))
        {
            problem = $"{path}: {error}; torrent skipped";
            return false;
        }
        if (magnet.InfoHash != hash)
        {
            problem = $"{path}: its info-hash is {magnet.InfoHash}, not {hash}; torrent skipped";
            return false;
        }
        problem = "";
        loaded = new LoadedTorrent(stored with { FilesWanted = [], FilePriorities = [] }, null, null) { Magnet = magnet };
        return true;
    }

    /// <summary>The longest .magnet file read back (and so the longest link the session stores).</summary>
    public const int MaxMagnetBytes = 64 * 1024;

    private static void WriteAtomically(string path, byte[] bytes)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The stored form of a file selection.</summary>
    public static FileSelection ToSelection(StoredTorrent stored) =>
        new(stored.FilesWanted, [.. stored.FilePriorities.Select(p => (FilePriority)Math.Clamp(p, -1, 1))]);
}

/// <summary>The session files' JSON, generated at build time: indented, nulls left out. No reflection, so a Native
/// AOT build keeps its session too (with the reflection resolver, StoredSession's double? had no native code there;
/// issue 14).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StoredSession))]
[JsonSerializable(typeof(StoredTorrent))]
internal sealed partial class SessionStoreJson : JsonSerializerContext;
