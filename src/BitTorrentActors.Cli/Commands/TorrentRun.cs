using System.Globalization;
using System.Net;
using Akka.Actor;
using Akka.Hosting;
using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Engine.Network;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Magnet;
using BitTorrentActors.Protocol.Metainfo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BitTorrentActors.Cli.Commands;

/// <summary>What <c>download</c> and <c>seed</c> share: a host running the session with the command's torrents,
/// the wait for all of them to complete, optional seeding until Ctrl-C or the seed ratio, and a bounded clean stop.</summary>
internal sealed record TorrentRunRequest(
    IReadOnlyList<string> TorrentPaths,
    string Directory,
    string DirectoryRole,
    IReadOnlyList<IPEndPoint> ExtraPeers,
    bool Seed,
    double? SeedRatio,
    bool ReportMissing);

/// <summary>One torrent of the command: from a .torrent (metainfo and bytes known) or from a magnet (known once
/// its metadata has arrived: <see cref="Metainfo"/> is set then).</summary>
internal sealed class RunTorrent(string path, InfoHash infoHash, string name)
{
    public string Path { get; } = path;

    public InfoHash InfoHash { get; } = infoHash;

    public string Name { get; set; } = name;

    public TorrentMetainfo? Metainfo { get; init; }

    public byte[]? Bytes { get; init; }

    public MagnetLink? Magnet { get; init; }

    public FileSelection? Files { get; init; }

    /// <summary>Size and pieces: from the metainfo, or from the session's metadata event for a magnet.</summary>
    public long TotalSize { get; set; }

    public int PieceCount { get; set; }
}

internal static class TorrentRun
{
    public static readonly OptionSpec SeedRatio = new(
        "--seed-ratio", "Stop seeding (exit 0) once uploaded / size reaches R.", "R");

    public static readonly OptionSpec MaxDownloadRate = new(
        "--max-download-rate", "Cap the download rate, e.g. 2M, 500KiB, 10MB/s (bta.download.rate-limit; 0 = none).",
        "RATE", ConfigKey: "bta.download.rate-limit");

    public static readonly OptionSpec MaxUploadRate = new(
        "--max-upload-rate", "Cap the upload rate, e.g. 1M, 200KiB (bta.upload.rate-limit; 0 = none).",
        "RATE", ConfigKey: "bta.upload.rate-limit");

    public static readonly OptionSpec Quiet = new(
        "--quiet", "Print nothing but errors (no progress line; the log only at Error).", Alias: "-q");

    public static readonly OptionSpec Json = new(
        "--json", "Print one JSON object per line per progress event (and per check, completion, stop) instead of text.");

    /// <summary>Options download and seed both take, after their own.</summary>
    public static IReadOnlyList<OptionSpec> Shared =>
        [CommonOptions.Port, DownloadCommand.Peer, SeedRatio, FileFilter.Select, FileFilter.Exclude,
            MaxDownloadRate, MaxUploadRate, Quiet, Json];

    /// <summary>How long a clean stop may take before the host is torn down anyway.</summary>
    private static readonly TimeSpan _stopBudget = TimeSpan.FromSeconds(20);

    public static double? ParseRatio(CommandContext context)
    {
        if (context.Args.Get(SeedRatio.Name) is not { } text)
        {
            return null;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) && ratio >= 0 && double.IsFinite(ratio)
            ? ratio
            : throw new UsageException($"--seed-ratio expects a number of at least 0 such as 1.5, got '{text}'");
    }

