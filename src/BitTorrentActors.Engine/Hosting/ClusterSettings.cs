using Akka.Configuration;

namespace BitTorrentActors.Engine.Hosting;

/// <summary>
/// Cluster mode of the daemon (<c>bta.cluster</c>): the node's Akka.Remote endpoint, the seed nodes it joins
/// through, its roles, the number of shards torrents are spread over and the split-brain resolver's
/// stable-after (keep-majority, Akka's default strategy).
/// </summary>
/// <param name="SeedNodes">host:port entries as written (the system name is always "bta").</param>
public sealed record ClusterSettings(
    bool Enabled,
    string Hostname,
    int Port,
    IReadOnlyList<string> SeedNodes,
    IReadOnlyList<string> Roles,
    int Shards,
    TimeSpan StableAfter)
{
    public static readonly ClusterSettings Default = new(false, "127.0.0.1", 4053, [], [], 100, TimeSpan.FromSeconds(20));

    /// <summary>The seed nodes as Akka addresses (<c>akka.tcp://bta@host:port</c>).</summary>
    public IReadOnlyList<string> SeedAddresses => [.. SeedNodes.Select(node => $"akka.tcp://{BtaHostingExtensions.ActorSystemName}@{node}")];

    /// <summary>This node's name in lists (the bta-node field): hostname:port, what other nodes dial.</summary>
    public string NodeName => $"{Hostname}:{Port}";

    // Value equality over the lists too (a record compares lists by reference): two reads of one file are equal.
    public bool Equals(ClusterSettings? other) => other is not null && Enabled == other.Enabled && Hostname == other.Hostname
        && Port == other.Port && SeedNodes.SequenceEqual(other.SeedNodes) && Roles.SequenceEqual(other.Roles)
        && Shards == other.Shards && StableAfter == other.StableAfter;

    public override int GetHashCode() => HashCode.Combine(Enabled, Hostname, Port, SeedNodes.Count, Roles.Count, Shards, StableAfter);

    internal static ClusterSettings Read(ConfigReader r, Config config)
    {
        if (!config.HasPath("bta.cluster"))
        {
            return Default;
        }
        var seeds = List(r.GetString("bta.cluster.seed-nodes"));
        foreach (var seed in seeds)
        {
            if (!DhtSettings.TryParseNode(seed, out _, out _, out var error))
            {
                throw new BtaConfigException("bta.cluster.seed-nodes", error!);
            }
        }
        var hostname = r.GetString("bta.cluster.hostname").Trim();
        if (hostname.Length == 0)
        {
            throw new BtaConfigException("bta.cluster.hostname", "expected the address other nodes reach this one at, such as 127.0.0.1");
        }
        var stableAfter = r.GetDuration("bta.cluster.stable-after");
        if (stableAfter < TimeSpan.FromSeconds(1))
        {
            throw new BtaConfigException("bta.cluster.stable-after", $"must be at least 1s, got {stableAfter}");
        }
        return new ClusterSettings(
            SessionSettings.ReadBool(r, "bta.cluster.enabled"),
            hostname,
            r.GetInt("bta.cluster.port", 0, 65535),
            seeds,
            List(r.GetString("bta.cluster.roles")),
            r.GetInt("bta.cluster.shards", 1, 100_000),
            stableAfter);
    }

    private static IReadOnlyList<string> List(string text) =>
        [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
}
