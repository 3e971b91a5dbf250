using System.Globalization;
using BitTorrentActors.Engine.Tests.Rpc;
using Microsoft.Playwright;

namespace BitTorrentActors.Browser.Tests;

/// <summary>
/// bta's web page in a browser page, for the WebPage tests: opens it on a daemon, records every dialog, console
/// error and uncaught script error the page shows (a test asserts there were none), and waits, bounded, for what the
/// page's DOM says about a torrent (its row carries <c>data-id</c>, <c>data-state</c> and <c>data-percent</c>).
/// </summary>
public sealed class WebPageDriver
{
    private readonly List<string> _problems = [];
    private readonly Func<string> _log;

    private WebPageDriver(IPage page, string rootUrl, Func<string> log)
    {
        Page = page;
        RootUrl = rootUrl;
        _log = log;
        page.Dialog += (_, dialog) =>
        {
            Record($"dialog {dialog.Type}: {dialog.Message}");
            _ = dialog.DismissAsync();
        };
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning" && !IsSessionIdHandshake(message))
            {
                Record($"console {message.Type}: {message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => Record($"page error: {error}");
    }

    public IPage Page { get; }

    /// <summary>The daemon's root, where the page is: http://127.0.0.1:PORT/.</summary>
    public string RootUrl { get; }

    /// <summary>Dialogs, console errors and warnings, and uncaught errors seen so far.</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_problems)
            {
                return [.. _problems];
            }
        }
    }

    public static string RootOf(BtaDaemon daemon) => new Uri(new Uri(daemon.RpcUrl), "/").ToString();

    /// <summary>Opens the page on <paramref name="daemon"/> and waits for its first poll of the RPC.</summary>
    public static async Task<WebPageDriver> OpenAsync(IPage page, BtaDaemon daemon)
    {
        var driver = new WebPageDriver(page, RootOf(daemon), () => daemon.Log);
        var response = await page.GotoAsync(driver.RootUrl);
        Assert.True(response is { Status: 200 }, $"GET / answered {response?.Status}");
        await driver.WaitForPollsAsync(1);
        return driver;
    }

    public ILocator Row(int id) => Page.Locator($"#torrents li[data-id=\"{id.ToString(CultureInfo.InvariantCulture)}\"]");

    /// <summary>Waits until the page has polled the RPC <paramref name="count"/> more times than it has now
    /// (the body's data-polled counter), so what it shows is at least that fresh.</summary>
    public async Task WaitForPollsAsync(int count = 2)
    {
        var now = int.TryParse(await Page.Locator("body").GetAttributeAsync("data-polled"), out var n) ? n : 0;
        await Page.WaitForFunctionAsync($"() => Number(document.body.dataset.polled || 0) >= {now + count}",
            null, new PageWaitForFunctionOptions { Timeout = (float)HeadlessChromium.Timeout.TotalMilliseconds });
    }

    /// <summary>Waits until the row of torrent <paramref name="id"/> satisfies <paramref name="done"/> (given its
    /// data-state and data-percent); fails with what the row last showed and the daemon's log.</summary>
    public async Task WaitForRowAsync(int id, Func<string, double, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "(no row)";
        while (DateTime.UtcNow < deadline)
        {
            var row = Row(id);
            if (await row.CountAsync() == 1)
            {
                var state = await row.GetAttributeAsync("data-state") ?? "";
                var percent = double.Parse(await row.GetAttributeAsync("data-percent") ?? "0", CultureInfo.InvariantCulture);
                last = $"{state} {percent:P1}: {await row.InnerTextAsync()}";
                if (done(state, percent))
                {
                    return;
                }
            }
            await Task.Delay(250);
        }
        throw new Xunit.Sdk.XunitException(
            $"the page's row of torrent {id} did not become {what} within {timeout.TotalSeconds:0}s; last: {last}\n{_log()}");
    }

    /// <summary>Chromium logs every non-2xx fetch; the RPC's 409 that hands out the session id is the protocol
    /// (Transmission's CSRF handshake), not a fault of the page.</summary>
    private static bool IsSessionIdHandshake(IConsoleMessage message) =>
        message.Type == "error"
        && message.Text.Contains("status of 409", StringComparison.Ordinal)
        && message.Location.Contains(TransmissionRpcPath + ":", StringComparison.Ordinal);

    private const string TransmissionRpcPath = "/transmission/rpc";

    private void Record(string problem)
    {
        lock (_problems)
        {
            _problems.Add(problem);
        }
    }
}
