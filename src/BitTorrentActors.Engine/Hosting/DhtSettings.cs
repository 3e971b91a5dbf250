using Akka.Configuration;

namespace BitTorrentActors.Engine.Hosting;

/// <summary>The session's DHT node (<c>bta.dht</c>).</summary>
/// <param name="BootstrapNodes">host:port entries as written (names are resolved by the session, off its thread).</param>
/// <param name="StateFile">The routing table's file, relative to the state folder (absolute allowed).</param>
/// <param name="Port">The session's UDP port (the DHT and the UDP tracker client); 0: the listen port.</param>
public sealed record DhtSettings(
    bool Enabled,
    IReadOnlyList<string> BootstrapNodes,
    TimeSpan AnnounceInterval,
    double MaxQueriesPerSecond,
    string StateFile,
    int Port = 0)
{
    public static readonly DhtSettings Default = new(true,
        ["router.bittorrent.com:6881", "dht.transmissionbt.com:6881", "router.utorrent.com:6881"],
        TimeSpan.FromMinutes(15), 5, "dht.dat");

    /// <summary>Queries one address may send at once before the rate applies: ten seconds' worth (50 at 5/s).</summary>
    public int QueryBurst => Math.Max(1, (int)Math.Ceiling(MaxQueriesPerSecond * 10));

    // Value equality over the list too (a record compares lists by reference): two reads of one file are equal.
    public bool Equals(DhtSettings? other) => other is not null && Enabled == other.Enabled
        && BootstrapNodes.SequenceEqual(other.BootstrapNodes) && AnnounceInterval == other.AnnounceInterval
        && MaxQueriesPerSecond.Equals(other.MaxQueriesPerSecond) && StateFile == other.StateFile && Port == other.Port;

    public override int GetHashCode() => HashCode.Combine(Enabled, BootstrapNodes.Count, AnnounceInterval, MaxQueriesPerSecond, StateFile, Port);

    /// <summary>Splits "host:port" (or "[v6]:port"); false for anything else, with the reason.</summary>
    public static bool TryParseNode(string text, out string host, out int port, out string? error)
    {
        host = "";
        port = 0;
        error = null;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            error = $"expected host:port, got '{text}'";
            return false;
        }
        host = text[..colon].Trim('[', ']');
        if (!int.TryParse(text[(colon + 1)..], System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            error = $"expected a port 1-65535 in '{text}'";
            return false;
        }
        if (host.Length == 0)
        {
            error = $"expected host:port, got '{text}'";
            return false;
        }
        return true;
    }

    internal static DhtSettings Read(ConfigReader r, Config config)
    {
        if (!config.HasPath("bta.dht"))
        {
            return Default;
        }
        IReadOnlyList<string> nodes = [.. r.GetString("bta.dht.bootstrap-nodes")
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
        foreach (var node in nodes)
        {
            if (!TryParseNode(node, out _, out _, out var error))
            {
                throw new BtaConfigException("bta.dht.bootstrap-nodes", error!);
            }
        }
        var stateFile = r.GetString("bta.dht.state-file").Trim();
        if (stateFile.Length == 0)
        {
            throw new BtaConfigException("bta.dht.state-file", "expected a file name such as dht.dat");
        }
        return new DhtSettings(
            SessionSettings.ReadBool(r, "bta.dht.enabled"),
            nodes,
            r.GetDuration("bta.dht.announce-interval"),
            SessionSettings.ReadDouble(r, "bta.dht.max-queries-per-second", 0.1, 10_000),
            stateFile,
            r.GetInt("bta.dht.port", 0, 65535));
    }
}
