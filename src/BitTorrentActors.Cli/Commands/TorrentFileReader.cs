using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Cli.Commands;

/// <summary>Reads and parses a .torrent file; every failure is a <see cref="CliException"/> naming the file.</summary>
public static class TorrentFileReader
{
    /// <summary>Largest .torrent file read (checked before reading it).</summary>
    public static int MaxFileSize => TorrentLimits.Default.MaxTorrentFileSize;

    public static async Task<TorrentMetainfo> LoadAsync(string path, CancellationToken cancellationToken) =>
        (await LoadWithBytesAsync(path, cancellationToken).ConfigureAwait(false)).Metainfo;

    /// <summary>The parsed torrent and the bytes it came from (what a session stores and re-parses).</summary>
    public static async Task<(TorrentMetainfo Metainfo, byte[] Bytes)> LoadWithBytesAsync(string path, CancellationToken cancellationToken)
    {
        var bytes = await ReadAsync(path, cancellationToken).ConfigureAwait(false);
        var result = TorrentMetainfo.Parse(bytes);
        return result.Success
            ? (result.Metainfo, bytes)
            : throw new CliException($"{path}: not a valid torrent: {result.Error}");
    }

    public static async Task<byte[]> ReadAsync(string path, CancellationToken cancellationToken)
    {
        if (Directory.Exists(path))
        {
            throw new CliException($"{path}: is a directory, not a .torrent file");
        }
        try
        {
            await using var stream = new FileStream(
                path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous);
            if (stream.Length > MaxFileSize)
            {
                throw new CliException(
                    $"{path}: {stream.Length} bytes is over the {MaxFileSize} byte limit for a .torrent file");
            }
            var bytes = new byte[stream.Length];
            await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            return bytes;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CliException($"{path}: file not found");
        }
        catch (UnauthorizedAccessException)
        {
            throw new CliException($"{path}: permission denied");
        }
        catch (EndOfStreamException)
        {
            throw new CliException($"{path}: the file shrank while it was read");
        }
        catch (IOException ex)
        {
            throw new CliException($"{path}: cannot read: {ex.Message}");
        }
    }
}
