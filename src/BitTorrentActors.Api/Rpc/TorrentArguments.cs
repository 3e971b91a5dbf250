using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Api.Rpc;

/// <summary>The file keys of torrent-add and torrent-set (<c>files-wanted</c>, <c>files-unwanted</c>,
/// <c>priority-high</c>/<c>-normal</c>/<c>-low</c>): indices into the torrent's file list, where an empty list
/// means every file (rpc-spec.md 3.2).</summary>
public sealed record FileChanges(
    IReadOnlyList<int>? Wanted,
    IReadOnlyList<int>? Unwanted,
    IReadOnlyList<int>? High,
    IReadOnlyList<int>? Normal,
    IReadOnlyList<int>? Low)
{
    public bool IsEmpty => Wanted is null && Unwanted is null && High is null && Normal is null && Low is null;

    public static FileChanges Parse(RpcArguments a) => new(
        a.Indices("files-wanted"), a.Indices("files-unwanted"),
        a.Indices("priority-high"), a.Indices("priority-normal"), a.Indices("priority-low"));

    /// <summary>The selection after these changes, starting from <paramref name="wanted"/> and
    /// <paramref name="priorities"/>; null when nothing changes.</summary>
    /// <exception cref="RpcArgumentException">an index is past the torrent's last file.</exception>
    public FileSelection? ApplyTo(IReadOnlyList<bool> wanted, IReadOnlyList<FilePriority> priorities)
    {
        if (IsEmpty)
        {
            return null;
        }
        var w = wanted.ToArray();
        var p = priorities.ToArray();
        Each(Wanted, w.Length, i => w[i] = true);
        Each(Unwanted, w.Length, i => w[i] = false);
        Each(High, w.Length, i => p[i] = FilePriority.High);
        Each(Normal, w.Length, i => p[i] = FilePriority.Normal);
        Each(Low, w.Length, i => p[i] = FilePriority.Low);
        return new FileSelection(w, p);
    }

    public FileSelection? ApplyTo(IReadOnlyList<FileStatus> files) =>
        ApplyTo([.. files.Select(f => f.Wanted)], [.. files.Select(f => f.Priority)]);

    private static void Each(IReadOnlyList<int>? indices, int count, Action<int> apply)
    {
        if (indices is null)
        {
            return;
        }
        if (indices.Count == 0)
        {
            for (var i = 0; i < count; i++)
            {
                apply(i);
            }
            return;
        }
        foreach (var index in indices)
        {
            if (index >= count)
            {
                throw new RpcArgumentException($"file index {index} is out of range: the torrent has {count} files");
            }
            apply(index);
        }
    }
}

/// <summary>torrent-set's arguments, as bta can apply them.</summary>
public static class TorrentSetArguments
{
    /// <summary>The option change for one torrent (<paramref name="files"/>: its files now, for the file keys).</summary>
    public static TorrentOptionsUpdate Parse(RpcArguments a, FileChanges changes, IReadOnlyList<FileStatus>? files)
    {
        double? ratio = a.Int("seedRatioMode", 0, 2) switch
        {
            // 0 = the session's limit, 2 = unlimited: both clear the torrent's own limit (bta's session limit is
            // "seed until stopped" unless set).
            0 or 2 => double.NaN,
            _ => a.Double("seedRatioLimit", 0, 1_000_000),
        };
        return new TorrentOptionsUpdate(
            Files: files is null ? null : changes.ApplyTo(files),
            DownloadLimit: SessionFields.Limit(a, "downloadLimit", "downloadLimited"),
            UploadLimit: SessionFields.Limit(a, "uploadLimit", "uploadLimited"),
            SeedRatio: ratio,
            PeerLimit: a.Int("peer-limit", 1, 100_000));
    }
}
