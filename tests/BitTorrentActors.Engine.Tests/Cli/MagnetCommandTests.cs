using System.Text.Json;
using BitTorrentActors.Engine.Tests.Interop;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary><c>bta info</c> and <c>bta download</c> given a magnet link: what the link says, and a bad or v2-only
/// link refused in one line with the usage exit code before anything starts.</summary>
public sealed class MagnetCommandTests : IDisposable
{
    private const string Hex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Info_prints_the_hash_name_trackers_peers_and_web_seeds_of_a_magnet()
    {
        var magnet = $"magnet:?xt=urn:btih:{Hex}&dn=Big%20Buck%20Bunny&tr=udp%3A%2F%2F127.0.0.1%3A6969&tr=http%3A%2F%2F127.0.0.1%3A8000%2Fannounce"
            + "&x.pe=127.0.0.1:51413&ws=http%3A%2F%2F127.0.0.1%2Fbbb";

        var result = await CliRunner.RunAsync("info", magnet);

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Contains("Name:          Big Buck Bunny", lines);
        Assert.Contains($"Info-hash:     {Hex}", lines);
        Assert.Contains("  udp://127.0.0.1:6969", lines);
        Assert.Contains("  http://127.0.0.1:8000/announce", lines);
        Assert.Contains("  127.0.0.1:51413", lines);
        Assert.Contains("  http://127.0.0.1/bbb", lines);
    }

    [Fact]
    public async Task Info_of_a_base32_magnet_prints_the_hash_in_hex_and_json_has_stable_fields()
    {
        var magnet = $"magnet:?xt=urn:btih:{Base32(Convert.FromHexString(Hex))}&x.pe=127.0.0.1:6881";

        var result = await CliRunner.RunAsync("info", magnet, "--json");

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        Assert.Equal(Hex, root.GetProperty("infoHash").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("name").ValueKind);
        Assert.Equal(0, root.GetProperty("trackers").GetArrayLength());
        Assert.Equal("127.0.0.1:6881", root.GetProperty("peers")[0].GetString());
        Assert.Equal(0, root.GetProperty("webSeeds").GetArrayLength());
    }

    [Theory]
    [InlineData("info", "magnet:?xt=urn:btmh:1220aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "v2-only magnet")]
    [InlineData("info", "magnet:?xt=urn:btih:12345", "info-hash must be 40 hex or 32 base32 characters")]
    [InlineData("info", "magnet:?dn=no-hash", "missing xt=urn:btih")]
    [InlineData("download", "magnet:?xt=urn:btmh:1220aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "v2-only magnet")]
    [InlineData("download", "magnet:?xt=urn:btih:zz", "info-hash must be 40 hex or 32 base32 characters")]
    [InlineData("download", "magnet:?xt=urn:btih:%zz", "bad percent-encoding")]
    public async Task A_bad_or_v2_only_magnet_is_one_line_with_the_usage_exit_code(string command, string magnet, string reason)
    {
        var output = Path.Combine(_dir.Path, "out");

        var result = command == "info"
            ? await CliRunner.RunAsync(command, magnet)
            : await CliRunner.RunAsync(command, magnet, "-o", output, "--port", "0");

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Equal(string.Empty, result.Stdout);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("bta: invalid magnet link: ", line);
        Assert.Contains(reason, line);
        Assert.False(Directory.Exists(output), "nothing is created for a refused magnet");
    }

    [Fact]
    public async Task A_magnet_cannot_take_a_file_selection_or_be_seeded()
    {
        var magnet = $"magnet:?xt=urn:btih:{Hex}";

        var select = await CliRunner.RunAsync("download", magnet, "-o", _dir.Path, "--select-file", "1");
        var seed = await CliRunner.RunAsync("seed", magnet, "--data", _dir.Path);

        Assert.Equal((2, 2), (select.ExitCode, seed.ExitCode));
        Assert.Contains("need the torrent's file list", Assert.Single(select.StderrLines));
        Assert.Contains("bta seed needs the .torrent file", Assert.Single(seed.StderrLines));
    }

    [Fact]
    public async Task A_magnet_with_no_tracker_and_no_peer_is_refused_before_anything_starts_when_the_dht_is_off()
    {
        var output = Path.Combine(_dir.Path, "out");

        // With the DHT on (the default) such a link is taken: TrackerlessMagnetTests downloads one.
        var result = await CliRunner.RunAsync("download", $"magnet:?xt=urn:btih:{Hex}&dn=lonely", "-o", output, "--port", "0",
            "--set", "bta.dht.enabled=false");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("names no tracker (tr=) and no peer (x.pe=), and bta.dht.enabled is off", Assert.Single(result.StderrLines));
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void The_fetching_metadata_line_names_the_peers_connected_and_offering_it_and_plain_output_repeats_only_changes()
    {
        using var text = new StringWriter();
        var renderer = new BitTorrentActors.Cli.Commands.ProgressRenderer(
            new BitTorrentActors.Cli.Commands.LiveConsole(text, TextWriter.Null, interactive: false), BitTorrentActors.Cli.Commands.ProgressMode.Human);

        renderer.RenderMetadata(2, 0, 0, 0);
        renderer.RenderMetadata(2, 0, 0, 0);
        renderer.RenderMetadata(3, 1, 0, 2);

        Assert.Equal("fetching metadata: peers 2, 0 offering it, pieces 0/?", text.ToString().Split('\n')[0]);
        Assert.Equal("fetching metadata: peers 3, 1 offering it, pieces 0/2",
            BitTorrentActors.Cli.Commands.ProgressRenderer.MetadataLine(3, 1, 0, 2));
        Assert.Single(text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>RFC 4648 base32 without padding (20 bytes give 32 characters exactly).</summary>
    internal static string Base32(byte[] bytes)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var text = new System.Text.StringBuilder();
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                text.Append(alphabet[(buffer >> bits) & 31]);
            }
        }
        return text.ToString();
    }
}
