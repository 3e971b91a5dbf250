using BitTorrentActors.Cli.CommandLine;
using BitTorrentActors.Cli.Hosting;
using Serilog.Sinks.SystemConsole.Themes;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>Issue 15 item 9: distinct exit codes for distinct failures; the log keeps the terminal's colours.</summary>
public sealed class ExitCodeTests
{
    [Theory]
    [InlineData("album: No space left on device : '/data/album/a.bin'", ExitCodes.DiskFull)]
    [InlineData("album: Disk quota exceeded", ExitCodes.DiskFull)]
    [InlineData("album: Read-only file system : '/ro/a.bin'", ExitCodes.FolderUnusable)]
    [InlineData("album: Access to the path '/x/album' is denied.", ExitCodes.FolderUnusable)]
    [InlineData("album: every tracker refused the torrent", ExitCodes.Failure)]
    public void A_failure_reason_maps_to_its_documented_code(string reason, int expected) =>
        Assert.Equal(expected, ExitCodes.ForFailure(reason));

    [Fact]
    public void The_codes_are_distinct()
    {
        int[] codes = [ExitCodes.Ok, ExitCodes.Failure, ExitCodes.Usage, ExitCodes.FolderUnusable, ExitCodes.DiskFull, ExitCodes.Cancelled];
        Assert.Equal(codes.Length, codes.Distinct().Count());
    }

    [Fact]
    public void The_console_theme_colours_only_warnings_and_errors()
    {
        // Serilog's default theme paints text in white or black; this one leaves every other token at the
        // terminal's own colour, readable on a light or dark background.
        var theme = LiveConsoleSink.LevelOnlyTheme;
        using var output = new StringWriter();
        foreach (var style in Enum.GetValues<ConsoleThemeStyle>())
        {
            theme.Set(output, style);
        }
        Assert.Equal("\u001b[33m\u001b[31m\u001b[1;31m", output.ToString());
    }
}
