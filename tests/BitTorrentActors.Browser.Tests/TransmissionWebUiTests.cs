using System.Globalization;
using System.Text.Json;
using BitTorrentActors.Engine.Tests.Rpc;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Protocol.Metainfo;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace BitTorrentActors.Browser.Tests;

/// <summary>
/// Debian's Transmission 3.00 web UI (transmission-common, /usr/share/transmission/web, never copied into the repo)
/// served by a real <c>bta daemon</c> through <c>bta.rpc.web-root</c> or TRANSMISSION_WEB_HOME, in headless Chromium,
/// with real libtorrent and aria2 seeders on 127.0.0.1: it lists bta's torrents with their progress, adds by file
/// upload and by magnet through its own open dialog, pauses, resumes and removes through its toolbar, and shows
/// hostile names as text. Every step is checked from the page and confirmed over the RPC or on disk.
/// </summary>
public sealed class TransmissionWebUiTests(HeadlessChromium chromium, ITestOutputHelper output) : IClassFixture<HeadlessChromium>, IDisposable
{
    public const string WebUi = "/usr/share/transmission/web";

    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(200);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    private readonly SwarmScope _swarm = new("trwebui", Lifetime);
    private readonly List<string> _problems = [];

    public void Dispose() => _swarm.Dispose();

