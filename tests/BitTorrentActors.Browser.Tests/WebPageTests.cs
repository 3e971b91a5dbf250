using System.Globalization;
using System.Text.Json;
using BitTorrentActors.Engine.Tests.Rpc;
using BitTorrentActors.Engine.Tests.Swarm;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace BitTorrentActors.Browser.Tests;

/// <summary>
/// bta's web page driving a real <c>bta daemon</c> in headless Chromium, with aria2 and libtorrent seeding through
/// opentracker, all on 127.0.0.1: a .torrent uploaded through the file input (paused, into a folder the form names),
/// a file unticked before it arrives, pause and resume, a magnet pasted; both reach 100 % and seeding on the page;
/// one is removed with its data. What the page shows is read from its DOM; what it did is checked through the RPC
/// and on disk.
/// </summary>
public sealed class WebPageTests(HeadlessChromium chromium, ITestOutputHelper output) : IClassFixture<HeadlessChromium>, IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(240);
    private readonly SwarmScope _swarm = new("webpage", Lifetime);

    [Fact]
    public async Task The_page_adds_by_upload_and_magnet_pauses_resumes_unticks_a_file_and_removes_one_with_its_data()
    {
        var alpha = SwarmContent.MultiFile("alpha", seed: 71);
        var beta = SwarmContent.SingleFile("beta.bin", 2_000_003, seed: 72);
        var (tracker, alphaTorrent, alphaSeed) = await _swarm.StartTrackerAsync(alpha);
        var betaSeed = _swarm.Dir.Sub("seed-beta");
        beta.WriteTo(betaSeed);
        var betaTorrent = SwarmTorrent.Build(beta, _swarm.Dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(betaTorrent.InfoHash);
        // Capped, so alpha is still downloading while the page pauses and resumes it.
        _swarm.Track(await Aria2Seeder.StartAsync(alphaTorrent, alphaSeed, _swarm.Dir.Path, Lifetime, uploadLimit: 150_000));
        var betaSeeder = _swarm.Track(await LibtorrentSeeder.StartAsync(betaTorrent, betaSeed, _swarm.Dir.Path, Lifetime));
        var downloads = _swarm.Dir.Sub("downloads");
        var chosen = _swarm.Dir.Sub("chosen-folder");
        var daemon = _swarm.Track(await BtaDaemon.StartAsync(_swarm.Dir.Path, _swarm.Dir.Sub("state"), downloads, Lifetime));
        using var rpc = new RpcClient(daemon.RpcUrl);
        var page = await chromium.NewPageAsync();
        var web = await WebPageDriver.OpenAsync(page, daemon);
        var toggle = page.Locator("#d-toggle");

        // Upload: the file input, another folder, start paused.
        await page.Locator("#add-open").ClickAsync();
        Assert.Equal(downloads, await page.Locator("#add-dir").InputValueAsync());
        await page.Locator("#add-dir").FillAsync(chosen);
        await page.Locator("#add-paused").CheckAsync();
        await page.Locator("#add-file").SetInputFilesAsync(alphaTorrent.Path);
        await page.Locator("#add-submit").ClickAsync();
        await Assertions.Expect(page.Locator("#message")).ToHaveTextAsync("Added: alpha");
        var alphaId = await IdOfAsync(rpc, "alpha");
        var added = await RpcWait.TorrentAsync(rpc, alphaId, t => t.GetProperty("status").GetInt32() == 0, TimeSpan.FromSeconds(10),
            "paused", () => daemon.Log, "downloadDir");
        Assert.Equal(chosen, added.GetProperty("downloadDir").GetString());
        await web.WaitForRowAsync(alphaId, (state, _) => state == "paused", TimeSpan.FromSeconds(10), "paused");

        // Untick the big last file while nothing of it has arrived.
        await web.Row(alphaId).ClickAsync();
        var clipRow = page.Locator("#d-files tr", new PageLocatorOptions { Has = page.Locator("td.path", new PageLocatorOptions { HasTextString = "alpha/video/clip.bin" }) });
        await clipRow.Locator("input[type=checkbox]").UncheckAsync();
        var clipIndex = int.Parse((await clipRow.Locator("input").GetAttributeAsync("data-index"))!, CultureInfo.InvariantCulture);
        await RpcWait.TorrentAsync(rpc, alphaId, t => t.GetProperty("wanted")[clipIndex].GetInt32() == 0, TimeSpan.FromSeconds(10),
            "clip.bin unwanted", () => daemon.Log, "wanted");
        await Assertions.Expect(clipRow).ToHaveAttributeAsync("data-wanted", "false");

        // Resume, pause while it downloads, resume again: the daemon's state follows each click.
        await Assertions.Expect(toggle).ToHaveTextAsync("Resume");
        await toggle.ClickAsync();
        await RpcWait.TorrentAsync(rpc, alphaId, t => t.GetProperty("status").GetInt32() == 4, TimeSpan.FromSeconds(10), "downloading", () => daemon.Log);
        await web.WaitForRowAsync(alphaId, (state, percent) => state == "downloading" && percent > 0, TimeSpan.FromSeconds(30),
            "downloading with some bytes in");
        await Assertions.Expect(toggle).ToHaveTextAsync("Pause");
        await toggle.ClickAsync();
        var paused = await RpcWait.TorrentAsync(rpc, alphaId, t => t.GetProperty("status").GetInt32() == 0, TimeSpan.FromSeconds(10), "paused", () => daemon.Log);
        await web.WaitForRowAsync(alphaId, (state, _) => state == "paused", TimeSpan.FromSeconds(10), "paused again");
        output.WriteLine($"paused by the page at {paused.GetProperty("percentDone").GetDouble():P1}");
        Assert.True(paused.GetProperty("leftUntilDone").GetInt64() > 0, $"alpha completed before the page paused it: {paused}");
        await Assertions.Expect(toggle).ToHaveTextAsync("Resume");
        await toggle.ClickAsync();
        await RpcWait.TorrentAsync(rpc, alphaId, t => t.GetProperty("status").GetInt32() != 0, TimeSpan.FromSeconds(10), "resumed", () => daemon.Log);

        // Magnet: pasted, into the default folder, started at once.
        await page.Locator("#add-open").ClickAsync();
        Assert.False(await page.Locator("#add-paused").IsCheckedAsync(), "the add form kept 'start paused' from the last add");
        var magnet = $"magnet:?xt=urn:btih:{betaTorrent.InfoHash.ToHex()}&dn=beta.bin&tr={Uri.EscapeDataString(tracker.AnnounceUrl)}&x.pe={betaSeeder.EndPoint}";
        await page.Locator("#add-magnet").FillAsync(magnet);
        await page.Locator("#add-submit").ClickAsync();
        await Assertions.Expect(page.Locator("#message")).ToHaveTextAsync("Added: beta.bin");
        var betaId = await IdOfAsync(rpc, "beta.bin");

        // Both reach 100 % and seeding, as the page's rows say.
        await web.WaitForRowAsync(betaId, (state, percent) => state == "seeding" && percent >= 1, TimeSpan.FromSeconds(90), "seeding at 100 %");
        await web.WaitForRowAsync(alphaId, (state, percent) => state == "seeding" && percent >= 1, TimeSpan.FromSeconds(120), "seeding at 100 %");
        Assert.Equal("100%", await web.Row(alphaId).Locator(".percent").TextContentAsync());
        Assert.Equal("Seeding", await web.Row(betaId).Locator(".state").TextContentAsync());
        beta.AssertDownloaded(downloads);
        AssertDownloadedWithout(alpha, chosen, "video/clip.bin");

        // Screenshots: the list, then the details' files, peers and trackers.
        await page.Locator("#d-close").ClickAsync();
        await web.WaitForPollsAsync(1);
        output.WriteLine($"screenshot: {await HeadlessChromium.SaveScreenshotAsync(page, "webpage-list")}");
        await web.Row(alphaId).ClickAsync();
        await clipRow.WaitForAsync();
        Assert.Equal("false", await clipRow.GetAttributeAsync("data-wanted"));
        output.WriteLine($"screenshot: {await HeadlessChromium.SaveScreenshotAsync(page, "webpage-details-files")}");
        await page.Locator("nav.tabs button[data-tab=trackers]").ClickAsync();
        await page.Locator("#d-trackers tr").First.WaitForAsync();
        Assert.Equal(tracker.AnnounceUrl, await page.Locator("#d-trackers td.path").First.TextContentAsync());
        output.WriteLine($"screenshot: {await HeadlessChromium.SaveScreenshotAsync(page, "webpage-details-trackers")}");
        await page.Locator("nav.tabs button[data-tab=peers]").ClickAsync();
        output.WriteLine($"screenshot: {await HeadlessChromium.SaveScreenshotAsync(page, "webpage-details-peers")}");

        // Remove beta with its data: the row goes, the torrent goes, the file goes.
        await web.Row(betaId).ClickAsync();
        await Assertions.Expect(page.Locator("#d-name")).ToHaveTextAsync("beta.bin");
        await page.Locator("#d-remove").ClickAsync();
        await page.Locator("#d-remove-data").ClickAsync();
        await Assertions.Expect(web.Row(betaId)).ToHaveCountAsync(0);
        var left = (await rpc.SucceedAsync("torrent-get", """{"fields":["id"]}""")).GetProperty("torrents");
        Assert.Equal([alphaId], left.EnumerateArray().Select(t => t.GetProperty("id").GetInt32()));
        var betaFile = beta.PathUnder(downloads, "beta.bin");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (File.Exists(betaFile) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.False(File.Exists(betaFile), $"beta.bin is still on disk after the page removed it with its data\n{daemon.Log}");
        Assert.True(Directory.Exists(Path.Combine(chosen, "alpha")), "alpha's folder went too");
        Assert.True(web.Problems.Count == 0, string.Join('\n', web.Problems));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_page_loads_small_and_fast_and_fits_a_phone_in_dark_mode()
    {
        var content = SwarmContent.MultiFile("phone", seed: 73);
        var torrent = SwarmTorrent.Build(content, _swarm.Dir.Path, announceUrl: null);
        var daemon = _swarm.Track(await BtaDaemon.StartAsync(_swarm.Dir.Path, _swarm.Dir.Sub("state"), _swarm.Dir.Sub("downloads"), Lifetime));

        // Cold: a fresh context, so nothing is cached. Every response's size as it crossed the wire.
        var page = await chromium.NewPageAsync(width: 390, height: 844);
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Dark });
        var finished = new List<IRequest>();
        page.RequestFinished += (_, request) =>
        {
            if (!request.Url.EndsWith("/transmission/rpc", StringComparison.Ordinal))
            {
                lock (finished)
                {
                    finished.Add(request);
                }
            }
        };
        var web = await WebPageDriver.OpenAsync(page, daemon);
        // Added by dropping the .torrent on the page (with the add form's "start paused" ticked).
        await page.Locator("#add-open").ClickAsync();
        await page.Locator("#add-paused").CheckAsync();
        await page.Locator("#add-cancel").ClickAsync();
        await DropFileAsync(page, "phone.torrent", await File.ReadAllBytesAsync(torrent.Path));
        await Assertions.Expect(page.Locator("#message")).ToHaveTextAsync("Added: phone");
        await web.WaitForRowAsync(1, (state, _) => state == "paused", TimeSpan.FromSeconds(10), "paused");
        var timing = await page.EvaluateAsync<JsonElement>("""
            () => {
              const nav = performance.getEntriesByType("navigation")[0];
              const files = performance.getEntriesByType("resource").filter(r => !r.name.endsWith("/transmission/rpc"));
              return {
                domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
                transfer: nav.transferSize + files.reduce((n, r) => n + r.transferSize, 0),
                decoded: nav.decodedBodySize + files.reduce((n, r) => n + r.decodedBodySize, 0),
                files: files.length + 1,
                overflow: document.documentElement.scrollWidth - window.innerWidth,
                background: getComputedStyle(document.body).backgroundColor,
              };
            }
            """);
        IRequest[] files;
        lock (finished)
        {
            files = [.. finished];
        }
        long wireBytes = 0;
        foreach (var request in files)
        {
            var sizes = await request.SizesAsync();
            wireBytes += sizes.ResponseHeadersSize + sizes.ResponseBodySize;
            output.WriteLine($"  {request.Url}: {sizes.ResponseHeadersSize} bytes of headers, {sizes.ResponseBodySize} of body on the wire");
        }
        var load = timing.GetProperty("load").GetDouble();
        var transfer = timing.GetProperty("transfer").GetInt64();
        output.WriteLine(FormattableString.Invariant(
            $"page load (cold, loopback): DOMContentLoaded {timing.GetProperty("domContentLoaded").GetDouble():0} ms, load {load:0} ms; {timing.GetProperty("files").GetInt32()} files, {transfer} bytes transferred (Performance API), {wireBytes} bytes (Playwright sizes), {timing.GetProperty("decoded").GetInt64()} bytes decoded"));
        Assert.True(transfer is > 0 and < 30_000, $"the page transferred {transfer} bytes");
        Assert.True(load < 10_000, $"the page took {load} ms to load");

        // Phone width: nothing sticks out sideways. Dark scheme: a dark background.
        Assert.True(timing.GetProperty("overflow").GetDouble() <= 0, $"the page is wider than the phone by {timing.GetProperty("overflow")} px");
        Assert.Equal("rgb(21, 22, 26)", timing.GetProperty("background").GetString());
        await web.Row(1).ClickAsync();
        await page.Locator("#d-files tr").Nth(5).WaitForAsync();
        output.WriteLine($"screenshot: {await HeadlessChromium.SaveScreenshotAsync(page, "webpage-phone-dark")}");

        // Warm: the same context reloads, every file revalidated by its ETag (304).
        var statuses = new List<int>();
        page.Response += (_, response) =>
        {
            if (!response.Url.EndsWith("/transmission/rpc", StringComparison.Ordinal))
            {
                lock (statuses)
                {
                    statuses.Add(response.Status);
                }
            }
        };
        await page.ReloadAsync();
        await web.WaitForPollsAsync(1);
        var warm = await page.EvaluateAsync<double>("() => performance.getEntriesByType('navigation')[0].loadEventEnd");
        lock (statuses)
        {
            output.WriteLine(FormattableString.Invariant($"page load (warm): load {warm:0} ms; statuses {string.Join(",", statuses)}"));
        }
        Assert.True(web.Problems.Count == 0, string.Join('\n', web.Problems));
        await page.Context.CloseAsync();
    }

    /// <summary>Every file but <paramref name="unwanted"/> equals the seed; the unwanted one is not created, except
    /// for the bytes of the piece it shares with the wanted file before it (the engine's file selection).</summary>
    private void AssertDownloadedWithout(SwarmContent content, string root, string unwanted)
    {
        foreach (var (path, bytes) in content.Files.Where(f => f.Path != unwanted))
        {
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(content.PathUnder(root, path))), $"{path} differs from the seed");
        }
        var file = new FileInfo(content.PathUnder(root, unwanted));
        var offset = content.Files.TakeWhile(f => f.Path != unwanted).Sum(f => (long)f.Bytes.Length);
        var shared = (content.PieceLength - (offset % content.PieceLength)) % content.PieceLength;
        output.WriteLine($"unticked {unwanted}: {(file.Exists ? $"{file.Length} bytes on disk" : "not created")}, {shared} bytes shared with a wanted piece");
        Assert.True(!file.Exists || file.Length <= shared, $"the unticked {unwanted} has {file.Length} bytes on disk, more than {shared}");
    }

    /// <summary>What a person dragging a file onto the page makes the browser do: dragenter, dragover and drop on
    /// the body with a DataTransfer that holds the file.</summary>
    private static async Task DropFileAsync(IPage page, string name, byte[] bytes)
    {
        var transfer = await page.EvaluateHandleAsync("""
            ([name, base64]) => {
              const data = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
              const transfer = new DataTransfer();
              transfer.items.add(new File([data], name, { type: "application/x-bittorrent" }));
              return transfer;
            }
            """, new object[] { name, Convert.ToBase64String(bytes) });
        foreach (var type in new[] { "dragenter", "dragover", "drop" })
        {
            await page.Locator("body").DispatchEventAsync(type, new Dictionary<string, object> { ["dataTransfer"] = transfer });
        }
    }

    private static async Task<int> IdOfAsync(RpcClient rpc, string name)
    {
        var torrents = (await rpc.SucceedAsync("torrent-get", """{"fields":["id","name"]}""")).GetProperty("torrents");
        return torrents.EnumerateArray().Single(t => t.GetProperty("name").GetString() == name).GetProperty("id").GetInt32();
    }

    public void Dispose() => _swarm.Dispose();
}
