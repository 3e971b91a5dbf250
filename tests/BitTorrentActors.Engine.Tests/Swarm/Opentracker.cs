using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>
/// Debian's opentracker on 127.0.0.1 (HTTP and UDP on one port). It is built whitelist-only: every info-hash must be
/// allowed first (written to the whitelist before start, or <see cref="AllowAsync"/> which appends and sends SIGHUP).
/// Started without -d: with -d it chroots and cannot read the whitelist.
/// </summary>
public sealed partial class Opentracker : IDisposable
{
    /// <summary>The client for every request to opentracker: a fresh connection each time, because opentracker
    /// answers and closes, and a pooled connection reused after that was reset under the request (seen in CI on
    /// a cluster test's probe and on a scrape while bta seed started).</summary>
    public static HttpClient Http { get; } = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero })
    {
        Timeout = TimeSpan.FromSeconds(5),
    };

    private readonly string _whitelist;
    private readonly SwarmProcess _process;

    private Opentracker(int port, string whitelist, SwarmProcess process)
    {
        Port = port;
        _whitelist = whitelist;
        _process = process;
    }

    public int Port { get; }

    public string AnnounceUrl => $"http://127.0.0.1:{Port}/announce";

    public string UdpAnnounceUrl => $"udp://127.0.0.1:{Port}/announce";

    public string Log => _process.Log;

    public static async Task<Opentracker> StartAsync(string workDir, IEnumerable<InfoHash> allowed, TimeSpan lifetime)
    {
        Tools.Require(Tools.Opentracker);
        var whitelist = Path.GetFullPath(Path.Combine(workDir, "opentracker.whitelist"));
        await File.WriteAllLinesAsync(whitelist, allowed.Select(h => h.ToHex())).ConfigureAwait(false);
        var port = LoopbackPorts.Next();
        var portText = port.ToString(CultureInfo.InvariantCulture);
        var process = SwarmProcess.Start(
            "opentracker", Tools.Opentracker, ["-i", "127.0.0.1", "-p", portText, "-P", portText, "-w", whitelist],
            lifetime, workDir);
        var tracker = new Opentracker(port, whitelist, process);
        try
        {
            await tracker.WaitUntilListeningAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch
        {
            tracker.Dispose();
            throw;
        }
        return tracker;
    }

    /// <summary>Adds an info-hash to the whitelist and makes opentracker reload it (SIGHUP), then waits until an
    /// announce for it is no longer refused.</summary>
    public async Task AllowAsync(InfoHash infoHash)
    {
        await File.AppendAllLinesAsync(_whitelist, [infoHash.ToHex()]).ConfigureAwait(false);
        using (var kill = SwarmProcess.Start(
            "kill -HUP", "/bin/kill", ["-HUP", _process.Pid.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(5)))
        {
            await kill.WaitForExitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!await IsAllowedAsync(infoHash).ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new SwarmException($"opentracker still refuses {infoHash} after SIGHUP", _process);
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>Asks with a "stopped" announce (which adds no peer) whether the tracker accepts the info-hash.</summary>
    public async Task<bool> IsAllowedAsync(InfoHash infoHash)
    {
        var url = $"{AnnounceUrl}?info_hash={Escape(infoHash)}&peer_id=-SW0001-harnessprobe&port=1&uploaded=0"
            + "&downloaded=0&left=0&event=stopped&compact=1";
        var body = Encoding.Latin1.GetString(await Http.GetByteArrayAsync(url).ConfigureAwait(false));
        return !body.Contains("failure reason", StringComparison.Ordinal);
    }

    /// <summary>Seeders and leechers the tracker knows for the info-hash (BEP 48 scrape).</summary>
    public async Task<(int Complete, int Incomplete)> ScrapeAsync(InfoHash infoHash)
    {
        var url = $"http://127.0.0.1:{Port}/scrape?info_hash={Escape(infoHash)}";
        var body = Encoding.Latin1.GetString(await Http.GetByteArrayAsync(url).ConfigureAwait(false));
        var complete = CompleteField().Match(body);
        var incomplete = IncompleteField().Match(body);
        return (complete.Success ? int.Parse(complete.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            incomplete.Success ? int.Parse(incomplete.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
    }

    /// <summary>Waits until at least <paramref name="seeders"/> seeders announced the info-hash.</summary>
    public async Task WaitForSeedersAsync(InfoHash infoHash, int seeders, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var (complete, _) = await ScrapeAsync(infoHash).ConfigureAwait(false);
            if (complete >= seeders)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new SwarmException($"opentracker saw {complete} seeders of {infoHash}, expected {seeders}", _process);
            }
            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    public void Dispose() => _process.Dispose();

    private static string Escape(InfoHash infoHash) =>
        string.Concat(infoHash.ToArray().Select(b => $"%{b:X2}"));

    private async Task WaitUntilListeningAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new SwarmException($"opentracker is not listening on 127.0.0.1:{Port}: {ex.Message}", _process);
            }
        }
    }

    [GeneratedRegex(@"8:completei(\d+)e")]
    private static partial Regex CompleteField();

    [GeneratedRegex(@"10:incompletei(\d+)e")]
    private static partial Regex IncompleteField();
}
