using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Session;

/// <summary>
/// The session's disk work, off the session's own thread (on the I/O dispatcher): the torrent list in the state
/// folder (<see cref="SessionStore"/>; absent when the session keeps no list, as for <c>bta download</c>), and
/// the file jobs a front-end asks for: deleting a torrent's data, forgetting its resume data before a re-check,
/// moving its data to another folder. Writes run in the order they were sent, so the last save wins.
/// </summary>
public sealed class SessionStoreActor : ReceiveActor
{
    public sealed record Load
    {
        public static readonly Load Instance = new();
    }

    public sealed record Loaded(IReadOnlyList<LoadedTorrent> Torrents, StoredSession? Session, IReadOnlyList<string> Problems);

    /// <summary>Reply <see cref="Flushed"/> once every write sent before it is done.</summary>
    public sealed record Flush
    {
        public static readonly Flush Instance = new();
    }

    public sealed record Flushed
    {
        public static readonly Flushed Instance = new();
    }

    public sealed record SaveTorrentFile(InfoHash InfoHash, byte[] Bytes);

    public sealed record SaveTorrent(StoredTorrent Torrent);

    /// <summary>Keep a magnet added without metadata (<c>torrents/&lt;hash&gt;.magnet</c>).</summary>
    public sealed record SaveMagnet(Protocol.Magnet.MagnetLink Magnet);

    /// <summary>A magnet's metadata arrived: write its .torrent, then remove its .magnet.</summary>
    public sealed record SaveFetchedTorrent(InfoHash InfoHash, byte[] Bytes);

    public sealed record SaveSession(StoredSession Session);

    public sealed record DeleteTorrent(InfoHash InfoHash);

    /// <summary>Delete the torrent's files (and its resume data) under <paramref name="Directory"/>, then reply
    /// <see cref="JobDone"/>.</summary>
    public sealed record DeleteData(InfoHash InfoHash, string Directory, IReadOnlyList<string> RelativePaths, string? TopFolder);

    /// <summary>Delete the torrent's resume data so the next start checks every piece; reply <see cref="JobDone"/>.</summary>
    public sealed record ForgetResume(InfoHash InfoHash, string Directory);

    /// <summary>Move the torrent's files from one folder to another; reply <see cref="JobDone"/>.</summary>
    public sealed record MoveData(InfoHash InfoHash, string From, string To, IReadOnlyList<string> RelativePaths, string? TopFolder);

    /// <summary>A file job finished; <paramref name="Error"/> says why it did not, in one line.</summary>
    public sealed record JobDone(InfoHash InfoHash, string Job, string? Error);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly SessionStore? _store;

    public SessionStoreActor(SessionStore? store)
    {
        _store = store;
        Receive<Load>(_ => OnLoad());
        Receive<Flush>(_ => Sender.Tell(Flushed.Instance));
        Receive<SaveTorrentFile>(m => Persist("torrent file", () => _store?.SaveTorrentFile(m.InfoHash, m.Bytes)));
        Receive<SaveTorrent>(m => Persist("torrent state", () => _store?.SaveTorrent(m.Torrent)));
        Receive<SaveMagnet>(m => Persist("magnet link", () => _store?.SaveMagnet(m.Magnet)));
        Receive<SaveFetchedTorrent>(m => Persist("fetched torrent file", () => _store?.SaveFetchedTorrent(m.InfoHash, m.Bytes)));
        Receive<SaveSession>(m => Persist("session state", () => _store?.SaveSession(m.Session)));
        Receive<DeleteTorrent>(m => Persist("torrent removal", () => _store?.DeleteTorrent(m.InfoHash)));
        Receive<DeleteData>(m => Job(m.InfoHash, "delete-data", () => DeleteFiles(m)));
        Receive<ForgetResume>(m => Job(m.InfoHash, "verify", () => File.Delete(ResumeStore.PathFor(m.Directory, m.InfoHash))));
        Receive<MoveData>(m => Job(m.InfoHash, "move", () => MoveFiles(m)));
    }

    public static Props Props(SessionStore? store) =>
        Akka.Actor.Props.Create(() => new SessionStoreActor(store)).WithDispatcher(BtaSettings.IoDispatcherId);

    private void OnLoad()
    {
        if (_store is null)
        {
            Sender.Tell(new Loaded([], null, []));
            return;
        }
        try
        {
            var (torrents, session, problems) = _store.Load();
            Sender.Tell(new Loaded(torrents, session, problems));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Sender.Tell(new Loaded([], null, [$"{_store.Directory}: cannot read the state folder ({ex.Message})"]));
        }
    }

    private void Persist(string what, Action write)
    {
        try
        {
            write();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The daemon goes on; the next save of the same state tries again.
            _log.Error("Cannot save the {What} in {Folder}: {Reason}", what, _store?.Directory, ex.Message);
        }
    }

    private void Job(InfoHash infoHash, string job, Action work)
    {
        string? error = null;
        try
        {
            work();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            error = ex.Message;
        }
        Sender.Tell(new JobDone(infoHash, job, error));
    }

    private static void DeleteFiles(DeleteData job)
    {
        foreach (var relative in job.RelativePaths)
        {
            DeleteIfPresent(Inside(job.Directory, relative));
        }
        if (job.TopFolder is { } top)
        {
            RemoveEmptyFolders(Inside(job.Directory, top));
        }
        DeleteIfPresent(ResumeStore.PathFor(job.Directory, job.InfoHash));
    }

    /// <summary>A file never created (not started yet, or an unwanted file) is not an error, nor is its missing
    /// folder (File.Delete throws for that one): the other files are still deleted.</summary>
    private static void DeleteIfPresent(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    private static void MoveFiles(MoveData job)
    {
        foreach (var relative in job.RelativePaths)
        {
            var from = Inside(job.From, relative);
            if (!File.Exists(from))
            {
                continue;
            }
            var to = Inside(job.To, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Move(from, to, overwrite: false);
        }
        if (job.TopFolder is { } top)
        {
            RemoveEmptyFolders(Inside(job.From, top));
        }
        var resume = ResumeStore.PathFor(job.From, job.InfoHash);
        if (File.Exists(resume))
        {
            var target = ResumeStore.PathFor(job.To, job.InfoHash);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(resume, target, overwrite: true);
        }
    }

    /// <summary>The full path of a torrent's relative path, refused when it would leave the folder (the metainfo
    /// parser already sanitises every path; this is the second lock on the door that deletes).</summary>
    private static string Inside(string folder, string relative)
    {
        var root = Path.GetFullPath(folder);
        var full = Path.GetFullPath(Path.Combine(root, relative));
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return full.StartsWith(prefix, StringComparison.Ordinal)
            ? full
            : throw new ArgumentException($"{relative} is outside {root}");
    }

    private static void RemoveEmptyFolders(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }
        foreach (var child in Directory.EnumerateDirectories(folder))
        {
            RemoveEmptyFolders(child);
        }
        if (!Directory.EnumerateFileSystemEntries(folder).Any())
        {
            Directory.Delete(folder);
        }
    }
}