    [Fact]
    public async Task The_web_ui_lists_adds_by_file_and_magnet_pauses_resumes_and_removes_torrents()
    {
        var alpha = SwarmContent.MultiFile("alpha", seed: 81);
        var beta = SwarmContent.SingleFile("beta.bin", 2_000_000, seed: 82);
        var gamma = SwarmContent.SingleFile("gamma.bin", 1_500_000, seed: 83);
        var (tracker, alphaTorrent, alphaSeed) = await _swarm.StartTrackerAsync(alpha);
        var betaTorrent = Seeded(beta, tracker.AnnounceUrl, out var betaSeed);
        var gammaTorrent = Seeded(gamma, tracker.AnnounceUrl, out var gammaSeed);
        await tracker.AllowAsync(betaTorrent.InfoHash);
        await tracker.AllowAsync(gammaTorrent.InfoHash);
        _swarm.Track(await LibtorrentSeeder.StartAsync(alphaTorrent, alphaSeed, _swarm.Dir.Path, Lifetime));
        _swarm.Track(await Aria2Seeder.StartAsync(betaTorrent, betaSeed, _swarm.Dir.Path, Lifetime));
        var gammaSeeder = _swarm.Track(await LibtorrentSeeder.StartAsync(gammaTorrent, gammaSeed, _swarm.Dir.Path, Lifetime));
        var downloads = _swarm.Dir.Sub("downloads");
        var daemon = _swarm.Track(await BtaDaemon.StartAsync(_swarm.Dir.Path, _swarm.Dir.Sub("state"), downloads, Lifetime,
            $"rpc.web-root = \"{WebUi}\""));
        using var rpc = new RpcClient(daemon.RpcUrl);
        // Added before the page opens, over the RPC: the page must list it.
        var alphaId = (await rpc.SucceedAsync("torrent-add",
                $$"""{"metainfo":"{{Convert.ToBase64String(await File.ReadAllBytesAsync(alphaTorrent.Path))}}","paused":false}"""))
            .GetProperty("torrent-added").GetProperty("id").GetInt32();
        var page = await OpenAsync(daemon);
        try
        {
            await WaitForRowAsync(page, "alpha", row => row.Width == "100%" && row.Details.Contains("uploaded", StringComparison.Ordinal));
            Assert.True(RpcWait.Complete(await RpcWait.TorrentAsync(rpc, alphaId, RpcWait.Complete, Wait, "complete")));

            // Open dialog, file upload (the page reads the file and sends it as base64 metainfo).
            await page.ClickAsync("#toolbar-open");
            await page.SetInputFilesAsync("#torrent_upload_file", betaTorrent.Path);
            await page.ClickAsync("#upload_confirm_button");
            await WaitForRowAsync(page, "beta.bin", row => row.Width == "100%");
            var betaId = await IdOfAsync(rpc, betaTorrent.InfoHash);
            Assert.True(RpcWait.Complete(await RpcWait.TorrentAsync(rpc, betaId, RpcWait.Complete, Wait, "complete")));

            // Open dialog, URL field with a magnet: the metadata comes from the libtorrent seeder.
            var magnet = $"magnet:?xt=urn:btih:{gammaTorrent.InfoHash.ToHex()}&dn=gamma.bin&tr={Uri.EscapeDataString(tracker.AnnounceUrl)}&x.pe={gammaSeeder.EndPoint}";
            await page.ClickAsync("#toolbar-open");
            await page.FillAsync("#torrent_upload_url", magnet);
            await page.ClickAsync("#upload_confirm_button");
            await WaitForRowAsync(page, "gamma.bin", row => row.Width == "100%" && row.Details.Contains("uploaded", StringComparison.Ordinal));
            var gammaId = await IdOfAsync(rpc, gammaTorrent.InfoHash);
            Assert.True(RpcWait.Complete(await RpcWait.TorrentAsync(rpc, gammaId, RpcWait.Complete, Wait, "complete")));
            alpha.AssertDownloaded(downloads);
            beta.AssertDownloaded(downloads);
            gamma.AssertDownloaded(downloads);
            output.WriteLine($"list: {await HeadlessChromium.SaveScreenshotAsync(page, "transmission-webui-list")}");

            // Pause from the toolbar, then resume: confirmed by the session's status (0 = stopped).
            await SelectAsync(page, "alpha");
            await page.ClickAsync("#toolbar-pause");
            await RpcWait.TorrentAsync(rpc, alphaId, t => t.GetProperty("status").GetInt32() == 0, Wait, "paused");
            await WaitForRowAsync(page, "alpha", row => row.Classes.Contains("paused", StringComparison.Ordinal));
            output.WriteLine($"paused: {await HeadlessChromium.SaveScreenshotAsync(page, "transmission-webui-paused")}");
            await page.ClickAsync("#toolbar-start");
            await RpcWait.TorrentAsync(rpc, alphaId, t => t.GetProperty("status").GetInt32() == 6, Wait, "seeding again");
            await WaitForRowAsync(page, "alpha", row => row.Classes.Contains("seeding", StringComparison.Ordinal));

            // Remove from the toolbar through its confirm dialog: gone from the session and from the page (the
            // page learns it from torrent-get's "removed"), the data kept.
            await SelectAsync(page, "beta.bin");
            await page.ClickAsync("#toolbar-remove");
            await page.ClickAsync("#dialog_confirm_button");
            await WaitUntilAsync(async () => !(await ListAsync(rpc)).Contains(betaId), "beta removed from the session");
            await page.WaitForFunctionAsync(
                "name => ![...document.querySelectorAll('#torrent_list .torrent_name')].some(e => e.textContent === name)", "beta.bin");
            Assert.True(File.Exists(Path.Combine(downloads, "beta.bin")), "removing without data deleted the data");
            Assert.Equal([alphaId, gammaId], (await ListAsync(rpc)).Order());
            output.WriteLine($"removed: {await HeadlessChromium.SaveScreenshotAsync(page, "transmission-webui-removed")}");
            AssertNoProblems();
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task Html_and_script_in_torrent_and_file_names_are_shown_as_text_and_never_run()
    {
        const string name = "<img src=x onerror=alert(1)><script>alert(2)</script>";
        const string comment = "<img src=x onerror=alert(6)> & <b>bold</b>";
        const string creator = "<script>alert(7)</script><svg onload=alert(8)>";
        string[] files = ["<img src=x onerror=alert(3)>.bin", "<svg onload=alert(4)>.txt", "<iframe src=javascript:alert(5)>.bin"];
        var torrent = TorrentBuilder.Build(name, 16 * 1024,
            [.. files.Select((f, i) => (f, TestTorrents.Content(20_000 + i, 90 + i)))], comment: comment, createdBy: creator);
        var daemon = _swarm.Track(await BtaDaemon.StartAsync(_swarm.Dir.Path, _swarm.Dir.Sub("state"), _swarm.Dir.Sub("downloads"),
            Lifetime, $"rpc.web-root = \"{WebUi}\""));
        using var rpc = new RpcClient(daemon.RpcUrl);
        await rpc.SucceedAsync("torrent-add", $$"""{"metainfo":"{{Convert.ToBase64String(torrent)}}","paused":true}""");
        // bta keeps names storable on any file system ('<', '>', '/', ':' become '_'), so the page must show
        // exactly what the RPC says; the comment and creator travel untouched, markup and all.
        var listed = (await rpc.SucceedAsync("torrent-get", """{"fields":["name","files","comment","creator"]}""")).GetProperty("torrents")[0];
        output.WriteLine($"over the RPC: {listed}");
        var shownName = listed.GetProperty("name").GetString()!;
        var shownFiles = listed.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()!.Split('/')[^1]).ToList();
        Assert.Equal(comment, listed.GetProperty("comment").GetString());
        Assert.Equal(creator, listed.GetProperty("creator").GetString());
        var page = await OpenAsync(daemon);
        try
        {
            await WaitForRowAsync(page, shownName, _ => true);
            await SelectAsync(page, shownName);
            await page.ClickAsync("#toolbar-inspector");
            await page.WaitForFunctionAsync("name => document.querySelector('#torrent_inspector_name').textContent === name", shownName);
            await page.WaitForFunctionAsync("text => document.querySelector('#inspector-info-comment').textContent === text", comment);
            await page.WaitForFunctionAsync("text => document.querySelector('#inspector-info-origin').textContent.includes(text)", creator);
            output.WriteLine($"hostile info: {await HeadlessChromium.SaveScreenshotAsync(page, "transmission-webui-hostile-info")}");
            await page.ClickAsync("#inspector-tab-files");
            foreach (var file in shownFiles)
            {
                await page.WaitForFunctionAsync(
                    "name => [...document.querySelectorAll('#inspector_file_list .inspector_torrent_file_list_entry_name')].some(e => e.textContent === name)",
                    file);
            }
            // Let a few refreshes pass: a script that ran late would show up too.
            await page.WaitForTimeoutAsync(3000);
            output.WriteLine($"hostile files: {await HeadlessChromium.SaveScreenshotAsync(page, "transmission-webui-hostile-names")}");

            var injected = await page.EvaluateAsync<int>(
                "document.querySelectorAll('#torrent_list img, #torrent_list script, #torrent_list svg, #torrent_list iframe, #torrent_list b, #torrent_inspector img, #torrent_inspector script, #torrent_inspector svg, #torrent_inspector iframe, #torrent_inspector b').length");
            Assert.Equal(0, injected);
            AssertNoProblems();
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task Transmission_web_home_names_the_folder_as_transmission_daemon_reads_it()
    {
        var torrent = TorrentBuilder.Build("from-the-variable", 16 * 1024, [("a.bin", TestTorrents.Content(30_000, 95))]);
        var daemon = _swarm.Track(await BtaDaemon.StartAsync(_swarm.Dir.Path, _swarm.Dir.Sub("state"), _swarm.Dir.Sub("downloads"),
            Lifetime, environment: new Dictionary<string, string> { ["TRANSMISSION_WEB_HOME"] = WebUi }));
        using var rpc = new RpcClient(daemon.RpcUrl);
        await rpc.SucceedAsync("torrent-add", $$"""{"metainfo":"{{Convert.ToBase64String(torrent)}}","paused":true}""");
        var page = await OpenAsync(daemon, path: "/transmission/");
        try
        {
            Assert.EndsWith("/transmission/web/", page.Url, StringComparison.Ordinal);
            Assert.Equal("Transmission Web Interface", await page.TitleAsync());
            await WaitForRowAsync(page, "from-the-variable", row => row.Classes.Contains("paused", StringComparison.Ordinal));
            output.WriteLine($"TRANSMISSION_WEB_HOME: {await HeadlessChromium.SaveScreenshotAsync(page, "transmission-webui-web-home")}");
            AssertNoProblems();
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    private void AssertNoProblems()
    {
        lock (_problems)
        {
            Assert.True(_problems.Count == 0, string.Join("\n", _problems));
        }
    }

    private SwarmTorrent Seeded(SwarmContent content, string announce, out string seedRoot)
    {
        seedRoot = _swarm.Dir.Sub("seed-" + content.Name);
        content.WriteTo(seedRoot);
        return SwarmTorrent.Build(content, _swarm.Dir.Path, announce);
    }

    /// <summary>A fresh page on the daemon's web UI, refreshing every second (its refresh_rate cookie), with every
    /// dialog, console error and page error recorded as a problem (and dialogs dismissed).</summary>
    private async Task<IPage> OpenAsync(BtaDaemon daemon, string path = "/transmission/web/")
    {
        var origin = new Uri(new Uri(daemon.RpcUrl), "/").ToString().TrimEnd('/');
        var page = await chromium.NewPageAsync();
        await page.Context.AddCookiesAsync([new Cookie { Name = "refresh_rate", Value = "1", Url = origin }]);
        page.Dialog += (_, dialog) =>
        {
            lock (_problems)
            {
                _problems.Add($"dialog {dialog.Type}: {dialog.Message}");
            }
            _ = dialog.DismissAsync();
        };
        page.Console += (_, message) =>
        {
            // The CSRF handshake's first request is answered 409 by design (as by transmission-daemon; only the RPC
            // answers 409), and Chromium logs every 4xx as a failed load: that line is the protocol, not a problem.
            if (message.Type == "error" && !message.Text.Contains("status of 409 (Conflict)", StringComparison.Ordinal))
            {
                lock (_problems)
                {
                    _problems.Add($"console error: {message.Text} at {message.Location}");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_problems)
            {
                _problems.Add($"page error: {error}");
            }
        };
        var response = await page.GotoAsync(origin + path, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        // For the closing note: how long the page took to load from bta and how many bytes it fetched.
        var load = await page.EvaluateAsync<JsonElement>("""
            () => {
              const nav = performance.getEntriesByType('navigation')[0];
              const resources = performance.getEntriesByType('resource');
              return { ms: Math.round(nav.loadEventEnd - nav.startTime),
                       bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
                       files: resources.length + 1 };
            }
            """);
        output.WriteLine($"page load: {load}");
        return page;
    }

    private sealed record Row(string Width, string Details, string Classes);

    /// <summary>Polls the page until the row named <paramref name="name"/> satisfies <paramref name="done"/>.</summary>
    private async Task WaitForRowAsync(IPage page, string name, Func<Row, bool> done)
    {
        var deadline = DateTime.UtcNow + Wait;
        Row? last = null;
        while (DateTime.UtcNow < deadline)
        {
            var found = await page.EvaluateAsync<JsonElement?>("""
                name => {
                  const row = [...document.querySelectorAll('#torrent_list .torrent')]
                    .find(r => r.querySelector('.torrent_name').textContent === name);
                  if (!row) return null;
                  const bar = row.querySelector('.torrent_progress_bar.complete');
                  return { width: bar.style.width, details: row.querySelector('.torrent_progress_details').textContent, classes: bar.className };
                }
                """, name);
            if (found is { ValueKind: JsonValueKind.Object } row)
            {
                last = new Row(row.GetProperty("width").GetString()!, row.GetProperty("details").GetString()!, row.GetProperty("classes").GetString()!);
                if (done(last))
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"row '{name}': {last}"));
                    return;
                }
            }
            await Task.Delay(250);
        }
        throw new Xunit.Sdk.XunitException($"the page's row '{name}' did not get there in {Wait.TotalSeconds:0}s; last: {last?.ToString() ?? "no such row"}; problems: {string.Join("; ", _problems)}");
    }

    private static async Task SelectAsync(IPage page, string name)
    {
        var row = page.Locator("#torrent_list .torrent_name").Filter(new LocatorFilterOptions { HasTextString = name }).First;
        await row.ClickAsync();
        await page.WaitForFunctionAsync(
            "name => [...document.querySelectorAll('#torrent_list .torrent.selected .torrent_name')].some(e => e.textContent === name)", name);
    }

    private static async Task<int> IdOfAsync(RpcClient rpc, InfoHash hash)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (DateTime.UtcNow < deadline)
        {
            var torrents = (await rpc.SucceedAsync("torrent-get", $$"""{"ids":["{{hash.ToHex()}}"],"fields":["id"]}""")).GetProperty("torrents");
            if (torrents.GetArrayLength() == 1)
            {
                return torrents[0].GetProperty("id").GetInt32();
            }
            await Task.Delay(250);
        }
        throw new Xunit.Sdk.XunitException($"the session has no torrent {hash.ToHex()}");
    }

    private static async Task<IReadOnlyList<int>> ListAsync(RpcClient rpc) =>
    [
        .. (await rpc.SucceedAsync("torrent-get", """{"fields":["id"]}""")).GetProperty("torrents").EnumerateArray()
            .Select(t => t.GetProperty("id").GetInt32()),
    ];

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what}: not within {Wait.TotalSeconds:0}s");
            await Task.Delay(250);
        }
    }
}
