using BitTorrentActors.Cli.Commands;
using BitTorrentActors.Engine.Torrent;
using State = BitTorrentActors.Engine.Torrent.TorrentCoordinator.TorrentState;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>Issue 15 item 2: the live line fits the terminal, logs go above it, rates are never 0 while bytes
/// arrive, and seeding shows upload and ratio.</summary>
public sealed class ProgressLineTests
{
    private const long MiB = 1024 * 1024;

    private static TorrentCoordinator.Progress Downloading(long rate = 3 * MiB) =>
        new(State.Downloading, 400, 1000, 400 * MiB, 1000 * MiB, rate, 120 * 1024, 400 * MiB, 5 * MiB, 37);

    [Theory]
    [InlineData(80)]
    [InlineData(60)]
    [InlineData(40)]
    [InlineData(24)]
    public void The_line_fits_the_width_and_keeps_state_and_percent(int columns)
    {
        var line = ProgressRenderer.Layout(Downloading(), 3 * MiB, 120 * 1024, columns - 1);

        Assert.True(line.Length <= columns - 1, $"{line.Length} characters at {columns} columns: '{line}'");
        Assert.StartsWith("downloading 40.0%", line.TrimStart('[', '#', '.', ']', ' '));
    }

    [Fact]
    public void At_80_columns_the_bar_goes_first_and_rate_peers_and_eta_stay()
    {
        var line = ProgressRenderer.Layout(Downloading(), 3 * MiB, 120 * 1024, 79);

        Assert.DoesNotContain("[", line);
        Assert.Contains("down 3.0 MiB/s", line);
        Assert.Contains("peers 37", line);
        Assert.Contains("eta ", line);
        Assert.True(line.Length <= 79, line);
    }

    [Fact]
    public void A_wide_terminal_gets_every_field_with_the_bar()
    {
        var line = ProgressRenderer.Layout(Downloading(), 3 * MiB, 120 * 1024, 200);

        Assert.StartsWith("[########............] downloading 40.0% 400.0 MiB/1000.0 MiB down 3.0 MiB/s up 120.0 KiB/s peers 37 eta 3m20s", line);
    }

    [Fact]
    public void Seeding_shows_upload_rate_and_ratio()
    {
        var seeding = new TorrentCoordinator.Progress(State.Seeding, 1000, 1000, 1000 * MiB, 1000 * MiB, 0, 2 * MiB, 0, 1500 * MiB, 4);

        var line = ProgressRenderer.Layout(seeding, 0, 2 * MiB, 79);

        Assert.Contains("seeding 100.0%", line);
        Assert.Contains("up 2.0 MiB/s", line);
        Assert.Contains("ratio 1.50", line);
        Assert.DoesNotContain("eta", line);
    }

    [Fact]
    public void While_the_coordinator_rate_still_reads_zero_the_average_since_start_is_shown()
    {
        var rates = new ProgressRenderer.RateEstimate();
        var checkedEmpty = Downloading(rate: 0) with { VerifiedBytes = 0, Downloaded = 0 };
        Assert.Equal(0, rates.Update(checkedEmpty, TimeSpan.FromSeconds(1)).Down);

        Assert.Equal(MiB, rates.Update(checkedEmpty with { Downloaded = 2 * MiB }, TimeSpan.FromSeconds(2)).Down);
        // The pieces verified since the check count even while the downloaded counter lags.
        Assert.Equal(2 * MiB, rates.Update(checkedEmpty with { VerifiedBytes = 4 * MiB }, TimeSpan.FromSeconds(2)).Down);
        Assert.Equal(3 * MiB, rates.Update(Downloading(), TimeSpan.FromSeconds(2)).Down);
    }

    [Fact]
    public void A_log_line_erases_the_live_line_is_written_and_the_live_line_is_drawn_again()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var console = new LiveConsole(stdout, stderr, interactive: true, width: () => 80);
        console.SetLive("downloading 1.0%");

        console.WriteLog("[02:00:00 WRN] tracker down\n");
        console.WriteLine("Complete: x");

        Assert.Equal("\r\u001b[Kdownloading 1.0%\r\u001b[Kdownloading 1.0%\r\u001b[KComplete: x" + Environment.NewLine + "downloading 1.0%", stdout.ToString());
        Assert.Equal("[02:00:00 WRN] tracker down\n", stderr.ToString());
    }

    [Fact]
    public void The_renderer_draws_through_the_live_console_at_its_width()
    {
        using var stdout = new StringWriter();
        var console = new LiveConsole(stdout, TextWriter.Null, interactive: true, width: () => 50);
        var renderer = new ProgressRenderer(console, ProgressMode.Human, () => TimeSpan.FromSeconds(1));

        renderer.Render([Downloading()]);

        var drawn = stdout.ToString().Split("\r\u001b[K", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(drawn, d => Assert.True(d.Length <= 49, $"'{d}' is {d.Length} characters"));
    }

    [Fact]
    public void Several_torrents_are_summed_in_one_line()
    {
        using var stdout = new StringWriter();
        var renderer = new ProgressRenderer(new LiveConsole(stdout, TextWriter.Null, interactive: true, width: () => 200), ProgressMode.Human);

        renderer.Render([Downloading(), Downloading()]);

        Assert.Contains("2 torrents downloading 40.0%", stdout.ToString());
        Assert.Contains("peers 74", stdout.ToString());
    }
}
