using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>
/// transmission-daemon 3.00 seeding one torrent: its own config dir, foreground, RPC and peers on 127.0.0.1 only,
/// no auth, no DHT/LPD/port mapping/uTP, plaintext tolerated. Transmission never dials 127.0.0.0/8 peers and keys
/// peers by IP: it serves whoever dials it, one loopback leecher per instance, and unchokes a new peer only at its
/// next rechoke (up to ~10 s). Use a fresh one per leecher run. Started with <c>waitForSeeding: false</c> over an
/// empty folder it is a leecher, which gets data only from peers that dial it.
/// </summary>
public sealed class TransmissionSeeder : ISwarmSeeder
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly SwarmProcess _process;
    private readonly int _rpcPort;
    private string _sessionId = "";

    private TransmissionSeeder(int port, int rpcPort, SwarmProcess process)
    {
        EndPoint = new IPEndPoint(IPAddress.Loopback, port);
        _rpcPort = rpcPort;
        _process = process;
    }

    public string Name => $"transmission seeder {EndPoint}";

    public IPEndPoint EndPoint { get; }

    public string Log => _process.Log;

    public static async Task<TransmissionSeeder> StartAsync(
        SwarmTorrent torrent, string seedRoot, string workDir, TimeSpan lifetime, bool waitForSeeding = true)
    {
        Tools.Require(Tools.TransmissionRemote);
        var port = LoopbackPorts.Next();
        var rpcPort = LoopbackPorts.Next();
        var process = StartDaemon($"transmission seeder 127.0.0.1:{port}", port, rpcPort, seedRoot, workDir, lifetime);
        var seeder = new TransmissionSeeder(port, rpcPort, process);
        try
        {
            await WaitForRpcAsync(rpcPort, process, TimeSpan.FromSeconds(15)).ConfigureAwait(false);
            using (var remote = SwarmProcess.Start(
                "transmission-remote", Tools.TransmissionRemote,
                [$"127.0.0.1:{rpcPort}", "--add", torrent.Path], TimeSpan.FromSeconds(15), workDir))
            {
                await remote.WaitForOutputAsync(l => l.Contains("success", StringComparison.Ordinal),
                    TimeSpan.FromSeconds(15)).ConfigureAwait(false);
            }
            if (waitForSeeding)
            {
                await seeder.WaitUntilSeedingAsync(torrent.Content.TotalLength, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            }
        }
        catch
        {
            seeder.Dispose();
            throw;
        }
        return seeder;
    }

    /// <summary>transmission-daemon with no torrent yet (the RPC tests' reference server), its RPC ready on
    /// 127.0.0.1:<c>RpcPort</c>, downloading to <paramref name="downloadDir"/>.</summary>
    public static async Task<(SwarmProcess Process, int RpcPort)> StartEmptyAsync(string downloadDir, string workDir, TimeSpan lifetime)
    {
        var rpcPort = LoopbackPorts.Next();
        var port = LoopbackPorts.Next();
        var process = StartDaemon($"transmission-daemon 127.0.0.1:{port}", port, rpcPort, downloadDir, workDir, lifetime);
        try
        {
            await WaitForRpcAsync(rpcPort, process, TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        }
        catch
        {
            process.Dispose();
            throw;
        }
        return (process, rpcPort);
    }

    private static SwarmProcess StartDaemon(string name, int port, int rpcPort, string downloadDir, string workDir, TimeSpan lifetime)
    {
        var configDir = Path.Combine(workDir, $"transmission-{port}");
        Directory.CreateDirectory(configDir);
        return SwarmProcess.Start(
            name, Tools.TransmissionDaemon,
            ["--foreground", "--config-dir", configDir, "--port", LibtorrentSeeder.Text(rpcPort),
                "--rpc-bind-address", "127.0.0.1", "--allowed", "127.0.0.1", "--no-auth",
                "--peerport", LibtorrentSeeder.Text(port), "--bind-address-ipv4", "127.0.0.1",
                "--bind-address-ipv6", "::1", "--no-dht", "--no-lpd", "--no-portmap", "--no-utp",
                "--encryption-tolerated", "--no-incomplete-dir", "--download-dir", downloadDir, "--log-info"],
            lifetime, workDir);
    }

    public async Task<long> GetUploadedAsync() =>
        (await TorrentAsync().ConfigureAwait(false)).GetProperty("uploadedEver").GetInt64();

    public void Dispose() => _process.Dispose();

    /// <summary>Until every byte is verified and Transmission seeds (a leecher: the download is complete).</summary>
    public async Task WaitUntilSeedingAsync(long totalLength, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var torrent = await TorrentAsync().ConfigureAwait(false);
            var valid = torrent.GetProperty("haveValid").GetInt64();
            var status = torrent.GetProperty("status").GetInt32();
            if (valid == totalLength && status == 6)
            {
                return; // all data verified, status 6 = seeding
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new SwarmException($"transmission has {valid} of {totalLength} bytes verified, status {status}", _process);
            }
            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    private async Task<JsonElement> TorrentAsync()
    {
        var request = new
        {
            method = "torrent-get",
            arguments = new { fields = new[] { "haveValid", "status", "uploadedEver", "percentDone", "error", "errorString" } },
        };
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{_rpcPort}/transmission/rpc")
            {
                Content = new StringContent(JsonSerializer.Serialize(request), Encoding.UTF8, "application/json"),
            };
            message.Headers.Add("X-Transmission-Session-Id", _sessionId);
            using var response = await Http.SendAsync(message).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                _sessionId = response.Headers.GetValues("X-Transmission-Session-Id").First();
                continue;
            }
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync().ConfigureAwait(false));
            var torrents = json.RootElement.GetProperty("arguments").GetProperty("torrents");
            if (torrents.GetArrayLength() != 1)
            {
                throw new SwarmException($"transmission has {torrents.GetArrayLength()} torrents, expected 1", _process);
            }
            return torrents[0].Clone();
        }
        throw new SwarmException("transmission RPC kept refusing the session id", _process);
    }

    private static async Task WaitForRpcAsync(int rpcPort, SwarmProcess process, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", rpcPort).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new SwarmException($"transmission RPC not listening on 127.0.0.1:{rpcPort}: {ex.Message}", process);
            }
        }
    }
}
