using System.Net;
using BitTorrentActors.Engine.Tests.Dht;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary><c>bta dht</c>: joins through a scripted loopback node and prints the node id, the table and the good node.</summary>
public sealed class DhtCommandTests
{
    [Fact]
    public async Task Bta_dht_prints_the_node_id_the_table_and_its_good_nodes()
    {
        using var node = new ScriptedDhtNode(IPAddress.Parse("127.0.23.1"));

        var result = await CliRunner.RunAsync("dht", "--wait", "10", "--port", "0",
            "--set", "bta.listen-address=127.0.0.1", "--set", $"bta.dht.bootstrap-nodes={node.EndPoint}");

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^DHT node [0-9a-f]{40}$", lines[0]);
        Assert.StartsWith("table: 1 nodes, 1 good,", lines[1]);
        Assert.Matches($"^good [0-9a-f]{{40}} {Regex(node.EndPoint)}$", Assert.Single(lines, l => l.StartsWith("good ", StringComparison.Ordinal)));
        Assert.Contains(node.Queries, q => q is Protocol.Dht.FindNodeQuery);
    }

    [Fact]
    public async Task Bta_dht_with_no_node_answering_exits_1_after_the_wait()
    {
        var result = await CliRunner.RunAsync("dht", "--wait", "1", "--port", "0", "--set", "bta.listen-address=127.0.0.1",
            "--set", "bta.dht.bootstrap-nodes=");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("table: 0 nodes, 0 good", result.Stdout);
    }

    private static string Regex(IPEndPoint endPoint) => System.Text.RegularExpressions.Regex.Escape(endPoint.ToString());
}
