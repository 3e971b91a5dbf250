using BitTorrentActors.Engine.Session;
using System.Globalization;
using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Cli.Commands;

/// <summary><c>bta scrape FILE</c>: asks every tracker of every tier for the torrent's swarm counts.</summary>
public sealed class ScrapeCommand : ICommand
{
    public string Name => "scrape";

    public string Summary => "Print seeders, leechers and completed downloads from each of the torrent's trackers.";

    public string Description =>
        "Scrapes every tracker of every tier at once (HTTP by the /announce -> /scrape convention, UDP by BEP 15)\n"
        + "and prints one line per tracker, in the torrent's order: its counts, or why it gave none. Exits 0 when\n"
        + "at least one tracker answered, 1 otherwise.";

    public IReadOnlyList<string> Arguments => ["file.torrent"];

    public IReadOnlyList<OptionSpec> Options => [];

    public async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var path = context.Args.Positionals[0];
        var metainfo = await TorrentFileReader.LoadAsync(path, cancellationToken).ConfigureAwait(false);
        var trackers = metainfo.AnnounceTiers.SelectMany(t => t).Distinct(StringComparer.Ordinal).ToList();
        if (trackers.Count == 0)
        {
            throw new CliException($"{path}: the torrent names no tracker");
        }
        using var services = new SessionServices(context.Settings);
        var scraper = services.TrackerTransport;
        // All at once: a dead UDP tracker can take minutes of retransmissions and must not hold up the others.
        var results = await Task.WhenAll(trackers.Select(url =>
            scraper.ScrapeAsync(url, [metainfo.InfoHash], cancellationToken))).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();

        var answered = 0;
        for (var i = 0; i < trackers.Count; i++)
        {
            var line = Describe(results[i], metainfo.InfoHash, out var ok);
            answered += ok ? 1 : 0;
            await context.Stdout.WriteLineAsync($"{trackers[i]}  {line}").ConfigureAwait(false);
        }
        if (answered > 0)
        {
            return ExitCodes.Ok;
        }
        await context.Stderr.WriteLineAsync($"bta: {path}: no tracker answered the scrape").ConfigureAwait(false);
        return ExitCodes.Failure;
    }

    private static string Describe(ScrapeResult result, Protocol.Metainfo.InfoHash infoHash, out bool ok)
    {
        ok = false;
        if (result.Files is not { } files)
        {
            return "failed: " + (result.Failure?.Reason ?? "no answer");
        }
        ok = true;
        // A tracker that does not know the torrent leaves it out of the files dictionary: nobody is there.
        var entry = files.TryGetValue(infoHash, out var known) ? known : new(infoHash, 0, 0, 0);
        return string.Create(CultureInfo.InvariantCulture,
            $"seeders {entry.Complete}  leechers {entry.Incomplete}  completed {entry.Downloaded}");
    }
}
