using System.Globalization;
using System.Net;

namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>
/// A python3-libtorrent seeder on 127.0.0.1 (DHT, LSD, UPnP, NAT-PMP off; several connections per IP allowed, as every
/// loopback peer is 127.0.0.1). Announces to the torrent's trackers; reports its uploaded payload four times a second.
/// </summary>
public sealed class LibtorrentSeeder : ISwarmSeeder
{
    private readonly SwarmProcess _process;

    private LibtorrentSeeder(int port, SwarmProcess process)
    {
        EndPoint = new IPEndPoint(IPAddress.Loopback, port);
        _process = process;
    }

    public string Name => $"libtorrent seeder {EndPoint}";

    public IPEndPoint EndPoint { get; }

    public string Log => _process.Log;

    /// <param name="uploadLimit">Bytes per second, 0 = unlimited (applied to loopback peers too).</param>
    public static async Task<LibtorrentSeeder> StartAsync(
        SwarmTorrent torrent, string seedRoot, string workDir, TimeSpan lifetime, long uploadLimit = 0)
    {
        var port = LoopbackPorts.Next();
        var script = PythonScripts.WriteTo(workDir, $"seeder-{port}.py", PythonScripts.Seeder);
        var process = SwarmProcess.Start(
            $"libtorrent seeder 127.0.0.1:{port}", Tools.Python,
            ["-u", script, torrent.Path, seedRoot, Text(port), Text(uploadLimit), Text((long)lifetime.TotalSeconds)],
            lifetime + TimeSpan.FromSeconds(5), workDir);
        var seeder = new LibtorrentSeeder(port, process);
        try
        {
            await process.WaitForOutputAsync(l => l == "ready", TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch
        {
            seeder.Dispose();
            throw;
        }
        return seeder;
    }

    /// <summary>The last reported upload, without waiting.</summary>
    public long LastUploaded => _process.Lines.LastOrDefault(IsReport) is { } line ? ParseUploaded(line) : 0;

    public async Task<long> GetUploadedAsync()
    {
        // libtorrent updates its counters once a second: wait past one update, then take the next report.
        await Task.Delay(TimeSpan.FromSeconds(1.1)).ConfigureAwait(false);
        if (_process.HasExited)
        {
            return LastUploaded;
        }
        var line = await _process.WaitForOutputAsync(IsReport, TimeSpan.FromSeconds(5), _process.LineCount)
            .ConfigureAwait(false);
        return ParseUploaded(line);
    }

    public void Dispose() => _process.Dispose();

    internal static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static bool IsReport(string line) => line.StartsWith("uploaded ", StringComparison.Ordinal);

    private static long ParseUploaded(string line) => long.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
}

/// <summary>A python3-libtorrent leecher run to completion: downloads into a folder, then exits.</summary>
public static class LibtorrentLeecher
{
    /// <summary>Downloads the torrent into <paramref name="saveRoot"/>; throws with the log unless it finishes
    /// within <paramref name="timeout"/>. <paramref name="peers"/> are dialled directly besides the tracker's.</summary>
    public static async Task RunAsync(
        SwarmTorrent torrent, string saveRoot, string workDir, TimeSpan timeout, params IPEndPoint[] peers)
    {
        var port = LoopbackPorts.Next();
        var script = PythonScripts.WriteTo(workDir, $"leecher-{port}.py", PythonScripts.Leecher);
        using var process = SwarmProcess.Start(
            $"libtorrent leecher 127.0.0.1:{port}", Tools.Python,
            ["-u", script, torrent.Path, saveRoot, LibtorrentSeeder.Text(port),
                LibtorrentSeeder.Text((long)timeout.TotalSeconds), .. peers.Select(p => p.ToString())],
            timeout + TimeSpan.FromSeconds(5), workDir);
        var exit = await process.WaitForExitAsync(timeout + TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (exit != 0)
        {
            throw new SwarmException($"libtorrent leecher did not finish (exit code {exit})", process);
        }
    }
}
