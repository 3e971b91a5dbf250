using BitTorrentActors.Cli.CommandLine;

namespace BitTorrentActors.Cli.Commands;

/// <summary>
/// <c>bta seed FILE --data DIR [--port N] [--seed-ratio R]</c>: verifies the data under DIR (laid out as
/// <c>download -o DIR</c> leaves it), fetches missing pieces first if any, then seeds until Ctrl-C or the ratio.
/// </summary>
public sealed class SeedCommand : ICommand
{
    public static readonly OptionSpec Data = new(
        "--data", "Folder holding the content (as <dir>/<name>, where download -o puts it).", "DIR");

    public string Name => "seed";

    public string Summary => "Verify existing data and seed it to other peers.";

    public string Description =>
        "Checks every piece under the data folder, says how many are missing and fetches them first (as\n"
        + "download --seed would), then accepts peers and uploads until Ctrl-C or --seed-ratio; exits 0.";

    public IReadOnlyList<string> Arguments => ["file.torrent"];

    public IReadOnlyList<OptionSpec> Options => [Data, .. TorrentRun.Shared];

    public async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var data = context.Args.Get(Data.Name) ?? throw new UsageException("seed needs --data DIR");
        var request = new TorrentRunRequest(
            context.Args.Positionals,
            data,
            "data",
            context.Args.GetAll(DownloadCommand.Peer.Name).Select(DownloadCommand.ParseEndPoint).ToList(),
            Seed: true,
            TorrentRun.ParseRatio(context),
            ReportMissing: true);
        return await TorrentRun.RunAsync(context, request, cancellationToken).ConfigureAwait(false);
    }
}
