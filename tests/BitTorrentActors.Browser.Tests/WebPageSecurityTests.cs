using System.Net;
using System.Net.Http.Headers;
using System.Text;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.Rpc;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace BitTorrentActors.Browser.Tests;

/// <summary>
/// bta's web page against hostile names and hostile requests, on a real <c>bta daemon</c>: a torrent whose name and
/// file names are markup and script shows as text with no script run; the page is refused (421) for a Host that is
/// not this machine and (401) without the password when one is set, as the RPC is; its files carry the CSP, gzip
/// and an ETag that answers 304.
/// </summary>
public sealed class WebPageSecurityTests(HeadlessChromium chromium, ITestOutputHelper output) : IClassFixture<HeadlessChromium>, IDisposable
{
    private const string HostileName = "<img src=x onerror=alert(1)> & <script>alert(2)<script>";
    private readonly TempDirectory _work = new("bta-webpage");

    [Fact]
    public async Task Names_with_markup_and_script_are_shown_as_text_and_no_script_runs()
    {
        using var daemon = await StartDaemonAsync();
        using var rpc = new RpcClient(daemon.RpcUrl);
        // A .torrent's name and file names: the engine sanitises them for the disk (< and > become _, as
        // libtorrent does), and the page shows exactly what the RPC says.
        var files = new[]
        {
            ("<img src=x onerror=alert(3)>.bin", TestTorrents.Content(40_000, 1)),
            ("docs/<script>alert(4)</script>.txt", TestTorrents.Content(3_000, 2)),
        };
        var metainfo = Convert.ToBase64String(TestTorrents.Bytes(16 * 1024, announce: null, files, HostileName));
        var fileId = (await rpc.SucceedAsync("torrent-add", $$"""{"metainfo":"{{metainfo}}","paused":true}"""))
            .GetProperty("torrent-added").GetProperty("id").GetInt32();
        // A magnet's dn is shown as given until its metadata comes, markup and all, and so is its tracker's URL.
        var tracker = $"http://127.0.0.1:9/announce?x=<script>alert(5)</script>";
        var magnet = $"magnet:?xt=urn:btih:{new string('c', 40)}&dn={Uri.EscapeDataString(HostileName)}&tr={Uri.EscapeDataString(tracker)}";
        var magnetId = (await rpc.SucceedAsync("torrent-add", $$"""{"filename":{{System.Text.Json.JsonSerializer.Serialize(magnet)}}}"""))
            .GetProperty("torrent-added").GetProperty("id").GetInt32();
        var torrents = (await rpc.SucceedAsync("torrent-get", """{"fields":["id","name","files","trackerStats"]}""")).GetProperty("torrents")
            .EnumerateArray().ToDictionary(t => t.GetProperty("id").GetInt32());
        Assert.Equal(HostileName, torrents[magnetId].GetProperty("name").GetString());
        var page = await chromium.NewPageAsync();
        var web = await WebPageDriver.OpenAsync(page, daemon);

        await web.WaitForRowAsync(fileId, (state, _) => state == "paused", TimeSpan.FromSeconds(20), "paused");
        await web.WaitForRowAsync(magnetId, (state, _) => state == "metadata", TimeSpan.FromSeconds(20), "fetching metadata");
        Assert.Equal(torrents[fileId].GetProperty("name").GetString(), await web.Row(fileId).Locator(".name").TextContentAsync());
        Assert.Equal(HostileName, await web.Row(magnetId).Locator(".name").TextContentAsync());
        // Sort and filter by state, on the page alone.
        Assert.Equal([fileId, magnetId], await ShownIdsAsync(page));
        await page.Locator("#sort").SelectOptionAsync("name");
        Assert.Equal([magnetId, fileId], await ShownIdsAsync(page));
        await page.Locator("#sort-dir").ClickAsync();
        Assert.Equal([fileId, magnetId], await ShownIdsAsync(page));
        await page.Locator("#filter").SelectOptionAsync("metadata");
        Assert.Equal([magnetId], await ShownIdsAsync(page));
        await page.Locator("#filter").SelectOptionAsync("paused");
        Assert.Equal([fileId], await ShownIdsAsync(page));
        await page.Locator("#filter").SelectOptionAsync("seeding");
        Assert.Empty(await ShownIdsAsync(page));
        await page.Locator("#filter").SelectOptionAsync("all");
        await web.Row(fileId).ClickAsync();
        await page.Locator("#d-files tr").Nth(1).WaitForAsync();
        Assert.Equal(torrents[fileId].GetProperty("name").GetString(), await page.Locator("#d-name").TextContentAsync());
        var expectedFiles = torrents[fileId].GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToList();
        Assert.Equal(expectedFiles, await page.Locator("#d-files td.path").AllTextContentsAsync());
        await web.Row(magnetId).ClickAsync();
        await page.Locator("nav.tabs button[data-tab=trackers]").ClickAsync();
        await page.Locator("#d-trackers tr").First.WaitForAsync();
        Assert.Equal(HostileName, await page.Locator("#d-name").TextContentAsync());
        var announce = torrents[magnetId].GetProperty("trackerStats")[0].GetProperty("announce").GetString();
        output.WriteLine($"the tracker as the RPC names it: {announce}");
        Assert.Equal(announce, await page.Locator("#d-trackers td.path").First.TextContentAsync());
        await web.WaitForPollsAsync(2);

        // The markup stayed text: no element came from it, and nothing ran (no dialog, no console or page error).
        Assert.Equal(0, await page.Locator("#torrents img, #details img, #torrents script, #details script").CountAsync());
        Assert.Equal(1, await page.Locator("script").CountAsync());
        Assert.True(web.Problems.Count == 0, string.Join('\n', web.Problems));
        output.WriteLine($"screenshot: {await HeadlessChromium.SaveScreenshotAsync(page, "webpage-hostile-names")}");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_script_never_writes_markup_it_sets_text()
    {
        using var daemon = await StartDaemonAsync();
        using var http = new HttpClient();

        var script = await http.GetStringAsync(WebPageDriver.RootOf(daemon) + "web/bta.js");

        // The page builds its DOM with createElement and textContent only; any of these would parse a name as HTML.
        foreach (var sink in new[] { "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function" })
        {
            Assert.DoesNotContain(sink, script, StringComparison.Ordinal);
        }
        Assert.Contains("textContent", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_page_is_refused_for_a_foreign_host_and_without_the_password_and_works_with_it()
    {
        using var daemon = await StartDaemonAsync("""
            rpc.username = "admin"
            rpc.password = "s3cret"
            rpc.host-whitelist = "bta.example"
            """);
        var root = WebPageDriver.RootOf(daemon);
        using var http = new HttpClient();

        using (var anonymous = await http.GetAsync(root))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal("Basic", anonymous.Headers.WwwAuthenticate.Single().Scheme);
            Assert.DoesNotContain("<script", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        foreach (var path in new[] { "web/bta.js", "web/bta.css", "web/" })
        {
            using var anonymous = await http.GetAsync(root + path);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }
        using (var wrong = await GetAsync(http, root, "admin", "wrong"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        using (var rebound = await GetAsync(http, root, "admin", "s3cret", host: "attacker.example"))
        {
            // A DNS-rebinding page on another name is refused even with the right password.
            Assert.Equal(HttpStatusCode.MisdirectedRequest, rebound.StatusCode);
        }
        using (var listed = await GetAsync(http, root, "admin", "s3cret", host: "bta.example"))
        {
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        }

        // A browser without the password gets the 401, and with it the page, which then drives the RPC.
        var refused = await chromium.NewPageAsync();
        var response = await refused.Context.APIRequest.GetAsync(root);
        Assert.Equal(401, response.Status);
        Assert.DoesNotContain("<script", await response.TextAsync(), StringComparison.Ordinal);
        await refused.Context.CloseAsync();
        var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = "admin", Password = "s3cret" },
        });
        context.SetDefaultTimeout((float)HeadlessChromium.Timeout.TotalMilliseconds);
        var page = await context.NewPageAsync();
        var web = await WebPageDriver.OpenAsync(page, daemon);
        await web.WaitForPollsAsync(1);
        Assert.False(await page.Locator("#empty").IsHiddenAsync(), "the signed-in page shows no empty torrent list");
        Assert.True(web.Problems.Count == 0, string.Join('\n', web.Problems));
        await context.CloseAsync();
    }

    [Fact]
    public async Task The_page_files_carry_the_csp_gzip_and_an_etag_that_answers_304()
    {
        using var daemon = await StartDaemonAsync();
        var root = WebPageDriver.RootOf(daemon);
        using var http = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None });

        foreach (var (path, type) in new[] { ("", "text/html"), ("web/", "text/html"), ("web/bta.js", "text/javascript"), ("web/bta.css", "text/css") })
        {
            using var plain = await http.GetAsync(root + path);
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
            Assert.Equal(type, plain.Content.Headers.ContentType?.MediaType);
            Assert.Empty(plain.Content.Headers.ContentEncoding);
            var csp = string.Join(' ', plain.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", plain.Headers.GetValues("X-Content-Type-Options").Single());
            var body = await plain.Content.ReadAsByteArrayAsync();

            using var request = new HttpRequestMessage(HttpMethod.Get, root + path);
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
            using var gzipped = await http.SendAsync(request);
            Assert.Equal("gzip", gzipped.Content.Headers.ContentEncoding.Single());
            var packed = await gzipped.Content.ReadAsByteArrayAsync();
            Assert.True(packed.Length < body.Length, $"{path}: gzip {packed.Length} bytes, plain {body.Length}");
            await using (var unpacked = new System.IO.Compression.GZipStream(new MemoryStream(packed), System.IO.Compression.CompressionMode.Decompress))
            {
                using var copy = new MemoryStream();
                await unpacked.CopyToAsync(copy);
                Assert.Equal(body, copy.ToArray());
            }
            output.WriteLine($"/{path}: {body.Length} bytes, {packed.Length} gzipped");

            var etag = plain.Headers.ETag!;
            using var again = new HttpRequestMessage(HttpMethod.Get, root + path);
            again.Headers.IfNoneMatch.Add(etag);
            using var notModified = await http.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        }
        using var missing = await http.GetAsync(root + "web/nothing.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        // The RPC is still the RPC: its own handshake, not the page.
        using var rpc = await http.GetAsync(daemon.RpcUrl);
        Assert.Equal(HttpStatusCode.Conflict, rpc.StatusCode);
    }

    private static async Task<int[]> ShownIdsAsync(IPage page) =>
        [.. (await page.Locator("#torrents li").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.id)")).Select(int.Parse)];

    private Task<BtaDaemon> StartDaemonAsync(string extraConfig = "") =>
        BtaDaemon.StartAsync(_work.Path, Path.Combine(_work.Path, "state-" + Guid.NewGuid().ToString("N")[..8]),
            Path.Combine(_work.Path, "downloads"), TimeSpan.FromMinutes(2), extraConfig);

    private static Task<HttpResponseMessage> GetAsync(HttpClient http, string url, string user, string password, string? host = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        if (host is not null)
        {
            request.Headers.Host = host;
        }
        return http.SendAsync(request);
    }

    public void Dispose() => _work.Dispose();
}
