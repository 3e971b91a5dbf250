using System.Globalization;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>A torrent file on disk with its v1 info-hash (what the whitelist and every announce use).</summary>
public sealed record SwarmTorrent(string Path, InfoHash InfoHash, SwarmContent Content, int PadFiles = 0)
{
    /// <summary>Makes a v1 torrent with our own <see cref="TorrentBuilder"/>; null announce URL: trackerless.</summary>
    public static SwarmTorrent Build(SwarmContent content, string folder, string? announceUrl)
    {
        var bytes = TorrentBuilder.Build(
            content.Name,
            content.PieceLength,
            content.Files.Select(f => (f.Path, f.Bytes)).ToList(),
            announceTiers: announceUrl is null ? null : [[announceUrl]],
            createdBy: "bta swarm harness",
            singleFile: content.IsSingleFile);
        var parsed = TorrentMetainfo.Parse(bytes);
        if (parsed.Metainfo is null)
        {
            throw new SwarmException($"TorrentBuilder made a torrent our parser refuses: {parsed.Error}");
        }
        var path = System.IO.Path.Combine(folder, $"{content.Name}.torrent");
        File.WriteAllBytes(path, bytes);
        return new SwarmTorrent(path, parsed.Metainfo.InfoHash, content);
    }

    /// <summary>
    /// Makes a torrent with libtorrent from the content already written under <paramref name="seedRoot"/>: v1 only,
    /// or hybrid (v1 + v2), which libtorrent lays out with BEP 47 pad files between the files.
    /// </summary>
    public static async Task<SwarmTorrent> MakeWithLibtorrentAsync(
        SwarmContent content, string seedRoot, string folder, string announceUrl, bool hybrid)
    {
        var script = PythonScripts.WriteTo(folder, "make_torrent.py", PythonScripts.MakeTorrent);
        var path = System.IO.Path.Combine(folder, $"{content.Name}.{(hybrid ? "hybrid" : "v1")}.torrent");
        using var process = SwarmProcess.Start(
            "libtorrent create_torrent", Tools.Python,
            ["-u", script, System.IO.Path.Combine(seedRoot, content.Name), path,
                content.PieceLength.ToString(CultureInfo.InvariantCulture), announceUrl, hybrid ? "hybrid" : "v1"],
            TimeSpan.FromSeconds(60), folder);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        if (exit != 0)
        {
            throw new SwarmException($"make_torrent.py failed with exit code {exit}", process);
        }
        var v1Line = await process.WaitForOutputAsync(l => l.StartsWith("v1 ", StringComparison.Ordinal),
            TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        var padLine = await process.WaitForOutputAsync(l => l.StartsWith("pads ", StringComparison.Ordinal),
            TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        if (!InfoHash.TryParseHex(v1Line[3..].Trim(), out var infoHash))
        {
            throw new SwarmException($"make_torrent.py printed no v1 info-hash: '{v1Line}'", process);
        }
        return new SwarmTorrent(path, infoHash, content, int.Parse(padLine[5..], CultureInfo.InvariantCulture));
    }
}
