using BitTorrentActors.Engine.Session;
using System.Globalization;
using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Trackers;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Cli.Commands;

/// <summary><c>bta peers FILE</c>: announce once and print the peers the tracker returned, one per line.</summary>
public sealed class PeersCommand : ICommand
{
    public string Name => "peers";

    public string Summary => "Announce once to the torrent's trackers and print the peers they return.";

    public string Description =>
        "Tries the torrent's trackers tier by tier until one answers, prints its peers (one IP:PORT per line)\n"
        + "and a summary line, then announces 'stopped' so the tracker does not keep listing us. Exits 1 when\n"
        + "no tracker answers.";

    public IReadOnlyList<string> Arguments => ["file.torrent"];

    public IReadOnlyList<OptionSpec> Options => [CommonOptions.Port];

    public async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var path = context.Args.Positionals[0];
        var metainfo = await TorrentFileReader.LoadAsync(path, cancellationToken).ConfigureAwait(false);
        var settings = context.Settings;
        var torrent = new TorrentContext(metainfo, PeerId.Generate(), Directory.GetCurrentDirectory(), settings, settings.ListenPort);
        using var services = new SessionServices(settings);
        var transport = services.TrackerTransport;

        var result = await TrackerActor.AnnounceOnceAsync(torrent, transport, cancellationToken).ConfigureAwait(false);
        if (result.Response is not { } response)
        {
            throw new CliException($"{path}: {result.Failure?.Reason ?? "no tracker answered"}");
        }
        foreach (var peer in response.Peers)
        {
            await context.Stdout.WriteLineAsync(peer.ToString()).ConfigureAwait(false);
        }
        await context.Stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{response.Peers.Count} peers; seeders {Count(response.Complete)}, leechers {Count(response.Incomplete)}, interval {response.Interval.TotalSeconds:0} s"))
            .ConfigureAwait(false);
        if (response.WarningMessage is { } warning)
        {
            await context.Stderr.WriteLineAsync($"bta: tracker warning: {warning}").ConfigureAwait(false);
        }

        // Best effort: a tracker that answered a moment ago normally takes the 'stopped' too.
        await TrackerActor.AnnounceOnceAsync(torrent, transport, cancellationToken, AnnounceEvent.Stopped).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static string Count(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "?";
}
