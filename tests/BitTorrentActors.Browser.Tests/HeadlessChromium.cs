using Microsoft.Playwright;

namespace BitTorrentActors.Browser.Tests;

/// <summary>
/// Debian's Chromium, headless, driven by Playwright's bundled driver (the package's own browser download cannot work
/// here, so <see cref="ExecutablePath"/> is always given). The flags are the ones that keep Chromium from reaching
/// for Google's hosts at start (background networking, component updates, sync): with them it opens nothing but the
/// pages a test names, all on 127.0.0.1. One browser per test class (an xunit class fixture); each test takes a fresh
/// context, so cookies and storage never leak between tests. Every wait is bounded by <see cref="Timeout"/>.
/// </summary>
public sealed class HeadlessChromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>The bound on every Playwright action and wait (a loaded CI machine is slow, never stuck).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static readonly string[] Flags =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
        "--metrics-recording-only", "--no-default-browser-check", "--disable-dev-shm-usage",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("the browser has not started");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"{ExecutablePath} is missing: install Debian's chromium package (.ci/run does, as root)");
        }
        _playwright = await Playwright.CreateAsync().ConfigureAwait(false);
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = Flags,
            Timeout = (float)Timeout.TotalMilliseconds,
        }).ConfigureAwait(false);
    }

    /// <summary>A fresh context and page; the page's default timeouts are <see cref="Timeout"/>.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
        }).ConfigureAwait(false);
        context.SetDefaultTimeout((float)Timeout.TotalMilliseconds);
        return await context.NewPageAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Saves a full-page PNG beside the test results (<c>TestResults/screenshots/</c> at the repository root, where
    /// the README's test command writes its TRX files) and returns its path, for the closing note and for a person
    /// who wants to see what the test saw.
    /// </summary>
    public static async Task<string> SaveScreenshotAsync(IPage page, string name)
    {
        ArgumentNullException.ThrowIfNull(page);
        var folder = Path.Combine(RepositoryRoot(), "TestResults", "screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true }).ConfigureAwait(false);
        return path;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BitTorrentActors.sln")))
            {
                return dir.FullName;
            }
        }
        return AppContext.BaseDirectory;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync().ConfigureAwait(false);
        }
        _playwright?.Dispose();
    }
}
