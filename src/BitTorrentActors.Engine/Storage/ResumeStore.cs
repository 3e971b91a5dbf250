using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// Where a torrent's resume file lives and how it is read and replaced: <c>&lt;download dir&gt;/.bta/&lt;infohash&gt;.resume</c>,
/// beside the content rather than inside the torrent's folder, so it cannot collide with a torrent file path
/// (<see cref="TorrentStorage"/> keeps torrents out of <c>.bta</c>). Every write goes to a fresh temporary file in the
/// same folder, is flushed to disk, then renamed over the old one: a reader, or a run after a crash, sees the old file
/// or the new one, never a mix. Blocking calls: run them on worker tasks (or, tiny, at stop).
/// </summary>
public sealed class ResumeStore
{
    /// <summary>The hidden folder under the download directory holding every torrent's resume file.</summary>
    public const string FolderName = ".bta";

    private const string TempSuffix = ".tmp";
    private readonly TorrentMetainfo _metainfo;

    public ResumeStore(string downloadDirectory, TorrentMetainfo metainfo)
    {
        ArgumentException.ThrowIfNullOrEmpty(downloadDirectory);
        _metainfo = metainfo;
        Folder = Path.Combine(Path.GetFullPath(downloadDirectory), FolderName);
        FilePath = Path.Combine(Folder, metainfo.InfoHash.ToHex() + ".resume");
    }

    public string Folder { get; }

    /// <summary>Where the resume file of <paramref name="infoHash"/> lives under <paramref name="downloadDirectory"/>.</summary>
    public static string PathFor(string downloadDirectory, InfoHash infoHash) =>
        Path.Combine(Path.GetFullPath(downloadDirectory), FolderName, infoHash.ToHex() + ".resume");

    public string FilePath { get; }

    /// <summary>The outcome of <see cref="Load"/>: the data, or why there is none (null when simply absent).</summary>
    public readonly record struct LoadResult(ResumeData? Data, string? Problem);

    /// <summary>
    /// Reads the resume file, deleting temporaries a crash left behind (they were never renamed, so never
    /// trusted). Never throws for a bad or unreadable file: that is a <see cref="LoadResult.Problem"/>.
    /// </summary>
    public LoadResult Load()
    {
        DeleteLeftoverTemporaries();
        return Read();
    }

    /// <summary>Reads the resume file and nothing else: safe to call while its writer runs (tests, tools).</summary>
    public LoadResult Read()
    {
        byte[] bytes;
        try
        {
            if (!File.Exists(FilePath))
            {
                return new LoadResult(null, null);
            }
            bytes = File.ReadAllBytes(FilePath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new LoadResult(null, $"unreadable: {ex.Message}");
        }
        var data = ResumeData.Decode(bytes, _metainfo, out var problem);
        return new LoadResult(data, problem);
    }

    /// <summary>Replaces the resume file atomically (temporary file, flush to disk, rename).</summary>
    public void Save(ResumeData data)
    {
        var folder = Directory.CreateDirectory(Folder);
        if (OperatingSystem.IsWindows() && !folder.Attributes.HasFlag(FileAttributes.Hidden))
        {
            // Unix hides it by its leading dot; Windows needs the attribute.
            folder.Attributes |= FileAttributes.Hidden;
        }
        // A name of its own per write: a save still running at stop can never interleave with the final one.
        // A random name (no process-wide counter): two writers of one torrent, in two sessions, never share a temporary.
        var temp = $"{FilePath}.{Environment.ProcessId}-{Guid.NewGuid():N}{TempSuffix}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(data.Encode());
                // The rename may reach the disk before the bytes otherwise, leaving an empty file after a power cut.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, FilePath, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private void DeleteLeftoverTemporaries()
    {
        if (!Directory.Exists(Folder))
        {
            return;
        }
        try
        {
            foreach (var leftover in Directory.EnumerateFiles(Folder, Path.GetFileName(FilePath) + ".*" + TempSuffix))
            {
                TryDelete(leftover);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only litter: the real file is read either way.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the next load to clean.
        }
    }
}
