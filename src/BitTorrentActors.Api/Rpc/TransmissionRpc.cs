using System.Buffers;
using System.Net;
using System.Text.Json;
using Akka.Actor;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Api.Rpc;

/// <summary>What the RPC says about itself and how far it may reach.</summary>
/// <param name="ConfigDirectory">The daemon's state folder (session-get's config-dir).</param>
/// <param name="LoopbackOnly">torrent-add fetches URLs on 127.0.0.0/8 and ::1 only (bta.session.loopback-only).</param>
/// <param name="MaxTorrentBytes">Largest .torrent read from a path or URL.</param>
public sealed record RpcServerInfo(
    string Version,
    string SessionId,
    string ConfigDirectory,
    bool LoopbackOnly,
    int MaxTorrentBytes,
    TimeSpan AskTimeout)
{
    /// <summary>The folders (full paths) a torrent-add <c>filename</c> may name; empty: any.</summary>
    public IReadOnlyList<string> TorrentFolders { get; init; } = [];

    /// <summary>Whether <paramref name="path"/> (already full) lies in one of <see cref="TorrentFolders"/>, after
    /// resolving a link at the path itself: a symlink in an allowed folder pointing elsewhere is refused.</summary>
    public bool MayRead(string path)
    {
        if (TorrentFolders.Count == 0)
        {
            return true;
        }
        var target = path;
        try
        {
            if (File.ResolveLinkTarget(path, returnFinalTarget: true) is { } link)
            {
                target = link.FullName;
            }
        }
        catch (IOException)
        {
            // A dangling or looping link: judged by its own path, and reading it fails with a clear line later.
        }
        return Inside(path) && Inside(target);
    }

    private bool Inside(string path)
    {
        var full = Path.GetFullPath(path);
        return TorrentFolders.Any(folder =>
        {
            var prefix = folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar;
            return full.StartsWith(prefix, StringComparison.Ordinal);
        });
    }
}

/// <summary>
/// The Transmission RPC's methods over the session actor: one JSON request in, one JSON reply out
/// (<c>{"arguments":{...},"result":"success","tag":N}</c>). Every problem (malformed JSON, an unknown method, a
/// wrong argument, a refusal by the session) is a <c>result</c> string naming it, never an exception. The session
/// is reached by <c>Ask</c> only: a request is a handful of messages, far from a hot path.
/// </summary>
/// <param name="removed">The <see cref="RemovedTorrentsActor"/> behind torrent-get's <c>removed</c>; null: that
/// list is always empty.</param>
public sealed class TransmissionRpc(IActorRef session, RpcService service, IActorRef? removed = null)
{
    private readonly RpcServerInfo _info = service.Info;
    private readonly HttpClient _http = service.Http;

    /// <summary>Every method bta answers.</summary>
    public static readonly IReadOnlyList<string> Methods =
    [
        "blocklist-update", "free-space", "port-test", "queue-move-bottom", "queue-move-down", "queue-move-top",
        "queue-move-up", "session-get", "session-set", "session-stats", "torrent-add", "torrent-get", "torrent-reannounce",
        "torrent-remove", "torrent-rename-path", "torrent-set", "torrent-set-location", "torrent-start", "torrent-start-now",
        "torrent-stop", "torrent-verify",
    ];

