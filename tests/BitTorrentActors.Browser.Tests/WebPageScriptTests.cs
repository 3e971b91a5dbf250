using System.Text.Json;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.Rpc;

namespace BitTorrentActors.Browser.Tests;

/// <summary>
/// The page script's own rules, run in the browser that runs the page: how each torrent-get status becomes the
/// state the list shows and filters on (every state the issue names, the error with its reason), and the units.
/// </summary>
public sealed class WebPageScriptTests(HeadlessChromium chromium) : IClassFixture<HeadlessChromium>, IDisposable
{
    private readonly TempDirectory _work = new("bta-webpage-script");

    [Fact]
    public async Task Every_rpc_status_becomes_the_state_the_list_shows_with_an_errors_reason()
    {
        using var daemon = await BtaDaemon.StartAsync(_work.Path, Path.Combine(_work.Path, "state"), Path.Combine(_work.Path, "downloads"),
            TimeSpan.FromMinutes(2));
        var page = await chromium.NewPageAsync();
        var web = await WebPageDriver.OpenAsync(page, daemon);

        var states = await page.EvaluateAsync<JsonElement>("""
            () => {
              const t = (o) => Object.assign({ status: 0, error: 0, errorString: "", isFinished: false,
                metadataPercentComplete: 1, recheckProgress: 0 }, o);
              return [
                t({}), t({ isFinished: true }), t({ status: 1 }), t({ status: 2, recheckProgress: 0.5 }), t({ status: 3 }),
                t({ status: 4, metadataPercentComplete: 0.25 }), t({ status: 4 }), t({ status: 5 }), t({ status: 6 }),
                t({ status: 4, error: 3, errorString: "No space left on device" }),
              ].map((x) => { const s = stateOf(x); return `${s.key}|${s.text}`; });
            }
            """);
        Assert.Equal(
            [
                "paused|Paused", "finished|Finished", "queued|Queued to check", "checking|Checking 50%", "queued|Queued",
                "metadata|Fetching metadata 25%", "downloading|Downloading", "queued|Queued to seed", "seeding|Seeding",
                "error|Error: No space left on device",
            ],
            states.EnumerateArray().Select(s => s.GetString()!));
        var units = await page.EvaluateAsync<string[]>(
            "() => [bytes(0), bytes(999), bytes(6_500_000), rate(1_550), duration(59), duration(3_725), duration(-2), ratio(-1), ratio(-2), ratio(0.5)]");
        Assert.Equal(["0 B", "999 B", "6.50 MB", "1.55 kB/s", "59s", "1h 2m", "unknown", "\u2013", "\u221e", "0.50"], units);
        Assert.True(web.Problems.Count == 0, string.Join('\n', web.Problems));
        await page.Context.CloseAsync();
    }

    public void Dispose() => _work.Dispose();
}
