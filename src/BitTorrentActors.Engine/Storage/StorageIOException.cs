namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// A disk error on one of the torrent's files, with the torrent-relative path, so the writer can report one line
/// such as <c>"name/a.bin: Access to the path ... is denied."</c> without losing the cause.
/// </summary>
public sealed class StorageIOException : IOException
{
    public StorageIOException(string relativePath, Exception inner)
        : base($"{relativePath}: {OneLine(inner.Message)}", inner)
    {
        RelativePath = relativePath;
    }

    public string RelativePath { get; }

    // OS messages sometimes carry a trailing newline; the coordinator prints the reason as one line.
    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();
}
