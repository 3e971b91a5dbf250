using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Protocol.Metainfo;
using Microsoft.Win32.SafeHandles;

namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// <c>bta create PATH [-o FILE] [--tracker URL[,URL]]... [--web-seed URL]... [--piece-size N] [--private]
/// [--comment C] [--source S]</c>: a v1 torrent of a file or a folder. Pieces are hashed on every core, reading
/// each piece's bytes straight from the files, with a progress line.
/// </summary>
public sealed class CreateCommand : ICommand
{
    public static readonly OptionSpec Output = new(
        "--output", "Where to write the torrent. Default: <name>.torrent in the current folder.", "FILE", Alias: "-o");

    public static readonly OptionSpec Tracker = new(
        "--tracker", "Announce URL; repeat for more tiers, separate URLs of one tier by commas.", "URL[,URL]",
        Repeatable: true, Alias: "-t");

    public static readonly OptionSpec WebSeed = new(
        "--web-seed", "HTTP(S) URL serving the same content (BEP 19 url-list); repeatable.", "URL", Repeatable: true, Alias: "-w");

    public static readonly OptionSpec PieceSize = new(
        "--piece-size", "Piece length, a power of two from 16 KiB to 64 MiB (256K, 1M); default by total size.", "SIZE");

    public static readonly OptionSpec Private = new("--private", "Mark the torrent private (BEP 27: trackers only, no DHT or PEX).");

    public static readonly OptionSpec Comment = new("--comment", "Free text stored in the torrent.", "TEXT", Alias: "-c");

    public static readonly OptionSpec Source = new(
        "--source", "The info dictionary's source (private trackers use it; changes the info-hash).", "TEXT", Alias: "-s");

    public static readonly OptionSpec Force = new("--force", "Overwrite the output file if it exists.");

    public string Name => "create";

    public string Summary => "Make a .torrent (v1) of a file or folder.";

    public string Description =>
        "Hashes the content on every core and writes a v1 torrent: a file makes a single-file torrent, a folder\n"
        + "a multi-file one holding every file under it (sorted by path). Prints the info-hash and the magnet link.\n"
        + "The piece size is chosen by total size (about 1500 pieces or fewer) unless --piece-size is given.";

    public IReadOnlyList<string> Arguments => ["file-or-folder"];

    public IReadOnlyList<OptionSpec> Options => [Output, Tracker, WebSeed, PieceSize, Private, Comment, Source, Force];

