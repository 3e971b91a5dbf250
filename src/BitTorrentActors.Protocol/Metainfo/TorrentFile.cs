namespace BitTorrentActors.Protocol.Metainfo;

/// <summary>
/// One file of a torrent after path sanitising. <see cref="Path"/> is relative, uses '/', and starts with the
/// sanitised torrent name for a multi-file torrent (<c>Name/dir/file</c>); for a single-file torrent it is the
/// name alone. <see cref="PathElements"/> are the same elements, so <c>Path == string.Join('/', PathElements)</c>.
/// </summary>
public sealed record TorrentFile(string Path, IReadOnlyList<string> PathElements, long Length, long Offset, bool IsPadFile)
{
    /// <summary>First byte after this file in the torrent's concatenated byte stream.</summary>
    public long End => Offset + Length;
}

/// <summary>
/// The part of one file that a torrent byte range covers: <see cref="Length"/> bytes at <see cref="FileOffset"/>
/// in file <see cref="FileIndex"/>, found at <see cref="BufferOffset"/> in the caller's piece or block buffer.
/// <see cref="IsPadding"/> marks BEP 47 pad files: hashed as zeros, never written to disk.
/// </summary>
public readonly record struct FileSpan(int FileIndex, long FileOffset, int Length, int BufferOffset, bool IsPadding);
