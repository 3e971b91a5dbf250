using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>
/// aria2c seeding on 127.0.0.1 only (--interface, no IPv6, no DHT/LPD/PEX), checking the data first (-V) and seeding
/// until its lifetime ends (--seed-ratio=0.0 means no ratio limit). Its JSON-RPC (loopback only) reports uploads.
/// </summary>
public sealed class Aria2Seeder : ISwarmSeeder
{
    private const string Secret = "swarm";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly SwarmProcess _process;
    private readonly int _rpcPort;

    private Aria2Seeder(int port, int rpcPort, SwarmProcess process)
    {
        EndPoint = new IPEndPoint(IPAddress.Loopback, port);
        _rpcPort = rpcPort;
        _process = process;
    }

    public string Name => $"aria2 seeder {EndPoint}";

    public IPEndPoint EndPoint { get; }

    public string Log => _process.Log;

    /// <param name="uploadLimit">Bytes per second aria2 may upload (0: unlimited).</param>
    public static async Task<Aria2Seeder> StartAsync(
        SwarmTorrent torrent, string seedRoot, string workDir, TimeSpan lifetime, long uploadLimit = 0)
    {
        var port = LoopbackPorts.Next();
        var rpcPort = LoopbackPorts.Next();
        var minutes = (lifetime.TotalMinutes + 1).ToString("0.##", CultureInfo.InvariantCulture);
        var process = SwarmProcess.Start(
            $"aria2 seeder 127.0.0.1:{port}", Tools.Aria2,
            [.. Aria2Leecher.CommonArguments(port), "-V", "--seed-ratio=0.0", $"--seed-time={minutes}",
                "--enable-rpc", $"--rpc-listen-port={rpcPort}", "--rpc-listen-all=false", $"--rpc-secret={Secret}",
                $"--max-upload-limit={uploadLimit}", "-d", seedRoot, torrent.Path],
            lifetime, workDir);
        var seeder = new Aria2Seeder(port, rpcPort, process);
        try
        {
            await process.WaitForOutputAsync(l => l.Contains("IPv4 BitTorrent: listening on TCP port", StringComparison.Ordinal),
                TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            var (completed, total, _) = await seeder.StatusAsync().ConfigureAwait(false);
            if (completed != total || total != torrent.Content.TotalLength)
            {
                throw new SwarmException($"aria2 has {completed} of {total} bytes after checking, not a seed", process);
            }
        }
        catch
        {
            seeder.Dispose();
            throw;
        }
        return seeder;
    }

    public async Task<long> GetUploadedAsync() => (await StatusAsync().ConfigureAwait(false)).Uploaded;

    public void Dispose() => _process.Dispose();

    private async Task<(long Completed, long Total, long Uploaded)> StatusAsync()
    {
        var request = new
        {
            jsonrpc = "2.0",
            id = "swarm",
            method = "aria2.tellActive",
            @params = new object[] { $"token:{Secret}", new[] { "completedLength", "totalLength", "uploadLength" } },
        };
        try
        {
            // A string body: aria2's RPC server wants a Content-Length, not a chunked body.
            using var body = new StringContent(JsonSerializer.Serialize(request), Encoding.UTF8, "application/json");
            using var response = await Http.PostAsync($"http://127.0.0.1:{_rpcPort}/jsonrpc", body).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            using var json = JsonDocument.Parse(text);
            if (!json.RootElement.TryGetProperty("result", out var active))
            {
                throw new SwarmException($"aria2 RPC answered without a result: {text}", _process);
            }
            if (active.GetArrayLength() != 1)
            {
                throw new SwarmException($"aria2 has {active.GetArrayLength()} active downloads, expected 1", _process);
            }
            long Field(string name) => long.Parse(active[0].GetProperty(name).GetString()!, CultureInfo.InvariantCulture);
            return (Field("completedLength"), Field("totalLength"), Field("uploadLength"));
        }
        catch (HttpRequestException ex)
        {
            throw new SwarmException($"aria2 RPC on 127.0.0.1:{_rpcPort} failed: {ex.Message}", _process);
        }
    }
}

/// <summary>aria2c as a leecher run to completion (--seed-time=0: it exits once the download is verified).</summary>
public static class Aria2Leecher
{
    /// <summary>Flags every aria2 run here uses: loopback only, no config file, no DHT/LPD/PEX, quiet summary.</summary>
    public static string[] CommonArguments(int port) =>
    [
        "--no-conf", $"--listen-port={port}", "--interface=127.0.0.1", "--disable-ipv6=true", "--enable-dht=false",
        "--bt-enable-lpd=false", "--enable-peer-exchange=false", "--summary-interval=0", "--file-allocation=none",
    ];

    public static async Task RunAsync(SwarmTorrent torrent, string saveRoot, string workDir, TimeSpan timeout)
    {
        var port = LoopbackPorts.Next();
        using var process = SwarmProcess.Start(
            $"aria2 leecher 127.0.0.1:{port}", Tools.Aria2,
            [.. CommonArguments(port), "--seed-time=0", $"--bt-stop-timeout={(int)timeout.TotalSeconds}",
                "-d", saveRoot, torrent.Path],
            timeout + TimeSpan.FromSeconds(5), workDir);
        var exit = await process.WaitForExitAsync(timeout + TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (exit != 0)
        {
            throw new SwarmException($"aria2 leecher failed with exit code {exit}", process);
        }
    }
}
