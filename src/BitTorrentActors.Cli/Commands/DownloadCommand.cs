using System.Net;
using BitTorrentActors.Cli.CommandLine;

namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// <c>bta download FILE... [-o DIR] [--seed] [--seed-ratio R]</c>: fetches a torrent through the actor engine, verifies
/// every piece, exits 0; with --seed it then seeds until Ctrl-C or the ratio (exit 0). Ctrl-C before completion
/// stops cleanly (tracker told <c>stopped</c>, files flushed) and exits 130.
/// </summary>
public sealed class DownloadCommand : ICommand
{
    public static readonly OptionSpec Output = new(
        "--output", "Folder the content lands in (as <dir>/<name>); created if missing. Default: the current folder.", "DIR", Alias: "-o");

    public static readonly OptionSpec Peer = new(
        "--peer", "Also connect to this peer, HOST:PORT (repeatable).", "HOST:PORT", Repeatable: true);

    public static readonly OptionSpec Seed = new(
        "--seed", "Keep seeding after the download completes, until Ctrl-C (or --seed-ratio).");

    public string Name => "download";

    public string Summary => "Download a torrent's content from its swarm, verifying every piece.";

    public string Description =>
        "Checks what is already in the output folder (a re-run resumes), announces to the torrent's trackers,\n"
        + "connects to peers and fetches every piece, verifying SHA-1 before anything is marked done. Exits 0\n"
        + "when the files are complete, 1 with one line on a fatal error, 130 after Ctrl-C. With --seed it keeps\n"
        + "uploading to other peers after completion until Ctrl-C or --seed-ratio, then exits 0. Several\n"
        + "torrents download side by side; the command ends when all are complete.";

    public IReadOnlyList<string> Arguments => ["file.torrent|magnet"];

    public int MaxArguments => int.MaxValue;

    public IReadOnlyList<OptionSpec> Options => [Output, Seed, .. TorrentRun.Shared];

    public async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        // As aria2c's --dir: without -o the content lands in the current folder.
        var output = context.Args.Get(Output.Name) ?? ".";
        var extraPeers = context.Args.GetAll(Peer.Name).Select(ParseEndPoint).ToList();
        var ratio = TorrentRun.ParseRatio(context);
        var seed = context.Args.Has(Seed.Name) || ratio is not null;
        var request = new TorrentRunRequest(context.Args.Positionals, output, "output", extraPeers, seed, ratio, ReportMissing: false);
        return await TorrentRun.RunAsync(context, request, cancellationToken).ConfigureAwait(false);
    }

    internal static string PrepareFolder(string folder, string role)
    {
        try
        {
            return Directory.CreateDirectory(Path.GetFullPath(folder)).FullName;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliException($"{folder}: cannot use as the {role} folder: {ex.Message}", ExitCodes.FolderUnusable);
        }
    }

    internal static IPEndPoint ParseEndPoint(string text)
    {
        if (IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port is > 0 and <= 65535)
        {
            return endpoint;
        }
        throw new UsageException($"--peer expects an IP address and port such as 127.0.0.1:6881, got '{text}'");
    }
}
