using System.Text.RegularExpressions;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Protocol.Metainfo;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>
/// A differential test: the same transmission-remote 3.00 commands against transmission-daemon 3.00 (the
/// reference) and against <c>bta daemon</c>, each with the same two torrents whose data is already in its
/// download folder, on 127.0.0.1 with no trackers, DHT, LPD or port mapping. Exit codes and output must agree,
/// apart from what legitimately differs (addresses and folders, rates, dates, the creator line).
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed partial class TransmissionDifferentialTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(150);
    private readonly SwarmScope _swarm = new("rpc-diff", Lifetime);

    private sealed record Step(string Command, int ExitCode, IReadOnlyList<string> Lines);

    [Fact]
    public async Task Transmission_remote_prints_the_same_for_bta_as_for_transmission_daemon()
    {
        var one = SwarmContent.MultiFile("one", seed: 71);
        var two = SwarmContent.SingleFile("two.bin", 1_000_000, seed: 72);
        var oneTorrent = Write(one);
        var twoTorrent = Write(two);

        var reference = await RunAgainstTransmissionAsync(one, two, oneTorrent, twoTorrent);
        var ours = await RunAgainstBtaAsync(one, two, oneTorrent, twoTorrent);

        var differences = new List<string>();
        foreach (var (expected, actual) in reference.Zip(ours))
        {
            output.WriteLine($"$ transmission-remote {expected.Command}  (exit {expected.ExitCode} / {actual.ExitCode})");
            if (expected.ExitCode != actual.ExitCode)
            {
                differences.Add($"{expected.Command}: exit code {expected.ExitCode} from transmission-daemon, {actual.ExitCode} from bta");
            }
            var want = Comparable(expected.Command, expected.Lines);
            var got = Comparable(actual.Command, actual.Lines);
            for (var i = 0; i < Math.Max(want.Count, got.Count); i++)
            {
                var w = i < want.Count ? want[i] : "<none>";
                var g = i < got.Count ? got[i] : "<none>";
                output.WriteLine(w == g ? $"   {w}" : $" T {w}\n B {g}");
                if (w != g)
                {
                    differences.Add($"{expected.Command} line {i}: transmission '{w}', bta '{g}'");
                }
            }
        }
        Assert.True(differences.Count == 0, string.Join('\n', differences));
    }

    private string Write(SwarmContent content)
    {
        var bytes = TorrentBuilder.Build(content.Name, content.PieceLength, [.. content.Files.Select(f => (f.Path, f.Bytes))],
            createdBy: "bta differential test", creationDate: new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
            singleFile: content.IsSingleFile);
        var path = Path.Combine(_swarm.Dir.Path, content.Name + ".torrent");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private async Task<IReadOnlyList<Step>> RunAgainstTransmissionAsync(SwarmContent one, SwarmContent two, string oneTorrent, string twoTorrent)
    {
        var downloads = _swarm.Dir.Sub("transmission-downloads");
        one.WriteTo(downloads);
        two.WriteTo(downloads);
        var (process, rpcPort) = await TransmissionSeeder.StartEmptyAsync(downloads, _swarm.Dir.Path, Lifetime);
        using (process)
        {
            var url = $"http://127.0.0.1:{rpcPort}/transmission/rpc";
            return await RunSequenceAsync($"127.0.0.1:{rpcPort}", url, downloads, oneTorrent, twoTorrent, () => process.Log);
        }
    }

    private async Task<IReadOnlyList<Step>> RunAgainstBtaAsync(SwarmContent one, SwarmContent two, string oneTorrent, string twoTorrent)
    {
        var downloads = _swarm.Dir.Sub("bta-downloads");
        one.WriteTo(downloads);
        two.WriteTo(downloads);
        using var daemon = await BtaDaemon.StartAsync(_swarm.Dir.Path, _swarm.Dir.Sub("bta-state"), downloads, Lifetime);
        var steps = await RunSequenceAsync(daemon.Address, daemon.RpcUrl, downloads, oneTorrent, twoTorrent, () => daemon.Log);
        Assert.Equal(0, await daemon.InterruptAsync(TimeSpan.FromSeconds(60)));
        return steps;
    }

    private async Task<IReadOnlyList<Step>> RunSequenceAsync(
        string address, string url, string downloads, string oneTorrent, string twoTorrent, Func<string> log)
    {
        using var rpc = new RpcClient(url);
        var steps = new List<Step>();
        async Task Run(params string[] args)
        {
            var result = await TransmissionRemote.RunAsync(address, _swarm.Dir.Path, args);
            var lines = result.Lines.Select(l => l.Replace(address, "ADDR", StringComparison.Ordinal)
                .Replace(downloads, "DIR", StringComparison.Ordinal)).ToList();
            steps.Add(new Step(string.Join(' ', args.Select(a => a.Replace(_swarm.Dir.Path, "WORK", StringComparison.Ordinal))), result.ExitCode, lines));
        }
        Task Status(int id, int status, string what) =>
            RpcWait.TorrentAsync(rpc, id, t => t.GetProperty("status").GetInt32() == status && (status != 6 || RpcWait.Complete(t)),
                TimeSpan.FromSeconds(30), what, log);

        await Run("-a", oneTorrent);
        await Run("-a", twoTorrent);
        await Status(1, 6, "seeding");
        await Status(2, 6, "seeding");
        await Run("-a", oneTorrent);
        await Run("-l");
        await Run("-t", "1", "-S");
        await Status(1, 0, "stopped");
        await Run("-l");
        await Run("-t", "1", "-s");
        await Status(1, 6, "seeding");
        await Run("-t", "1", "-v");
        await Task.Delay(1000);
        await Status(1, 6, "seeding after verify");
        await Run("-l");
        await Run("-t", "1", "-i");
        await Run("-t", "1", "-f");
        await Run("-t", "1", "-G", "5");
        await Run("-t", "1", "-f");
        await Run("-t", "2", "-f");
        await Run("-t", "2", "-r");
        await Task.Delay(500);
        await Run("-l");
        await Run("-t", "9", "-i");
        return steps;
    }

    /// <summary>The lines that must agree: -i without dates, times, rates and the creator; -l rows without the
    /// rate columns.</summary>
    private static List<string> Comparable(string command, IReadOnlyList<string> lines)
    {
        var kept = new List<string>();
        foreach (var line in lines)
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith("Date ", StringComparison.Ordinal) || trimmed.StartsWith("Creator:", StringComparison.Ordinal)
                || trimmed.StartsWith("Download Speed:", StringComparison.Ordinal) || trimmed.StartsWith("Upload Speed:", StringComparison.Ordinal)
                || trimmed.StartsWith("ETA:", StringComparison.Ordinal) || trimmed.StartsWith("Seeding Time:", StringComparison.Ordinal)
                || trimmed.StartsWith("Downloading Time:", StringComparison.Ordinal))
            {
                continue;
            }
            kept.Add(command == "-l" ? ListRow().Replace(line, "$1 UP DOWN $2") : line);
        }
        return kept;
    }

    // "ID Done Have ETA Up Down Ratio Status Name": the Up and Down rates differ from run to run.
    [GeneratedRegex(@"^(.{4,}?\s+(?:Done|Unknown|None|\d+ \w+))\s+\d+\.\d+\s+\d+\.\d+\s+(.*)$")]
    private static partial Regex ListRow();

    public void Dispose() => _swarm.Dispose();
}
