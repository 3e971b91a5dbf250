using System.Globalization;
using System.Text.Json;
using BitTorrentActors.Engine.Tests.Rpc;
using BitTorrentActors.Engine.Tests.Swarm;

namespace BitTorrentActors.Cluster.Tests;

/// <summary>One torrent as a node's RPC lists it: the bta-node field names where it runs.</summary>
public sealed record ListedTorrent(string Hash, string Name, string Node, int Status, long LeftUntilDone)
{
    public bool Running => Status is 4 or 6;

    public bool Complete => LeftUntilDone == 0 && Status == 6;
}

/// <summary>
/// One <c>bta daemon --cluster</c> process of a loopback cluster: its own state, download folder and cluster port
/// (kept across a restart, so the restarted node rejoins at the same address). The daemon itself is the engine
/// tests' <see cref="BtaDaemon"/>, started with the cluster options.
/// </summary>
public sealed class ClusterNode : IDisposable
{
    /// <summary>Split-brain resolver's stable-after for the tests (Akka's default is 20 s).</summary>
    public const string Config = "cluster.stable-after = 3s";

    private readonly string _workDir;
    private readonly TimeSpan _lifetime;

    private ClusterNode(string label, string workDir, TimeSpan lifetime, int clusterPort, string seed)
    {
        Label = label;
        _workDir = workDir;
        _lifetime = lifetime;
        ClusterPort = clusterPort;
        Seed = seed;
        StateDir = Path.Combine(workDir, label, "state");
        DownloadDir = Path.Combine(workDir, label, "downloads");
    }

    public string Label { get; }

    public int ClusterPort { get; }

    /// <summary>The node's name in lists (bta-node): its cluster endpoint.</summary>
    public string Name => $"127.0.0.1:{ClusterPort.ToString(CultureInfo.InvariantCulture)}";

    public string Seed { get; }

    public string StateDir { get; }

    public string DownloadDir { get; }

    public BtaDaemon Daemon { get; private set; } = null!;

    /// <summary>Starts a node; <paramref name="seed"/> null makes it the seed node (it joins itself).</summary>
    public static async Task<ClusterNode> StartAsync(string label, string workDir, TimeSpan lifetime, ClusterNode? seed = null)
    {
        var port = LoopbackPorts.Next();
        var node = new ClusterNode(label, workDir, lifetime, port, seed?.Name ?? $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        await node.RestartAsync().ConfigureAwait(false);
        return node;
    }

    /// <summary>(Re)starts the process with the same folders and cluster port.</summary>
    public async Task RestartAsync()
    {
        Daemon?.Dispose();
        Daemon = await BtaDaemon.StartAsync(_workDir, StateDir, DownloadDir, _lifetime, Config,
            extraArgs:
            ["--cluster", "--cluster-port", ClusterPort.ToString(CultureInfo.InvariantCulture), "--cluster-seed", Seed]).ConfigureAwait(false);
    }

    /// <summary>The cluster-wide list from this node's RPC.</summary>
    public async Task<IReadOnlyList<ListedTorrent>> ListAsync()
    {
        using var rpc = new RpcClient(Daemon.RpcUrl);
        var reply = await rpc.SucceedAsync("torrent-get",
            """{"fields":["hashString","name","bta-node","status","leftUntilDone"]}""").ConfigureAwait(false);
        return
        [
            .. reply.GetProperty("torrents").EnumerateArray().Select(t => new ListedTorrent(
                t.GetProperty("hashString").GetString()!, t.GetProperty("name").GetString()!, t.GetProperty("bta-node").GetString()!,
                t.GetProperty("status").GetInt32(), t.GetProperty("leftUntilDone").GetInt64())),
        ];
    }

    public override string ToString() => $"node {Label} ({Name})";

    public void Dispose() => Daemon?.Dispose();
}

/// <summary>Peers opentracker lists for a torrent: asked as a leecher on port 1 (compact replies).</summary>
public static class TrackerPeers
{
    public static async Task<IReadOnlyList<int>> PortsAsync(Opentracker tracker, string infoHashHex)
    {
        var hash = string.Concat(Convert.FromHexString(infoHashHex).Select(b => "%" + b.ToString("x2", CultureInfo.InvariantCulture)));
        var url = $"{tracker.AnnounceUrl}?info_hash={hash}&peer_id=-CT0001-clusterprobe&port=1&uploaded=0&downloaded=0&left=1"
            + "&numwant=50&compact=1";
        var body = await Opentracker.Http.GetByteArrayAsync(url).ConfigureAwait(false);
        var text = System.Text.Encoding.Latin1.GetString(body);
        var at = text.IndexOf("5:peers", StringComparison.Ordinal);
        if (at < 0)
        {
            return [];
        }
        var colon = text.IndexOf(':', at + 7);
        var length = int.Parse(text[(at + 7)..colon], CultureInfo.InvariantCulture);
        var ports = new List<int>();
        for (var i = colon + 1; i + 6 <= colon + 1 + length; i += 6)
        {
            ports.Add((body[i + 4] << 8) | body[i + 5]);
        }
        return ports;
    }
}
