using System.Globalization;
using BitTorrentActors.Engine.Tests.Swarm;

namespace BitTorrentActors.Engine.Tests.Seeding;

/// <summary>
/// A python3-libtorrent leecher that remembers how many payload bytes it received from each peer (by peer id) and
/// prints them when it finishes: "frompeer HEXID BYTES CLIENT" lines, then "finished" (exit 0), or "timeout" (exit 1).
/// </summary>
public static class PeerReportingLeecher
{
    /// <summary>argv: torrent save_path port lifetime_s.</summary>
    public const string Script = PythonScripts.LeecherSession + "\n" + """
        seen = {}
        def sample():
            for peer in h.get_peer_info():
                key = (str(peer.pid), peer.ip)
                client = peer.client.decode('utf-8', 'replace') if isinstance(peer.client, bytes) else str(peer.client)
                seen[key] = (max(seen.get(key, (0, ''))[0], peer.total_download), client)
        def report():
            totals = {}
            for (pid, _), (down, client) in seen.items():
                old = totals.get(pid, (0, client))
                totals[pid] = (old[0] + down, client or old[1])
            for pid, (down, client) in totals.items():
                print('frompeer %s %d %s' % (pid, down, client.replace(' ', '_') or '?'), flush=True)
        end = time.time() + lifetime
        while time.time() < end:
            for a in s.pop_alerts():
                print('alert %s' % a.message(), flush=True)
            sample()
            st = h.status()
            print('progress %.3f downloaded %d peers %d' % (st.progress, st.total_payload_download, st.num_peers), flush=True)
            if st.is_seeding:
                sample()
                report()
                print('finished', flush=True)
                sys.exit(0)
            time.sleep(0.25)
        report()
        print('timeout', flush=True)
        sys.exit(1)
        """;

    /// <summary>Downloads to completion; returns bytes received per peer id (40 hex digits).</summary>
    public static async Task<IReadOnlyDictionary<string, long>> RunAsync(
        SwarmTorrent torrent, string saveRoot, string workDir, TimeSpan timeout)
    {
        var port = LoopbackPorts.Next();
        var script = PythonScripts.WriteTo(workDir, $"peer-leecher-{port}.py", Script);
        using var process = SwarmProcess.Start(
            $"libtorrent peer-reporting leecher 127.0.0.1:{port}", Tools.Python,
            ["-u", script, torrent.Path, saveRoot, Text(port), Text((long)timeout.TotalSeconds)],
            timeout + TimeSpan.FromSeconds(5), workDir);
        var exit = await process.WaitForExitAsync(timeout + TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (exit != 0)
        {
            throw new SwarmException($"libtorrent leecher did not finish (exit code {exit})", process);
        }
        return process.Lines
            .Where(l => l.StartsWith("frompeer ", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .ToDictionary(f => f[1], f => long.Parse(f[2], CultureInfo.InvariantCulture));
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
