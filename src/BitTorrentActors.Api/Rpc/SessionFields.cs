using System.Text.Json;
using BitTorrentActors.Engine.Session;

namespace BitTorrentActors.Api.Rpc;

/// <summary>
/// Transmission's session methods (rpc-spec.md section 4): <c>session-get</c> with every key transmission-remote
/// 3.00 <c>-si</c> and the web UI read, <c>session-set</c> for the keys bta has, and <c>session-stats</c>.
/// Speed limits travel in kB/s (1000 bytes, Transmission's <c>speed-bytes</c>); bta keeps one number per limit
/// with 0 meaning unlimited, so <c>speed-limit-down-enabled</c> is "the limit is above 0".
/// </summary>
public static class SessionFields
{
    /// <summary>Transmission 3.00 speaks 16; tremotesf refuses a minimum above 14.</summary>
    public const int RpcVersion = 16;

    public const int RpcVersionMinimum = 14;

    public const int SpeedBytes = 1000;

    /// <summary>The session-get arguments. <paramref name="freeSpace"/>: bytes free in the download folder, or -1.</summary>
    public static void WriteSessionGet(
        Utf8JsonWriter w, SessionSettingsSnapshot s, string version, string sessionId, string configDir, long freeSpace,
        bool startAddedTorrents, IReadOnlyList<string>? fields = null)
    {
        var only = fields is { Count: > 0 } ? new HashSet<string>(fields, StringComparer.Ordinal) : null;
        void Number(string key, double value)
        {
            if (only?.Contains(key) ?? true)
            {
                w.WriteNumber(key, value);
            }
        }
        void Long(string key, long value)
        {
            if (only?.Contains(key) ?? true)
            {
                w.WriteNumber(key, value);
            }
        }
        void Bool(string key, bool value)
        {
            if (only?.Contains(key) ?? true)
            {
                w.WriteBoolean(key, value);
            }
        }
        void Text(string key, string value)
        {
            if (only?.Contains(key) ?? true)
            {
                w.WriteString(key, value);
            }
        }

        w.WriteStartObject();
        Long("alt-speed-down", 50);
        Bool("alt-speed-enabled", false);
        Long("alt-speed-time-begin", 540);
        Long("alt-speed-time-day", 127);
        Bool("alt-speed-time-enabled", false);
        Long("alt-speed-time-end", 1020);
        Long("alt-speed-up", 50);
        Bool("blocklist-enabled", false);
        Long("blocklist-size", 0);
        Text("blocklist-url", "");
        Long("cache-size-mb", 4);
        Text("config-dir", configDir);
        // The DHT as configured (bta.dht.enabled).
        Bool("dht-enabled", s.DhtEnabled);
        Text("download-dir", s.DownloadDirectory);
        Long("download-dir-free-space", freeSpace);
        Bool("download-queue-enabled", s.QueueEnabled);
        Long("download-queue-size", s.MaxActiveDownloads);
        Text("encryption", "tolerated");
        Long("idle-seeding-limit", 30);
        Bool("idle-seeding-limit-enabled", false);
        Text("incomplete-dir", s.DownloadDirectory);
        Bool("incomplete-dir-enabled", false);
        // Local service discovery as configured (bta.lsd.enabled; the loopback guard may still keep it off).
        Bool("lpd-enabled", s.LsdEnabled);
        Long("peer-limit-global", s.PeerLimitGlobal);
        Long("peer-limit-per-torrent", s.PeerLimitPerTorrent);
        Long("peer-port", s.ListenPort);
        Bool("peer-port-random-on-start", false);
        Bool("pex-enabled", false);
        Bool("port-forwarding-enabled", false);
        Bool("queue-stalled-enabled", false);
        Long("queue-stalled-minutes", 30);
        Bool("rename-partial-files", false);
        Long("rpc-version", RpcVersion);
        Long("rpc-version-minimum", RpcVersionMinimum);
        Bool("script-torrent-done-enabled", false);
        Text("script-torrent-done-filename", "");
        Bool("seed-queue-enabled", s.QueueEnabled);
        Long("seed-queue-size", s.MaxActiveSeeds);
        Number("seedRatioLimit", s.SeedRatioLimit);
        Bool("seedRatioLimited", s.SeedRatioLimited);
        Text("session-id", sessionId);
        Long("speed-limit-down", s.DownloadLimit / SpeedBytes);
        Bool("speed-limit-down-enabled", s.DownloadLimit > 0);
        Long("speed-limit-up", s.UploadLimit / SpeedBytes);
        Bool("speed-limit-up-enabled", s.UploadLimit > 0);
        Bool("start-added-torrents", startAddedTorrents);
        Bool("trash-original-torrent-files", false);
        if (only?.Contains("units") ?? true)
        {
            w.WriteStartObject("units");
            Units(w, "speed-units", ["kB/s", "MB/s", "GB/s", "TB/s"], "speed-bytes", 1000);
            Units(w, "size-units", ["kB", "MB", "GB", "TB"], "size-bytes", 1000);
            Units(w, "memory-units", ["KiB", "MiB", "GiB", "TiB"], "memory-bytes", 1024);
            w.WriteEndObject();
        }
        Bool("utp-enabled", false);
        Text("version", version);
        w.WriteEndObject();
    }

