using System.Globalization;
using System.Net;
using Akka.Configuration;

namespace BitTorrentActors.Engine.Hosting;

/// <summary>The session's own settings (<c>bta.session</c>): where the daemon keeps its list, the queue and the
/// session-wide rate limits.</summary>
/// <param name="StateDirectory">Empty: the platform's data folder (see <see cref="ResolveStateDirectory"/>).</param>
/// <param name="DownloadDirectory">Empty: ~/Downloads.</param>
/// <param name="LoopbackOnly">Refuse every remote address outside loopback (the test guard).</param>
public sealed record SessionSettings(
    string StateDirectory,
    string DownloadDirectory,
    bool QueueEnabled,
    int MaxActiveDownloads,
    int MaxActiveSeeds,
    long DownloadRateLimit,
    long UploadRateLimit,
    double SeedRatioLimit,
    bool LoopbackOnly)
{
    public static readonly SessionSettings Default = new("", "", true, 5, 10, 0, 0, 0, false);

    public string ResolveStateDirectory() => StateDirectory.Length > 0
        ? Path.GetFullPath(StateDirectory)
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData,
            Environment.SpecialFolderOption.DoNotVerify), "bta");

    public string ResolveDownloadDirectory() => DownloadDirectory.Length > 0
        ? Path.GetFullPath(DownloadDirectory)
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "Downloads");

    internal static SessionSettings Read(ConfigReader r, Config config)
    {
        if (!config.HasPath("bta.session"))
        {
            return Default;
        }
        return new SessionSettings(
            r.GetString("bta.session.state-dir"),
            r.GetString("bta.session.download-dir"),
            ReadBool(r, "bta.session.queue-enabled"),
            r.GetInt("bta.session.max-active-downloads", 1, 10_000),
            r.GetInt("bta.session.max-active-seeds", 1, 100_000),
            r.GetLong("bta.session.download-rate-limit", 0, long.MaxValue),
            r.GetLong("bta.session.upload-rate-limit", 0, long.MaxValue),
            ReadDouble(r, "bta.session.seed-ratio-limit", 0, 1_000_000),
            ReadBool(r, "bta.session.loopback-only") || LoopbackForcedByEnvironment());
    }

    /// <summary>The environment variable that forces loopback-only on, whatever the configuration says: a
    /// test harness sets it once and every bta it starts, in-process or as a child process, inherits it.</summary>
    public const string LoopbackOnlyVariable = "BTA_LOOPBACK_ONLY";

    private static bool LoopbackForcedByEnvironment() =>
        Environment.GetEnvironmentVariable(LoopbackOnlyVariable)?.Trim().ToLowerInvariant() is "1" or "true" or "on" or "yes";

    internal static bool ReadBool(ConfigReader r, string key)
    {
        var raw = r.GetString(key).Trim();
        return raw.ToLowerInvariant() switch
        {
            "true" or "on" or "yes" => true,
            "false" or "off" or "no" => false,
            _ => throw new BtaConfigException(key, $"expected true or false, got '{raw}'"),
        };
    }

    internal static double ReadDouble(ConfigReader r, string key, double min, double max)
    {
        var raw = r.GetString(key);
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw new BtaConfigException(key, $"expected a number, got '{raw}'");
        }
        return value >= min && value <= max
            ? value
            : throw new BtaConfigException(key, $"must be between {min} and {max}, got {raw}");
    }
}

/// <summary>The daemon's Transmission RPC (<c>bta.rpc</c>).</summary>
public sealed record RpcSettings(
    bool Enabled,
    IPAddress Bind,
    int Port,
    string Username,
    string Password,
    IReadOnlyList<string> HostWhitelist,
    int MaxBodyBytes)
{
    public static readonly RpcSettings Default = new(true, IPAddress.Loopback, 9091, "", "", [], 16 * 1024 * 1024);

    /// <summary>Folders a torrent-add <c>filename</c> may name; empty: the download and state folders.</summary>
    public IReadOnlyList<string> TorrentDirectories { get; init; } = [];

    /// <summary>A folder of another front-end's static files served at <c>/transmission/web/</c> (Transmission's
    /// web UI, say); "" = none. The environment variable TRANSMISSION_WEB_HOME wins over it (BitTorrentActors.Api's
    /// WebRoot), as it wins over every folder transmission-daemon would look in.</summary>
    public string WebRoot { get; init; } = "";

    public bool AuthenticationRequired => Username.Length > 0 || Password.Length > 0;

    // Value equality over the list too (a record compares lists by reference): two reads of one file are equal.
    public bool Equals(RpcSettings? other) => other is not null && Enabled == other.Enabled && Bind.Equals(other.Bind)
        && Port == other.Port && Username == other.Username && Password == other.Password
        && HostWhitelist.SequenceEqual(other.HostWhitelist) && MaxBodyBytes == other.MaxBodyBytes
        && TorrentDirectories.SequenceEqual(other.TorrentDirectories) && WebRoot == other.WebRoot;

    public override int GetHashCode() => HashCode.Combine(Enabled, Bind, Port, Username, HostWhitelist.Count, MaxBodyBytes);

    internal static RpcSettings Read(ConfigReader r, Config config)
    {
        if (!config.HasPath("bta.rpc"))
        {
            return Default;
        }
        var bindText = r.GetString("bta.rpc.bind");
        if (!IPAddress.TryParse(bindText, out var bind))
        {
            throw new BtaConfigException("bta.rpc.bind", $"expected an IP address such as 127.0.0.1, got '{bindText}'");
        }
        IReadOnlyList<string> whitelist = [.. r.GetString("bta.rpc.host-whitelist")
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
        return new RpcSettings(
            SessionSettings.ReadBool(r, "bta.rpc.enabled"),
            bind,
            r.GetInt("bta.rpc.port", 0, 65535),
            r.GetString("bta.rpc.username"),
            r.GetString("bta.rpc.password"),
            whitelist,
            r.GetInt("bta.rpc.max-body-bytes", 64 * 1024, 256 * 1024 * 1024))
        {
            TorrentDirectories = config.HasPath("bta.rpc.torrent-dirs")
                ? [.. r.GetString("bta.rpc.torrent-dirs").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    .Select(Path.GetFullPath)]
                : [],
            WebRoot = config.HasPath("bta.rpc.web-root") ? r.GetString("bta.rpc.web-root").Trim() : "",
        };
    }
}
