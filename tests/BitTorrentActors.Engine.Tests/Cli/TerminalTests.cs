using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using BitTorrentActors.Engine.Tests.Hostile;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.Swarm;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>
/// Issue 15 items 2 and 9 in a real pseudo-terminal of 80 columns with TERM=xterm: the live line never wraps,
/// redraws add no lines, log lines land above it (never inside), no "0 B/s" while data arrives, and the only
/// colours are yellow and red for warnings and errors (everything else in the terminal's default colours).
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed partial class TerminalTests : IDisposable
{
    private const int Columns = 80;
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task At_80_columns_the_live_line_fits_and_logs_stay_above_it()
    {
        // Slow enough (about 6 s) for many redraws and for the dead tracker's retry warning mid-download.
        var content = SwarmContent.SingleFile("terminal", 1_500_000, seed: 71, pieceLength: 16 * 1024);
        var torrent = SwarmTorrent.Build(content, _dir.Path, "http://127.0.0.1:1/announce");
        using var peer = new ScriptedPeer(torrent, HostileBehaviour.Honest, Lifetime, blockDelay: TimeSpan.FromMilliseconds(60));
        var config = _dir.Write("tty.conf", "bta.listen-address = \"127.0.0.1\"\n");
        var typescript = Path.Combine(_dir.Path, "typescript");
        var output = Path.Combine(_dir.Path, "out");

        using var bta = BtaProcess.StartInTerminal("bta download (tty)",
            ["download", torrent.Path, "-o", output, "--config", config, "--peer", peer.PeerArgument,
                "--port", LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture)],
            Columns, typescript, Lifetime, _dir.Path);
        var code = await bta.WaitForExitAsync(TimeSpan.FromSeconds(50));
        var typed = await File.ReadAllTextAsync(typescript);
        // script's own first line ("Script started ... [COMMAND=...]") and last ("Script done ...") are not bta's.
        var raw = typed[(typed.IndexOf('\n', StringComparison.Ordinal) + 1)..];
        raw = raw.Contains("\nScript done", StringComparison.Ordinal) ? raw[..raw.LastIndexOf("\nScript done", StringComparison.Ordinal)] : raw;

        Assert.True(code == 0, $"exit {code}\n{bta.Log}\n{raw}");
        content.AssertDownloaded(output);
        var screen = Terminal.Render(raw, Columns);
        // Long log lines may wrap (a terminal does that); the live line must not, or each redraw adds a line.
        Assert.All(screen.Wrapped, w => Assert.False(w.StartsWith("downloading", StringComparison.Ordinal), $"the live line wrapped: '{w}'"));
        Assert.Contains(screen.Lines, l => l.StartsWith("Complete: terminal,", StringComparison.Ordinal));
        Assert.True(screen.Lines.Count(l => l.StartsWith("downloading", StringComparison.Ordinal)) <= 1,
            "redraws left lines behind:\n" + string.Join('\n', screen.Lines));
        Assert.Contains(screen.Lines, l => l.Contains(" WRN] ", StringComparison.Ordinal));
        Assert.All(screen.Lines.Where(l => LogLevel().IsMatch(l)), l => Assert.Matches(@"^\[\d\d:\d\d:\d\d [A-Z]{3}\] ", l));

        var drawn = raw.Split("\r\u001b[K").Select(d => d.Split('\r', '\n')[0]).Where(d => d.StartsWith("downloading ", StringComparison.Ordinal)).ToList();
        Assert.True(drawn.Count >= 5, $"only {drawn.Count} redraws:\n{raw}");
        Assert.All(drawn, d => Assert.True(d.Length < Columns, $"{d.Length} characters at {Columns} columns: '{d}'"));
        Assert.All(drawn, d => Assert.False(
            ZeroRate().Match(d) is { Success: true } m && m.Groups[1].Value != "0.0", $"0 B/s while data arrives: '{d}'"));

        var colours = Sgr().Matches(raw).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.All(colours, c => Assert.Contains(c, new[] { "0", "33", "31", "1;31" }));
    }

    [GeneratedRegex(@"\[\d\d:\d\d:\d\d (INF|WRN|ERR|DBG)\]")]
    private static partial Regex LogLevel();

    [GeneratedRegex(@"^downloading (\d+\.\d)% .*down 0 B/s")]
    private static partial Regex ZeroRate();

    [GeneratedRegex("\u001b\\[([0-9;]*)m")]
    private static partial Regex Sgr();

    /// <summary>The little of a terminal that matters here: carriage return, erase to end of line, new line,
    /// auto-wrap at the width; other escape sequences are skipped.</summary>
    private sealed class Terminal
    {
        public List<string> Lines { get; } = [];

        public List<string> Wrapped { get; } = [];

        public static Terminal Render(string raw, int width)
        {
            var terminal = new Terminal();
            var line = new StringBuilder();
            var column = 0;
            for (var i = 0; i < raw.Length; i++)
            {
                var c = raw[i];
                if (c == '\u001b')
                {
                    if (i + 1 < raw.Length && raw[i + 1] == '[')
                    {
                        var end = i + 2;
                        while (end < raw.Length && !char.IsAsciiLetter(raw[end]))
                        {
                            end++;
                        }
                        if (end < raw.Length && raw[end] == 'K')
                        {
                            line.Length = Math.Min(line.Length, column);
                        }
                        i = end;
                    }
                    else
                    {
                        i++;
                    }
                    continue;
                }
                switch (c)
                {
                    case '\r':
                        column = 0;
                        break;
                    case '\n':
                        terminal.Lines.Add(line.ToString());
                        line.Clear();
                        column = 0;
                        break;
                    default:
                        if (char.IsControl(c))
                        {
                            break;
                        }
                        if (column == width)
                        {
                            terminal.Wrapped.Add(line.ToString());
                            terminal.Lines.Add(line.ToString());
                            line.Clear();
                            column = 0;
                        }
                        if (column < line.Length)
                        {
                            line[column] = c;
                        }
                        else
                        {
                            line.Append(c);
                        }
                        column++;
                        break;
                }
            }
            terminal.Lines.Add(line.ToString());
            return terminal;
        }
    }
}
