using System.Globalization;
using System.Net;

namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>
/// A long-running python3-libtorrent peer on 127.0.0.1 for PEX and metadata tests: seeds or leeches a .torrent, or
/// starts from a magnet link (BEP 9), dials the peers it is given, keeps connections between seeds (libtorrent
/// closes them by default, which would end the PEX under test), and reports its transfer, its metadata and
/// completion times, and its peers with the source libtorrent learned each from. Bounded by its lifetime and
/// killed by PID on Dispose.
/// </summary>
public sealed class LibtorrentPeer : ISwarmSeeder
{
    /// <summary>libtorrent's <c>peer_info.pex</c> source bit.</summary>
    public const int PexSource = 0x4;

    private readonly SwarmProcess _process;

    private LibtorrentPeer(int port, SwarmProcess process)
    {
        EndPoint = new IPEndPoint(IPAddress.Loopback, port);
        _process = process;
    }

    public string Name => $"libtorrent peer {EndPoint}";

    public IPEndPoint EndPoint { get; }

    public string Log => _process.Log;

    /// <summary>Starts the peer on <paramref name="source"/> (a .torrent path or a magnet URI).</summary>
    /// <param name="uploadLimit">Bytes per second, 0 = unlimited (applied to loopback peers too).</param>
    /// <param name="pex">False: the torrent ignores PEX messages and sends none (libtorrent's disable_pex).</param>
    public static LibtorrentPeer Start(string source, string saveRoot, string workDir, TimeSpan lifetime,
        long uploadLimit = 0, bool pex = true, params IPEndPoint[] peers)
    {
        var port = LoopbackPorts.Next();
        var script = PythonScripts.WriteTo(workDir, $"peer-{port}.py", PythonScripts.Peer);
        var process = SwarmProcess.Start(
            $"libtorrent peer 127.0.0.1:{port}", Tools.Python,
            ["-u", script, source, saveRoot, Text(port), Text((long)lifetime.TotalSeconds), Text(uploadLimit),
                pex ? "pex" : "nopex", .. peers.Select(p => p.ToString())],
            lifetime + TimeSpan.FromSeconds(5), workDir);
        return new LibtorrentPeer(port, process);
    }

    /// <summary>Waits until the peer has every piece ("finished T", T seconds after its start); returns T.</summary>
    public async Task<double> WaitForFinishedAsync(TimeSpan timeout) =>
        Seconds(await _process.WaitForOutputAsync(l => l.StartsWith("finished ", StringComparison.Ordinal), timeout).ConfigureAwait(false));

    /// <summary>Waits until the peer has the metadata ("metadata T"); returns T, seconds after its start.</summary>
    public async Task<double> WaitForMetadataAsync(TimeSpan timeout) =>
        Seconds(await _process.WaitForOutputAsync(l => l.StartsWith("metadata ", StringComparison.Ordinal), timeout).ConfigureAwait(false));

    /// <summary>Waits for a report listing a peer that matches; returns the line
    /// ("peer 127.0.0.1:PORT source N client NAME").</summary>
    public Task<string> WaitForPeerAsync(Func<PeerLine, bool> match, TimeSpan timeout, int fromLine = 0) =>
        _process.WaitForOutputAsync(l => PeerLine.TryParse(l) is { } p && match(p), timeout, fromLine);

    public int LineCount => _process.LineCount;

    /// <summary>The last reported upload, without waiting.</summary>
    public long LastUploaded => _process.Lines.LastOrDefault(IsReport) is { } line ? Field(line, 1) : 0;

    public async Task<long> GetUploadedAsync()
    {
        // libtorrent updates its counters once a second: wait past one update, then take the next report.
        await Task.Delay(TimeSpan.FromSeconds(1.1)).ConfigureAwait(false);
        if (_process.HasExited)
        {
            return LastUploaded;
        }
        var line = await _process.WaitForOutputAsync(IsReport, TimeSpan.FromSeconds(5), _process.LineCount).ConfigureAwait(false);
        return Field(line, 1);
    }

    public void Dispose() => _process.Dispose();

    private static bool IsReport(string line) => line.StartsWith("uploaded ", StringComparison.Ordinal);

    private static long Field(string line, int index) => long.Parse(line.Split(' ')[index], CultureInfo.InvariantCulture);

    private static double Seconds(string line) => double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>One peer of a report: its address, libtorrent's source bits, its client name.</summary>
    public sealed record PeerLine(IPEndPoint EndPoint, int Source, string Client)
    {
        public static PeerLine? TryParse(string line)
        {
            var parts = line.Split(' ', 6);
            return parts.Length >= 5 && parts[0] == "peer" && parts[2] == "source"
                && IPEndPoint.TryParse(parts[1], out var endPoint) && int.TryParse(parts[3], CultureInfo.InvariantCulture, out var source)
                ? new PeerLine(endPoint, source, parts.Length == 6 ? parts[5] : "")
                : null;
        }
    }
}