    private static void Units(Utf8JsonWriter w, string name, string[] units, string bytesName, int bytes)
    {
        w.WriteStartArray(name);
        foreach (var unit in units)
        {
            w.WriteStringValue(unit);
        }
        w.WriteEndArray();
        w.WriteNumber(bytesName, bytes);
    }

    /// <summary>The change a session-set asks for; keys bta does not have are ignored, as Transmission ignores
    /// keys it does not know.</summary>
    /// <exception cref="RpcArgumentException">a key has the wrong type or a value bta cannot apply.</exception>
    public static SessionSettingsUpdate ParseSessionSet(RpcArguments a, SessionSettingsSnapshot current)
    {
        if (a.Int("peer-port", 0, 65535) is { } port && port != current.ListenPort)
        {
            throw new RpcArgumentException($"peer-port cannot change while bta runs (it listens on {current.ListenPort}); set bta.listen-port and restart");
        }
        var queue = a.Bool("download-queue-enabled") ?? a.Bool("seed-queue-enabled");
        var ratio = a.Double("seedRatioLimit", 0, 1_000_000);
        return new SessionSettingsUpdate(
            DownloadDirectory: EmptyToNull(a.String("download-dir")),
            DownloadLimit: Limit(a, "speed-limit-down", "speed-limit-down-enabled"),
            UploadLimit: Limit(a, "speed-limit-up", "speed-limit-up-enabled"),
            MaxActiveDownloads: a.Int("download-queue-size", 1, 10_000),
            MaxActiveSeeds: a.Int("seed-queue-size", 1, 100_000),
            QueueEnabled: queue,
            PeerLimitGlobal: a.Int("peer-limit-global", 1, 100_000),
            PeerLimitPerTorrent: a.Int("peer-limit-per-torrent", 1, 100_000),
            SeedRatioLimit: ratio,
            SeedRatioLimited: a.Bool("seedRatioLimited"));
    }

    /// <summary>A limit in bytes per second from a value in kB/s and its enabled flag: disabled is 0 (unlimited);
    /// null when neither key is there.</summary>
    internal static long? Limit(RpcArguments a, string valueKey, string enabledKey)
    {
        var enabled = a.Bool(enabledKey);
        var value = a.Long(valueKey, 0, long.MaxValue / SpeedBytes);
        if (enabled == false)
        {
            return 0;
        }
        return value is { } kilo ? kilo * SpeedBytes : null;
    }

    public static void WriteSessionStats(Utf8JsonWriter w, SessionStats s)
    {
        w.WriteStartObject();
        w.WriteNumber("activeTorrentCount", s.ActiveTorrentCount);
        w.WriteNumber("downloadSpeed", s.DownloadRate);
        w.WriteNumber("pausedTorrentCount", s.PausedTorrentCount);
        w.WriteNumber("torrentCount", s.TorrentCount);
        w.WriteNumber("uploadSpeed", s.UploadRate);
        var seconds = (long)s.Uptime.TotalSeconds;
        w.WriteStartObject("cumulative-stats");
        Stats(w, s.UploadedEver, s.DownloadedEver, s.TorrentCount, sessionCount: 1, seconds);
        w.WriteEndObject();
        w.WriteStartObject("current-stats");
        Stats(w, s.UploadedThisSession, s.DownloadedThisSession, s.TorrentCount, sessionCount: 1, seconds);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Stats(Utf8JsonWriter w, long uploaded, long downloaded, int files, int sessionCount, long seconds)
    {
        w.WriteNumber("uploadedBytes", uploaded);
        w.WriteNumber("downloadedBytes", downloaded);
        w.WriteNumber("filesAdded", files);
        w.WriteNumber("sessionCount", sessionCount);
        w.WriteNumber("secondsActive", seconds);
    }

    private static string? EmptyToNull(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;
}
