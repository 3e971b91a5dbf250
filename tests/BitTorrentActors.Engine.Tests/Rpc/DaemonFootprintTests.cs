using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BitTorrentActors.Api.Rpc;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Protocol.Metainfo;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>
/// Measures (prints, does not time-assert) a <c>bta daemon</c> process: its RSS with no torrent and with 50 idle
/// seeding torrents, and the time of one torrent-get of every field over the 50. The assertions are what the
/// measurement needs to be meaningful: 50 torrents seeding, 50 rows with every field.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class DaemonFootprintTests(ITestOutputHelper output) : IDisposable
{
    private const int Torrents = 50;
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(150);
    private readonly SwarmScope _swarm = new("rpc-footprint", Lifetime);

    [Fact]
    public async Task Rss_with_0_and_50_idle_torrents_and_the_time_of_a_full_torrent_get()
    {
        var downloads = _swarm.Dir.Sub("downloads");
        // Every torrent running (a seed queue of 10 would leave 40 waiting, which costs less).
        var daemon = _swarm.Track(await BtaDaemon.StartAsync(_swarm.Dir.Path, _swarm.Dir.Sub("state"), downloads, Lifetime,
            "session.max-active-seeds = 100"));
        using var rpc = new RpcClient(daemon.RpcUrl);
        await rpc.SucceedAsync("session-get");
        await Task.Delay(3000);
        var idle = RssKiB(daemon.Pid);

        for (var i = 0; i < Torrents; i++)
        {
            var content = SwarmContent.SingleFile($"idle-{i:00}.bin", 256 * 1024 + i, seed: 900 + i, pieceLength: 32 * 1024);
            content.WriteTo(downloads);
            var bytes = TorrentBuilder.Build(content.Name, content.PieceLength, [.. content.Files.Select(f => (f.Path, f.Bytes))], singleFile: true);
            await rpc.SucceedAsync("torrent-add", $$"""{"metainfo":"{{Convert.ToBase64String(bytes)}}"}""");
        }
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var statuses = (await rpc.SucceedAsync("torrent-get", """{"fields":["status"]}""")).GetProperty("torrents")
                .EnumerateArray().Count(t => t.GetProperty("status").GetInt32() == 6);
            if (statuses == Torrents)
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{statuses} of {Torrents} torrents seeding after 60 s\n{daemon.Log}");
            await Task.Delay(250);
        }
        await Task.Delay(3000);
        var loaded = RssKiB(daemon.Pid);

        var request = $$"""{"fields":{{JsonSerializer.Serialize(TorrentFields.All)}}}""";
        var times = new List<double>();
        for (var i = 0; i < 21; i++)
        {
            var watch = Stopwatch.StartNew();
            var reply = await rpc.SucceedAsync("torrent-get", request);
            times.Add(watch.Elapsed.TotalMilliseconds);
            var rows = reply.GetProperty("torrents");
            Assert.Equal(Torrents, rows.GetArrayLength());
            Assert.Equal(TorrentFields.All.Count, rows[0].EnumerateObject().Count());
        }
        var sorted = times.Skip(1).Order().ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bta daemon RSS: {idle / 1024.0:0.0} MiB with 0 torrents, {loaded / 1024.0:0.0} MiB with {Torrents} idle seeding torrents"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"torrent-get of all {TorrentFields.All.Count} fields over {Torrents} torrents (HTTP round trip on loopback): first {times[0]:0.0} ms, median {sorted[sorted.Count / 2]:0.0} ms, max {sorted[^1]:0.0} ms of 20"));
        Assert.Equal(0, await daemon.InterruptAsync(TimeSpan.FromSeconds(60)));
    }

    private static long RssKiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    public void Dispose() => _swarm.Dispose();
}
