using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.Rpc;

namespace BitTorrentActors.Browser.Tests;

public sealed class HeadlessChromiumTests(HeadlessChromium chromium) : IClassFixture<HeadlessChromium>
{
    [Fact]
    public async Task Chromium_reaches_a_bta_daemon_on_loopback_and_sees_its_rpc_answer()
    {
        using var work = new TempDirectory();
        using var daemon = await BtaDaemon.StartAsync(work.Path, Path.Combine(work.Path, "state"),
            Path.Combine(work.Path, "downloads"), TimeSpan.FromMinutes(2));
        var page = await chromium.NewPageAsync();

        var response = await page.GotoAsync(daemon.RpcUrl);

        // A GET without the session id is Transmission's 409 with the id in a header, as transmission-daemon does.
        Assert.NotNull(response);
        Assert.Equal(409, response.Status);
        Assert.False(string.IsNullOrEmpty(await response.HeaderValueAsync("X-Transmission-Session-Id")));
        await page.Context.CloseAsync();
    }
}