    public async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(context.Args.Positionals[0]);
        var pieceLength = context.Args.Get(PieceSize.Name) is { } sizeText ? ParsePieceSize(sizeText) : (int?)null;
        var tiers = context.Args.GetAll(Tracker.Name)
            .Select(t => (IReadOnlyList<string>)[.. t.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)])
            .Where(t => t.Count > 0)
            .ToList();
        foreach (var url in tiers.SelectMany(t => t).Concat(context.Args.GetAll(WebSeed.Name)))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "udp"))
            {
                throw new UsageException($"'{url}' is not an http, https or udp URL");
            }
        }

        var (name, files, singleFile) = Collect(root, context.Args.Positionals[0]);
        var total = files.Sum(f => f.Length);
        var length = pieceLength ?? TorrentBuilder.ChoosePieceLength(total);
        var output = Path.GetFullPath(context.Args.Get(Output.Name) ?? name + ".torrent");
        if (File.Exists(output) && !context.Args.Has(Force.Name))
        {
            throw new CliException($"{output}: already exists (--force overwrites it)");
        }
        if (!singleFile && (output + Path.DirectorySeparatorChar).StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new CliException($"{output}: the torrent would be written inside the folder it describes");
        }

        var pieces = TorrentBuilder.PieceCount(total, length);
        await context.Stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Hashing {name}: {files.Count} file(s), {ProgressRenderer.Size(total)}, {pieces} pieces of {ProgressRenderer.Size(length)}")).ConfigureAwait(false);
        var console = ReferenceEquals(context.Stderr, Console.Error)
            ? new LiveConsole(Console.Error, Console.Error, !Console.IsErrorRedirected)
            : new LiveConsole(context.Stderr, context.Stderr, interactive: false);
        var hashes = await HashAsync(files, total, length, console, cancellationToken).ConfigureAwait(false);

        var torrent = TorrentBuilder.BuildFromHashes(
            name, length, [.. files.Select(f => (f.PathElements, f.Length))], hashes, tiers,
            isPrivate: context.Args.Has(Private.Name),
            comment: context.Args.Get(Comment.Name),
            createdBy: "bta " + Version,
            creationDate: DateTimeOffset.UtcNow,
            urlList: context.Args.GetAll(WebSeed.Name),
            singleFile: singleFile,
            source: context.Args.Get(Source.Name));
        var parsed = TorrentMetainfo.Parse(torrent);
        if (parsed.Metainfo is not { } metainfo)
        {
            throw new CliException($"{root}: the torrent made does not parse: {parsed.Error}");
        }
        try
        {
            var temporary = output + ".part";
            await File.WriteAllBytesAsync(temporary, torrent, cancellationToken).ConfigureAwait(false);
            File.Move(temporary, output, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{output}: cannot write: {ex.Message}", ExitCodes.FolderUnusable);
        }
        await context.Stdout.WriteLineAsync(output).ConfigureAwait(false);
        await context.Stdout.WriteLineAsync($"info-hash {metainfo.InfoHash.ToHex()}").ConfigureAwait(false);
        await context.Stdout.WriteLineAsync($"magnet:?xt=urn:btih:{metainfo.InfoHash.ToHex()}&dn={Uri.EscapeDataString(name)}").ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    internal static int ParsePieceSize(string text)
    {
        var t = text.Trim();
        var multiplier = 1L;
        var lower = t.ToLowerInvariant();
        foreach (var (suffix, value) in new[] { ("kib", 1024L), ("mib", 1L << 20), ("kb", 1024L), ("mb", 1L << 20), ("k", 1024L), ("m", 1L << 20) })
        {
            if (lower.EndsWith(suffix, StringComparison.Ordinal))
            {
                multiplier = value;
                t = t[..^suffix.Length];
                break;
            }
        }
        if (long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            && number * multiplier is var bytes and >= 16 * 1024 and <= 64 * 1024 * 1024
            && long.IsPow2(bytes))
        {
            return (int)bytes;
        }
        throw new UsageException($"--piece-size expects a power of two from 16K to 64M such as 256K or 1M, got '{text}'");
    }

    /// <summary>The torrent's name and files: a file is itself; a folder holds every regular file under it, in
    /// ordinal path order (symbolic links are not followed, so a link loop cannot recurse).</summary>
    private static (string Name, List<SourceFile> Files, bool SingleFile) Collect(string root, string given)
    {
        if (File.Exists(root))
        {
            var info = new FileInfo(root);
            return (info.Name, [new SourceFile(root, [info.Name], info.Length)], true);
        }
        if (!Directory.Exists(root))
        {
            throw new CliException($"{given}: no such file or folder");
        }
        var name = new DirectoryInfo(root).Name;
        List<SourceFile> files;
        try
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = false };
            files = [.. new DirectoryInfo(root).EnumerateFiles("*", options)
                .Select(f => new SourceFile(f.FullName, Path.GetRelativePath(root, f.FullName).Split(Path.DirectorySeparatorChar), f.Length))
                .OrderBy(f => string.Join('/', f.PathElements), StringComparer.Ordinal)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{given}: cannot read the folder: {ex.Message}");
        }
        if (files.Count == 0)
        {
            throw new CliException($"{given}: the folder holds no files");
        }
        if (files.Sum(f => f.Length) == 0)
        {
            throw new CliException($"{given}: every file is empty; a torrent needs at least one byte");
        }
        return (name, files, false);
    }

    /// <summary>SHA-1 of every piece, computed on all cores: each worker reads its piece's bytes with positional
    /// reads (no shared file position), so pieces are hashed in any order and written to their own slot.</summary>
    private static async Task<byte[]> HashAsync(
        List<SourceFile> files, long total, int pieceLength, LiveConsole console, CancellationToken cancellationToken)
    {
        if (total == 0)
        {
            throw new CliException("the content is empty; a torrent needs at least one byte");
        }
        var pieces = TorrentBuilder.PieceCount(total, pieceLength);
        var hashes = new byte[pieces * 20];
        var handles = new SafeFileHandle[files.Count];
        var starts = new long[files.Count];
        long done = 0;
        try
        {
            long offset = 0;
            for (var i = 0; i < files.Count; i++)
            {
                starts[i] = offset;
                offset += files[i].Length;
                handles[i] = OpenRead(files[i].FullPath);
            }
            var clock = Stopwatch.StartNew();
            using var progress = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var reporter = ReportAsync(progress, console, () => Interlocked.Read(ref done), total, clock, stop.Token);
            try
            {
                await Parallel.ForAsync(0L, pieces, new ParallelOptions
                {
                    MaxDegreeOfParallelism = Environment.ProcessorCount,
                    CancellationToken = cancellationToken,
                }, async (piece, token) =>
                {
                    var start = piece * pieceLength;
                    var length = (int)Math.Min(pieceLength, total - start);
                    var buffer = new byte[length];
                    await ReadRangeAsync(files, handles, starts, start, buffer, token).ConfigureAwait(false);
                    SHA1.HashData(buffer, hashes.AsSpan((int)(piece * 20), 20));
                    Interlocked.Add(ref done, length);
                }).ConfigureAwait(false);
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await reporter.ConfigureAwait(false);
                console.EndLive();
            }
            console.WriteLog(string.Create(CultureInfo.InvariantCulture,
                $"Hashed {ProgressRenderer.Size(total)} in {clock.Elapsed.TotalSeconds:0.0} s on {Environment.ProcessorCount} core(s){Environment.NewLine}"));
            return hashes;
        }
        catch (IOException ex)
        {
            throw new CliException($"cannot read the content: {ex.Message}");
        }
        finally
        {
            foreach (var handle in handles)
            {
                handle?.Dispose();
            }
        }
    }

    private static async Task ReportAsync(
        PeriodicTimer timer, LiveConsole console, Func<long> done, long total, Stopwatch clock, CancellationToken token)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
            {
                var bytes = done();
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"hashing {bytes * 100.0 / total:0.0}% {ProgressRenderer.Size(bytes)}/{ProgressRenderer.Size(total)} {ProgressRenderer.Size((long)(bytes / Math.Max(clock.Elapsed.TotalSeconds, 0.001)))}/s");
                if (console.Interactive)
                {
                    console.SetLive(line.Length < console.Width ? line : line[..(console.Width - 1)]);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Hashing ended.
        }
    }

    private static SafeFileHandle OpenRead(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        }
        catch (UnauthorizedAccessException)
        {
            throw new CliException($"{path}: permission denied");
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CliException($"{path}: vanished while the torrent was made");
        }
    }

    /// <summary>Fills <paramref name="buffer"/> with the content's bytes from <paramref name="start"/>, across files.</summary>
    private static async Task ReadRangeAsync(
        List<SourceFile> files, SafeFileHandle[] handles, long[] starts, long start, byte[] buffer, CancellationToken token)
    {
        var filled = 0;
        var index = Array.BinarySearch(starts, start);
        if (index < 0)
        {
            index = ~index - 1;
        }
        while (filled < buffer.Length)
        {
            // Skip empty files sharing a start with the next one.
            while (index < files.Count && start + filled >= starts[index] + files[index].Length)
            {
                index++;
            }
            if (index >= files.Count)
            {
                throw new IOException("a file shrank while the torrent was made");
            }
            var inFile = start + filled - starts[index];
            var take = (int)Math.Min(buffer.Length - filled, files[index].Length - inFile);
            var read = await RandomAccess.ReadAsync(handles[index], buffer.AsMemory(filled, take), inFile, token).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException($"{files[index].FullPath} shrank while the torrent was made");
            }
            filled += read;
        }
    }

    private static string Version =>
        typeof(CreateCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "0.0.0";

    private sealed record SourceFile(string FullPath, string[] PathElements, long Length);
}