    public async Task<byte[]> HandleAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            return Reply(default, null, $"invalid JSON in the request: {ex.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            JsonElement? tag = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("tag", out var t) && t.ValueKind == JsonValueKind.Number
                ? t.Clone()
                : null;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("method", out var methodElement)
                || methodElement.ValueKind != JsonValueKind.String)
            {
                return Reply(default, tag, "no method name");
            }
            var method = methodElement.GetString()!;
            var arguments = root.TryGetProperty("arguments", out var a) ? a : default;
            if (arguments.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
            {
                return Reply(default, tag, "'arguments' must be an object");
            }
            var buffer = new ArrayBufferWriter<byte>();
            string result;
            try
            {
                await using var writer = new Utf8JsonWriter(buffer);
                result = await DispatchAsync(method, new RpcArguments(arguments), writer, cancellationToken).ConfigureAwait(false);
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RpcArgumentException ex)
            {
                return Reply(default, tag, ex.Message);
            }
            catch (AskTimeoutException)
            {
                return Reply(default, tag, "the session did not answer in time");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // An unexpected reply (a refusal where a snapshot was due, a session stopping): still a JSON
                // answer naming it, never an HTTP 500.
                return Reply(default, tag, $"{method} failed: {ex.Message}");
            }
            return Reply(buffer.WrittenMemory, tag, result);
        }
    }

    private Task<string> DispatchAsync(string method, RpcArguments a, Utf8JsonWriter w, CancellationToken ct) => method switch
    {
        "session-get" => SessionGetAsync(a, w, ct),
        "session-set" => SessionSetAsync(a, w, ct),
        "session-stats" => SessionStatsAsync(w, ct),
        "torrent-add" => TorrentAddAsync(a, w, ct),
        "torrent-get" => TorrentGetAsync(a, w, ct),
        "torrent-start" => EachTorrentAsync(a, w, h => new TorrentSessionActor.StartTorrent(h), ct),
        "torrent-start-now" => EachTorrentAsync(a, w, h => new TorrentSessionActor.StartTorrent(h, Now: true), ct),
        "torrent-stop" => EachTorrentAsync(a, w, h => new TorrentSessionActor.StopTorrent(h), ct),
        "torrent-verify" => EachTorrentAsync(a, w, h => new TorrentSessionActor.VerifyTorrent(h), ct),
        "torrent-reannounce" => EachTorrentAsync(a, w, h => new TorrentSessionActor.ReannounceTorrent(h), ct),
        "torrent-remove" => TorrentRemoveAsync(a, w, ct),
        "torrent-set" => TorrentSetAsync(a, w, ct),
        "torrent-set-location" => TorrentSetLocationAsync(a, w, ct),
        "free-space" => Task.FromResult(FreeSpace(a, w)),
        "port-test" => PortTestAsync(w, ct),
        "blocklist-update" => Task.FromResult(BlocklistUpdate(w)),
        "torrent-rename-path" => TorrentRenamePathAsync(a, w, ct),
        "queue-move-top" => QueueMoveAsync(a, w, "queue-move-top", ct),
        "queue-move-up" => QueueMoveAsync(a, w, "queue-move-up", ct),
        "queue-move-down" => QueueMoveAsync(a, w, "queue-move-down", ct),
        "queue-move-bottom" => QueueMoveAsync(a, w, "queue-move-bottom", ct),
        _ => Task.FromResult($"method name not recognized: '{method}'"),
    };

    // ---- Session ----

    private async Task<string> SessionGetAsync(RpcArguments a, Utf8JsonWriter w, CancellationToken ct)
    {
        var settings = await AskAsync<SessionSettingsSnapshot>(TorrentSessionActor.GetSessionSettings.Instance, ct).ConfigureAwait(false);
        SessionFields.WriteSessionGet(w, settings, _info.Version, _info.SessionId, _info.ConfigDirectory,
            FreeBytes(settings.DownloadDirectory) ?? -1, service.StartAddedTorrents, a.Strings("fields"));
        return Success;
    }

    private async Task<string> SessionSetAsync(RpcArguments a, Utf8JsonWriter w, CancellationToken ct)
    {
        var current = await AskAsync<SessionSettingsSnapshot>(TorrentSessionActor.GetSessionSettings.Instance, ct).ConfigureAwait(false);
        var update = SessionFields.ParseSessionSet(a, current);
        var startAdded = a.Bool("start-added-torrents");
        if (update.DownloadDirectory is { } folder && !Path.IsPathFullyQualified(folder))
        {
            throw new RpcArgumentException("download directory path is not absolute");
        }
        var reply = await AskAsync<object>(new TorrentSessionActor.UpdateSessionSettings(update), ct).ConfigureAwait(false);
        if (reply is TorrentSessionActor.CommandRefused refused)
        {
            return refused.Reason;
        }
        if (startAdded is { } start)
        {
            service.StartAddedTorrents = start;
        }
        EmptyObject(w);
        return Success;
    }

    private async Task<string> SessionStatsAsync(Utf8JsonWriter w, CancellationToken ct)
    {
        var stats = await AskAsync<SessionStats>(TorrentSessionActor.GetSessionStats.Instance, ct).ConfigureAwait(false);
        SessionFields.WriteSessionStats(w, stats);
        return Success;
    }

    private static string FreeSpace(RpcArguments a, Utf8JsonWriter w)
    {
        var path = a.String("path") ?? throw new RpcArgumentException("free-space needs 'path'");
        if (!Path.IsPathFullyQualified(path) || !Directory.Exists(path))
        {
            return $"free-space: no such folder '{path}'";
        }
        if (FreeBytes(path) is not { } free)
        {
            return $"free-space: cannot read the free space of '{path}'";
        }
        w.WriteStartObject();
        w.WriteString("path", path);
        w.WriteNumber("size-bytes", free);
        w.WriteEndObject();
        return Success;
    }

    /// <summary>Transmission asks portcheck.transmissionbt.com whether its peer port is reachable from outside; bta
    /// sends nothing off this machine for a front-end's button, so it cannot know: <c>port-is-open</c> false (what
    /// the web UI shows as "Closed") with a result saying why.</summary>
    private async Task<string> PortTestAsync(Utf8JsonWriter w, CancellationToken ct)
    {
        var settings = await AskAsync<SessionSettingsSnapshot>(TorrentSessionActor.GetSessionSettings.Instance, ct).ConfigureAwait(false);
        w.WriteStartObject();
        w.WriteBoolean("port-is-open", false);
        w.WriteEndObject();
        return $"port-test: bta does not ask a service outside this machine whether peer port {settings.ListenPort} is reachable; check it from outside yourself";
    }

    private static string BlocklistUpdate(Utf8JsonWriter w)
    {
        EmptyObject(w);
        return "blocklist-update: bta has no blocklist (blocklist-enabled is false)";
    }

    /// <summary>Renaming a torrent's file or folder needs the engine to keep names apart from the metainfo's; it does
    /// not yet, so the request is refused with its reason (after checking it names a torrent and a path).</summary>
    private async Task<string> TorrentRenamePathAsync(RpcArguments a, Utf8JsonWriter w, CancellationToken ct)
    {
        var path = a.String("path") ?? throw new RpcArgumentException("torrent-rename-path needs 'path'");
        var name = a.String("name") ?? throw new RpcArgumentException("torrent-rename-path needs 'name'");
        var selected = await SelectAsync(TorrentIds.Parse(a), DateTimeOffset.UtcNow, ct).ConfigureAwait(false);
        if (selected.Count != 1)
        {
            // Transmission's own rule: exactly one torrent.
            return "torrent-rename-path requires 1 torrent";
        }
        EmptyObject(w);
        return $"torrent-rename-path: bta cannot rename files or folders of a torrent yet ('{path}' stays, not '{name}')";
    }

    /// <summary>queue-move-*: each torrent named moves one step (or to an end), in the order Transmission moves them
    /// (tr_torrentsQueueMove*): up and bottom from the front of the queue, down and top from its back, so several
    /// torrents keep their order among themselves.</summary>
    private async Task<string> QueueMoveAsync(RpcArguments a, Utf8JsonWriter w, string method, CancellationToken ct)
    {
        var move = method switch
        {
            "queue-move-top" => TorrentSessionActor.QueueMove.Top,
            "queue-move-up" => TorrentSessionActor.QueueMove.Up,
            "queue-move-down" => TorrentSessionActor.QueueMove.Down,
            _ => TorrentSessionActor.QueueMove.Bottom,
        };
        var selected = await SelectAsync(TorrentIds.Parse(a), DateTimeOffset.UtcNow, ct).ConfigureAwait(false);
        var ordered = move is TorrentSessionActor.QueueMove.Up or TorrentSessionActor.QueueMove.Bottom
            ? selected.OrderBy(t => t.QueuePosition)
            : selected.OrderByDescending(t => t.QueuePosition);
        var result = Success;
        foreach (var torrent in ordered)
        {
            if (await AskAsync<object>(new TorrentSessionActor.MoveInQueue(torrent.InfoHash, move), ct).ConfigureAwait(false)
                is TorrentSessionActor.CommandRefused refused)
            {
                result = refused.Reason;
            }
        }
        EmptyObject(w);
        return result;
    }

    private static long? FreeBytes(string path)
    {
        try
        {
            return Directory.Exists(path) ? new DriveInfo(path).AvailableFreeSpace : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    // ---- Torrents ----

    private async Task<string> TorrentAddAsync(RpcArguments a, Utf8JsonWriter w, CancellationToken ct)
    {
        var loaded = await ReadTorrentAsync(a, ct).ConfigureAwait(false);
        if (loaded.Error is { } error)
        {
            return error;
        }
        var folder = a.String("download-dir");
        if (!string.IsNullOrEmpty(folder) && !Path.IsPathFullyQualified(folder))
        {
            return "download directory path is not absolute";
        }
        var changes = FileChanges.Parse(a);
        Engine.Torrent.FileSelection? files = null;
        if (loaded.Magnet is { } magnet)
        {
            if (!changes.IsEmpty)
            {
                return "files-wanted, files-unwanted and priorities need the torrent's files: set them once its metadata has arrived";
            }
            return await AddAsync(new TorrentSessionActor.AddMagnet(magnet, AddOptions(a, folder, null)), w, ct).ConfigureAwait(false);
        }
        var bytes = loaded.Bytes!;
        if (!changes.IsEmpty)
        {
            if (TorrentMetainfo.Parse(bytes).Metainfo is not { } metainfo)
            {
                return "invalid or corrupt torrent file";
            }
            files = changes.ApplyTo(Engine.Torrent.FileSelection.All(metainfo.Files.Count).Wanted,
                Engine.Torrent.FileSelection.All(metainfo.Files.Count).Priorities);
        }
        return await AddAsync(new TorrentSessionActor.AddTorrent(bytes, AddOptions(a, folder, files)), w, ct).ConfigureAwait(false);
    }

    private AddTorrentOptions AddOptions(RpcArguments a, string? folder, Engine.Torrent.FileSelection? files) => new(
        DownloadDirectory: string.IsNullOrEmpty(folder) ? null : folder,
        Paused: a.Bool("paused") ?? !service.StartAddedTorrents,
        Files: files);

    /// <summary>Asks the session to add (a .torrent or a magnet) and writes Transmission's reply.</summary>
    private async Task<string> AddAsync(object add, Utf8JsonWriter w, CancellationToken ct)
    {
        var reply = await AskAsync<object>(add, ct).ConfigureAwait(false);
        switch (reply)
        {
            case TorrentSessionActor.TorrentAdded added:
                removed?.Tell(new RemovedTorrentsActor.Seen([(added.InfoHash, added.Id)]));
                w.WriteStartObject();
                w.WriteStartObject(added.Duplicate ? "torrent-duplicate" : "torrent-added");
                w.WriteString("hashString", added.InfoHash.ToHex());
                w.WriteNumber("id", added.Id);
                w.WriteString("name", added.Name);
                w.WriteEndObject();
                w.WriteEndObject();
                // Transmission 3.00 answers a duplicate with success and the torrent-duplicate key (observed in
                // the differential test: transmission-remote then exits 0).
                return Success;
            case TorrentSessionActor.CommandRefused refused:
                return refused.Reason;
            default:
                return $"unexpected reply from the session: {reply.GetType().Name}";
        }
    }

    /// <summary>What torrent-add was given: .torrent bytes, or a magnet URI (checked by the session), or why not.</summary>
    private sealed record LoadedTorrent(byte[]? Bytes, string? Error)
    {
        public string? Magnet { get; init; }
    }

    /// <summary>The .torrent bytes from <c>metainfo</c> (base64) or <c>filename</c> (a local path or an http(s)
    /// URL), or the magnet URI in <c>filename</c>.</summary>
    private async Task<LoadedTorrent> ReadTorrentAsync(RpcArguments a, CancellationToken ct)
    {
        if (a.String("metainfo") is { } base64)
        {
            try
            {
                return new LoadedTorrent(Convert.FromBase64String(base64), null);
            }
            catch (FormatException)
            {
                return new LoadedTorrent(null, "invalid or corrupt torrent file ('metainfo' is not base64)");
            }
        }
        var filename = a.String("filename");
        if (string.IsNullOrWhiteSpace(filename))
        {
            return new LoadedTorrent(null, "torrent-add needs 'metainfo' or 'filename'");
        }
        if (filename.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase))
        {
            return new LoadedTorrent(null, null) { Magnet = filename };
        }
        if (Uri.TryCreate(filename, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return await FetchAsync(uri, ct).ConfigureAwait(false);
        }
        return await ReadFileAsync(filename, ct).ConfigureAwait(false);
    }

    private async Task<LoadedTorrent> ReadFileAsync(string path, CancellationToken ct)
    {
        if (!Path.IsPathFullyQualified(path))
        {
            return new LoadedTorrent(null, $"'{path}' is not an absolute path");
        }
        if (!_info.MayRead(path))
        {
            return new LoadedTorrent(null,
                $"'{path}' is outside the folders torrent-add may read ({string.Join(", ", _info.TorrentFolders)}; bta.rpc.torrent-dirs)");
        }
        if (Directory.Exists(path))
        {
            return new LoadedTorrent(null, $"'{path}' is a folder, not a .torrent file");
        }
        try
        {
            var file = new FileInfo(path);
            if (!file.Exists)
            {
                return new LoadedTorrent(null, $"no such file: '{path}'");
            }
            if (file.Length > _info.MaxTorrentBytes)
            {
                return new LoadedTorrent(null, $"'{path}' is larger than {_info.MaxTorrentBytes} bytes: not a .torrent file");
            }
            return new LoadedTorrent(await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new LoadedTorrent(null, $"cannot read '{path}': {ex.Message}");
        }
    }

    private async Task<LoadedTorrent> FetchAsync(Uri uri, CancellationToken ct)
    {
        if (_info.LoopbackOnly && !IsLoopbackHost(uri))
        {
            return new LoadedTorrent(null, $"'{uri}' is not on loopback (bta.session.loopback-only is on)");
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_info.AskTimeout);
            using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return new LoadedTorrent(null, $"could not fetch '{uri}': HTTP {(int)response.StatusCode}");
            }
            if (response.Content.Headers.ContentLength > _info.MaxTorrentBytes)
            {
                return new LoadedTorrent(null, $"'{uri}' is larger than {_info.MaxTorrentBytes} bytes: not a .torrent file");
            }
            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            var bytes = await RpcBody.ReadBoundedAsync(stream, _info.MaxTorrentBytes, timeout.Token).ConfigureAwait(false);
            return bytes is null
                ? new LoadedTorrent(null, $"'{uri}' is larger than {_info.MaxTorrentBytes} bytes: not a .torrent file")
                : new LoadedTorrent(bytes, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return new LoadedTorrent(null, $"could not fetch '{uri}': {ex.Message}");
        }
    }

    private static bool IsLoopbackHost(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var address) && IPAddress.IsLoopback(address));

    private async Task<string> TorrentGetAsync(RpcArguments a, Utf8JsonWriter w, CancellationToken ct)
    {
        var fields = a.Strings("fields");
        if (fields is null || fields.Count == 0)
        {
            return "no fields specified";
        }
        var table = a.String("format") switch
        {
            null or "objects" => false,
            "table" => true,
            var other => throw new RpcArgumentException($"argument 'format' must be \"objects\" or \"table\", got \"{other}\""),
        };
        var ids = TorrentIds.Parse(a);
        var now = DateTimeOffset.UtcNow;
        var settings = await AskAsync<SessionSettingsSnapshot>(TorrentSessionActor.GetSessionSettings.Instance, ct).ConfigureAwait(false);
        var selected = await SelectAsync(ids, now, ct).ConfigureAwait(false);
        IReadOnlyList<TorrentFieldSource> sources;
        if (TorrentFields.NeedDetails(fields) && selected.Count > 0)
        {
            var details = await AskAsync<TorrentSessionActor.TorrentDetailsList>(
                new TorrentSessionActor.GetTorrentDetails([.. selected.Select(s => s.InfoHash)]), ct).ConfigureAwait(false);
            sources = [.. details.Torrents.Select(d => new TorrentFieldSource(d.Status, d, settings, now))];
        }
        else
        {
            sources = [.. selected.Select(s => new TorrentFieldSource(s, null, settings, now))];
        }
        var known = fields.Where(TorrentFields.IsKnown).Distinct(StringComparer.Ordinal).ToList();
        w.WriteStartObject();
        w.WriteStartArray("torrents");
        if (table)
        {
            w.WriteStartArray();
            foreach (var field in known)
            {
                w.WriteStringValue(field);
            }
            w.WriteEndArray();
        }
        foreach (var source in sources)
        {
            if (table)
            {
                TorrentFields.WriteRow(w, known, source);
            }
            else
            {
                TorrentFields.WriteObject(w, known, source);
            }
        }
        w.WriteEndArray();
        if (ids.RecentlyActive)
        {
            w.WriteStartArray("removed");
            foreach (var id in await RecentlyRemovedAsync(now, ct).ConfigureAwait(false))
            {
                w.WriteNumberValue(id);
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
        return Success;
    }

    private async Task<IReadOnlyList<TorrentStatus>> SelectAsync(TorrentIds ids, DateTimeOffset now, CancellationToken ct)
    {
        var list = await AskAsync<TorrentSessionActor.TorrentList>(new TorrentSessionActor.ListTorrents(), ct).ConfigureAwait(false);
        removed?.Tell(new RemovedTorrentsActor.Seen([.. list.Torrents.Select(t => (t.InfoHash, t.Id))]));
        return ids.Select(list.Torrents, now);
    }

    private async Task<IReadOnlyList<int>> RecentlyRemovedAsync(DateTimeOffset now, CancellationToken ct) =>
        removed is null
            ? []
            : (await removed.Ask<RemovedTorrentsActor.RecentlyRemoved>(new RemovedTorrentsActor.GetRecentlyRemoved(now), _info.AskTimeout, ct)
                .ConfigureAwait(false)).Ids;

    private async Task<string> EachTorrentAsync(RpcArguments a, Utf8JsonWriter w, Func<InfoHash, object> command, CancellationToken ct)
    {
        var selected = await SelectAsync(TorrentIds.Parse(a), DateTimeOffset.UtcNow, ct).ConfigureAwait(false);
        var result = Success;
        foreach (var torrent in selected)
        {
            if (await AskAsync<object>(command(torrent.InfoHash), ct).ConfigureAwait(false) is TorrentSessionActor.CommandRefused refused)
            {
                result = refused.Reason;
            }
        }
        EmptyObject(w);
        return result;
    }

    private async Task<string> TorrentRemoveAsync(RpcArguments a, Utf8JsonWriter w, CancellationToken ct)
    {
        var delete = a.Bool("delete-local-data") ?? false;
        var selected = await SelectAsync(TorrentIds.Parse(a), DateTimeOffset.UtcNow, ct).ConfigureAwait(false);
        var result = Success;
        var gone = new List<int>();
        foreach (var torrent in selected)
        {
            if (await AskAsync<object>(new TorrentSessionActor.RemoveTorrent(torrent.InfoHash, delete), ct).ConfigureAwait(false)
                is TorrentSessionActor.CommandRefused refused)
            {
                result = refused.Reason;
            }
            else
            {
                gone.Add(torrent.Id);
            }
        }
        removed?.Tell(new RemovedTorrentsActor.Removed(gone, DateTimeOffset.UtcNow));
        EmptyObject(w);
        return result;
    }

    private async Task<string> TorrentSetAsync(RpcArguments a, Utf8JsonWriter w, CancellationToken ct)
    {
        var ids = TorrentIds.Parse(a);
        var changes = FileChanges.Parse(a);
        var selected = await SelectAsync(ids, DateTimeOffset.UtcNow, ct).ConfigureAwait(false);
        if (a.String("location") is { } location)
        {
            var moved = await SetLocationAsync(selected, location, move: false, ct).ConfigureAwait(false);
            if (moved != Success)
            {
                return moved;
            }
        }
        IReadOnlyDictionary<InfoHash, IReadOnlyList<FileStatus>> files = new Dictionary<InfoHash, IReadOnlyList<FileStatus>>();
        if (!changes.IsEmpty && selected.Count > 0)
        {
            var details = await AskAsync<TorrentSessionActor.TorrentDetailsList>(
                new TorrentSessionActor.GetTorrentDetails([.. selected.Select(s => s.InfoHash)]), ct).ConfigureAwait(false);
            files = details.Torrents.ToDictionary(d => d.Status.InfoHash, d => d.Files);
        }
        // Parsed for every torrent before any is changed: a bad argument changes nothing.
        var updates = selected.Select(s => (s.InfoHash, Update: TorrentSetArguments.Parse(a, changes, files.GetValueOrDefault(s.InfoHash)))).ToList();
        var result = Success;
        foreach (var (hash, update) in updates)
        {
            if (await AskAsync<object>(new TorrentSessionActor.SetTorrentOptions(hash, update), ct).ConfigureAwait(false)
                is TorrentSessionActor.CommandRefused refused)
            {
                result = refused.Reason;
            }
        }
        EmptyObject(w);
        return result;
    }

    private async Task<string> TorrentSetLocationAsync(RpcArguments a, Utf8JsonWriter w, CancellationToken ct)
    {
        var location = a.String("location") ?? throw new RpcArgumentException("torrent-set-location needs 'location'");
        var move = a.Bool("move") ?? false;
        var selected = await SelectAsync(TorrentIds.Parse(a), DateTimeOffset.UtcNow, ct).ConfigureAwait(false);
        var result = await SetLocationAsync(selected, location, move, ct).ConfigureAwait(false);
        EmptyObject(w);
        return result;
    }

    private async Task<string> SetLocationAsync(IReadOnlyList<TorrentStatus> selected, string location, bool move, CancellationToken ct)
    {
        if (!Path.IsPathFullyQualified(location))
        {
            return "new location path is not absolute";
        }
        var result = Success;
        foreach (var torrent in selected)
        {
            if (await AskAsync<object>(new TorrentSessionActor.SetTorrentLocation(torrent.InfoHash, location, move), ct).ConfigureAwait(false)
                is TorrentSessionActor.CommandRefused refused)
            {
                result = refused.Reason;
            }
        }
        return result;
    }

    // ---- Plumbing ----

    private const string Success = "success";

    private Task<T> AskAsync<T>(object message, CancellationToken ct) => session.Ask<T>(message, _info.AskTimeout, ct);

    private static void EmptyObject(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteEndObject();
    }

    /// <summary>The reply envelope; <paramref name="arguments"/> empty means <c>{}</c>.</summary>
    internal static byte[] Reply(ReadOnlyMemory<byte> arguments, JsonElement? tag, string result)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("arguments");
            if (arguments.IsEmpty)
            {
                writer.WriteStartObject();
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteRawValue(arguments.Span, skipInputValidation: true);
            }
            writer.WriteString("result", result);
            if (tag is { } t)
            {
                writer.WritePropertyName("tag");
                t.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