    public static async Task<int> RunAsync(CommandContext context, TorrentRunRequest request, CancellationToken cancellationToken)
    {
        var mode = context.Args.Has(Json.Name) ? ProgressMode.Json
            : context.Args.Has(Quiet.Name) ? ProgressMode.Quiet
            : ProgressMode.Human;
        if (context.Args.Has(Json.Name) && context.Args.Has(Quiet.Name))
        {
            throw new UsageException("--json and --quiet exclude each other");
        }

        // Everything the user gave is checked before anything is created: a bad setting, a missing or bad
        // torrent or a bad file selection leaves no folder behind.
        _ = context.Settings;
        var torrents = new List<RunTorrent>();
        foreach (var path in request.TorrentPaths)
        {
            var torrent = MagnetArgument.IsMagnet(path)
                ? MagnetTorrent(context, request, path)
                : await FileTorrentAsync(context, path, cancellationToken).ConfigureAwait(false);
            if (torrents.Exists(t => t.InfoHash == torrent.InfoHash))
            {
                throw new CliException($"{path}: the same torrent is given twice");
            }
            torrents.Add(torrent);
        }
        var directory = DownloadCommand.PrepareFolder(request.Directory, request.DirectoryRole);

        var console = ReferenceEquals(context.Stdout, Console.Out)
            ? LiveConsole.ForConsole()
            : new LiveConsole(context.Stdout, context.Stderr, interactive: false);
        var renderer = new ProgressRenderer(console, mode);
        var signals = torrents.ToDictionary(t => t.InfoHash, t => new TorrentSignals(t.Name));
        IActorRef observer = ActorRefs.Nobody;

        // The same session the daemon runs, in-process and keeping no list: this command is its only client.
        using var host = context.BuildHost(
            (system, _, _) => observer = system.ActorOf(ConsoleObserverActor.Props(renderer, signals), "console"),
            new SessionOptions(StateDirectory: null, DownloadDirectory: directory),
            console);
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        var session = await host.Services.GetRequiredService<IRequiredActor<TorrentSessionActor>>()
            .GetAsync(cancellationToken).ConfigureAwait(false);
        await session.Ask<TorrentSessionActor.Subscribed>(new TorrentSessionActor.Subscribe(observer), _stopBudget, cancellationToken)
            .ConfigureAwait(false);
        var bound = await ListenerBoundAsync(host, session, cancellationToken).ConfigureAwait(false);
        if (bound.EndPoint is null)
        {
            await StopAsync(session, signals.Values, host).ConfigureAwait(false);
            throw new CliException(string.Create(CultureInfo.InvariantCulture,
                $"cannot listen for peers on port {context.Settings.ListenPort}: {bound.Error ?? "bind failed"} (choose another with --port, or --port 0 for any free port)"));
        }
        foreach (var torrent in torrents)
        {
            var options = new AddTorrentOptions(directory, Seed: request.Seed, SeedRatio: request.SeedRatio,
                Peers: request.ExtraPeers, Files: torrent.Files, SkipQueue: true);
            object add = torrent.Magnet is { } magnet
                ? new TorrentSessionActor.AddMagnet(magnet.ToString(), options)
                : new TorrentSessionActor.AddTorrent(torrent.Bytes!, options);
            var added = await session.Ask(add, _stopBudget, cancellationToken).ConfigureAwait(false);
            if (added is TorrentSessionActor.CommandRefused refused)
            {
                await StopAsync(session, signals.Values, host).ConfigureAwait(false);
                throw new CliException($"{torrent.Path}: {refused.Reason}");
            }
            if (torrent.Magnet is { } link)
            {
                var named = torrent.Name == torrent.InfoHash.ToHex() ? torrent.Name : $"{torrent.Name} ({torrent.InfoHash.ToHex()})";
                renderer.Say(Text($"Fetching metadata for {named} from {Count(link.Peers.Count + request.ExtraPeers.Count, "peer")} and {Count(link.Trackers.Count, "tracker")}, into {directory}, listening on port {bound.EndPoint.Port}"));
                continue;
            }
            var metainfo = torrent.Metainfo!;
            var files = torrent.Files;
            var verb = request.ReportMissing ? "Seeding" : "Downloading";
            var part = files is null ? string.Empty : string.Create(CultureInfo.InvariantCulture,
                $", {files.Wanted.Where((w, i) => w && !metainfo.Files[i].IsPadFile).Count()} of {metainfo.Files.Count(f => !f.IsPadFile)} files selected");
            renderer.Say(Text($"{verb} {metainfo.Name} ({ProgressRenderer.Size(metainfo.TotalLength)}, {metainfo.PieceCount} pieces{part}) in {directory}, listening on port {bound.EndPoint.Port}"));
        }

        try
        {
            foreach (var torrent in torrents)
            {
                var signal = signals[torrent.InfoHash];
                if (torrent.Magnet is not null)
                {
                    // A failure while fetching the metadata is the outcome, reported below.
                    await Task.WhenAny(signal.Metadata.Task, signal.Outcome.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
                    if (!signal.Metadata.Task.IsCompletedSuccessfully)
                    {
                        continue;
                    }
                    var metadata = await signal.Metadata.Task.ConfigureAwait(false);
                    (torrent.Name, torrent.TotalSize, torrent.PieceCount) = (metadata.Name, metadata.TotalSize, metadata.PieceCount);
                    renderer.Finish();
                    renderer.Say(Text($"Metadata received: downloading {metadata.Name} ({ProgressRenderer.Size(metadata.TotalSize)}, {metadata.PieceCount} pieces, {metadata.FileCount} files) in {directory}"));
                }
                await Task.WhenAny(signal.Checked.Task, signal.Outcome.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (!signal.Checked.Task.IsCompletedSuccessfully)
                {
                    continue;
                }
                var check = await signal.Checked.Task.ConfigureAwait(false);
                var missing = check.PieceCount - check.VerifiedPieces;
                if (request.ReportMissing && missing > 0)
                {
                    renderer.Say(Text($"{torrent.Name}: {missing} of {check.PieceCount} pieces are missing or damaged; fetching them first"));
                }
            }
            // In the order they finish: one torrent failing ends the command at once, not after the others.
            var pending = torrents.ToDictionary(t => (Task)signals[t.InfoHash].Outcome.Task);
            var downloaded = 0L;
            while (pending.Count > 0)
            {
                var finished = await Task.WhenAny(pending.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
                var run = pending[finished];
                pending.Remove(finished);
                var torrent = signals[run.InfoHash];
                var result = await torrent.Outcome.Task.ConfigureAwait(false);
                if (result.FailureReason is { } reason)
                {
                    renderer.Finish();
                    await StopAsync(session, signals.Values, host).ConfigureAwait(false);
                    throw new CliException($"{run.Path}: {reason}", ExitCodes.ForFailure(reason));
                }
                renderer.Finish();
                renderer.Say(CompletionLine(run, await torrent.Checked.Task.ConfigureAwait(false), result));
                downloaded += result.Downloaded;
            }
            LogRuntime(host, downloaded);
        }
        catch (OperationCanceledException)
        {
            renderer.Finish();
            await StopAsync(session, signals.Values, host).ConfigureAwait(false);
            throw;
        }

        if (request.Seed)
        {
            await SeedUntilDoneAsync(request, signals.Values, renderer, cancellationToken).ConfigureAwait(false);
        }
        await StopAsync(session, signals.Values, host).ConfigureAwait(false);
        if (request.Seed)
        {
            foreach (var run in torrents)
            {
                var torrent = signals[run.InfoHash];
                // Completed already (StopAsync waited for it): the await returns at once.
                var uploaded = torrent.Stopped.Task.IsCompletedSuccessfully
                    ? (await torrent.Stopped.Task.ConfigureAwait(false)).Uploaded
                    : torrent.LastProgress?.Uploaded ?? 0;
                var name = torrents.Count > 1 ? $" {run.Name}" : string.Empty;
                renderer.Say(Text($"Stopped seeding{name}: uploaded {uploaded} bytes (ratio {uploaded / (double)Math.Max(1, run.TotalSize):0.00})."));
            }
        }
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The process's allocations and collections so far, per MiB downloaded: the figure the benchmark (issue 14)
    /// reads from the log, since the hot path is meant to allocate next to nothing per block. The methods jitted and
    /// the time spent jitting them (all threads) say what the precompiled install still compiles at run time.
    /// </summary>
    private static void LogRuntime(IHost host, long downloaded)
    {
        var log = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("BitTorrentActors.Cli.Runtime");
        var allocated = GC.GetTotalAllocatedBytes();
        var jitted = System.Runtime.JitInfo.GetCompiledMethodCount();
        var jitMs = System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds;
        if (downloaded <= 0)
        {
            // A seed of complete data downloaded nothing: a figure per MiB downloaded would divide by nothing
            // (it printed 11,023,368,192 KiB per MiB).
            log.LogInformation(
                "Runtime: {AllocatedBytes} bytes allocated, nothing downloaded, collections gen0 {Gen0} gen1 {Gen1} gen2 {Gen2}, {PauseMs:0} ms paused, {JitMethods} methods jitted in {JitMs:0} ms",
                allocated, GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
                GC.GetTotalPauseDuration().TotalMilliseconds, jitted, jitMs);
            return;
        }

        var mib = downloaded / (1024.0 * 1024.0);
        log.LogInformation(
            "Runtime: {AllocatedBytes} bytes allocated ({KiBPerMiB:0.0} KiB per MiB downloaded), collections gen0 {Gen0} gen1 {Gen1} gen2 {Gen2}, {PauseMs:0} ms paused, {JitMethods} methods jitted in {JitMs:0} ms",
            allocated, allocated / 1024.0 / mib, GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
            GC.GetTotalPauseDuration().TotalMilliseconds, jitted, jitMs);
    }

    /// <summary>What the run did: a download says what it fetched; data that was all there already (a seed of
    /// complete data) says it was verified, not downloaded.</summary>
    internal static string CompletionLine(RunTorrent torrent, TorrentCoordinator.Checked check, TorrentOutcome result)
    {
        if (check.VerifiedPieces == check.PieceCount && result.Downloaded == 0)
        {
            return Text($"Verified: {torrent.Name}, all {check.PieceCount} pieces ({torrent.TotalSize} bytes) present and correct; nothing to download.");
        }
        var seconds = Math.Max(result.Elapsed.TotalSeconds, 0.001);
        return Text($"Complete: {torrent.Name}, {torrent.TotalSize} bytes verified. Downloaded {result.Downloaded} bytes in {seconds:0.0} s ({ProgressRenderer.Size((long)(result.Downloaded / seconds))}/s).");
    }

    private static async Task<RunTorrent> FileTorrentAsync(CommandContext context, string path, CancellationToken cancellationToken)
    {
        var (metainfo, bytes) = await TorrentFileReader.LoadWithBytesAsync(path, cancellationToken).ConfigureAwait(false);
        var files = FileFilter.For(metainfo, context.Args.GetAll(FileFilter.Select.Name), context.Args.GetAll(FileFilter.Exclude.Name), path);
        return new RunTorrent(path, metainfo.InfoHash, metainfo.Name)
        {
            Metainfo = metainfo,
            Bytes = bytes,
            Files = files,
            TotalSize = metainfo.TotalLength,
            PieceCount = metainfo.PieceCount,
        };
    }

    /// <summary>A magnet argument: parsed here so a bad one is refused before anything starts; no file selection
    /// (the files are not known before the metadata) and no seeding from one (seed has the data and its .torrent).</summary>
    private static RunTorrent MagnetTorrent(CommandContext context, TorrentRunRequest request, string argument)
    {
        var link = MagnetArgument.Parse(argument);
        if (request.ReportMissing)
        {
            throw new CliException("bta seed needs the .torrent file: a magnet link does not say what the data is", ExitCodes.Usage);
        }
        if (context.Args.GetAll(FileFilter.Select.Name).Count > 0 || context.Args.GetAll(FileFilter.Exclude.Name).Count > 0)
        {
            throw new CliException($"{FileFilter.Select.Name} and {FileFilter.Exclude.Name} need the torrent's file list, which a magnet link does not have", ExitCodes.Usage);
        }
        if (link.Trackers.Count == 0 && link.Peers.Count == 0 && request.ExtraPeers.Count == 0 && !context.Settings.Dht.Enabled)
        {
            // Without the DHT nothing could ever be found: say so now rather than wait for Ctrl-C.
            throw new CliException("the magnet link names no tracker (tr=) and no peer (x.pe=), and bta.dht.enabled is off: add --peer HOST:PORT, use a link with a tracker or turn the DHT on", ExitCodes.Usage);
        }
        return new RunTorrent(argument, link.InfoHash, Engine.Session.MagnetNames.DisplayName(link)) { Magnet = link };
    }

    /// <summary>Where the session's listener bound, or why it could not. Asked of the listener, the child the
    /// session makes in its PreStart, so only once the session has answered a message (the child exists).</summary>
    private static async Task<ListenerActor.Bound> ListenerBoundAsync(IHost host, IActorRef session, CancellationToken cancellationToken)
    {
        var system = host.Services.GetRequiredService<ActorSystem>();
        var listener = system.ActorSelection(session.Path / "listener");
        return await listener.Ask<ListenerActor.Bound>(ListenerActor.GetBound.Instance, _stopBudget, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Seeding ends when every torrent reached the ratio, or at Ctrl-C, which here is the normal way to
    /// stop (exit 0, not 130: the download itself completed).</summary>
    private static async Task SeedUntilDoneAsync(
        TorrentRunRequest request, IEnumerable<TorrentSignals> signals, ProgressRenderer renderer, CancellationToken cancellationToken)
    {
        var until = request.SeedRatio is { } r ? string.Create(CultureInfo.InvariantCulture, $"until ratio {r:0.##} or Ctrl-C") : "until Ctrl-C";
        renderer.Say($"Seeding {until}");
        try
        {
            await Task.WhenAll(signals.Select(s => s.SeedRatio.Task)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C or a failure while seeding: either way a clean stop follows.
        }
        renderer.Finish();
    }

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Count(int count, string noun) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? "" : "s")}");

    /// <summary>Tells the session to stop (tracker <c>stopped</c>, peers closed, files flushed, resume saved), waits
    /// a bounded time for it and for the torrents' final totals, then stops the host.</summary>
    private static async Task StopAsync(IActorRef session, IEnumerable<TorrentSignals> signals, IHost host)
    {
        try
        {
            await session.Ask<TorrentSessionActor.ShutdownComplete>(TorrentSessionActor.Shutdown.Instance, _stopBudget)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
        {
            // The session is gone or stuck; the host shutdown below still closes every actor.
        }
        try
        {
            // Published by the session before it answered; the observer may still be handing them over.
            await Task.WhenAll(signals.Select(s => s.Stopped.Task)).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A torrent was refused or never started: no totals to report for it.
        }
        using var timeout = new CancellationTokenSource(_stopBudget);
        await host.StopAsync(timeout.Token).ConfigureAwait(false);
    }
}
