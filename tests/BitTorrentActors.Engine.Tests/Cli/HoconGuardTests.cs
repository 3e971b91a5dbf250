using System.Text;
using Akka.Configuration;
using BitTorrentActors.Cli.Configuration;
using BitTorrentActors.Engine.Tests.Interop;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>Issue 17 item 1: malformed HOCON is one line naming the file and position, never a hang.</summary>
public sealed class HoconGuardTests : IDisposable
{
    // Far above a normal run (well under a second) yet far below "hangs with unbounded memory".
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("x = [}", "1:6")] // Akka's parser loops here with unbounded memory
    [InlineData("x = [1 }", "1:8")] // and here
    [InlineData("x = ${", "1:5")] // and here
    [InlineData("x = ${?HOME}", "1:5")] // and here
    [InlineData("bta {", "1:5")]
    [InlineData("x = \"unterminated", "1:5")]
    [InlineData("}}}}", "1:1")]
    [InlineData("x = = 1", "1:5")]
    [InlineData("bta {\n  listen-port = 1\n  max-connections\n}", "3:18")]
    [InlineData("bta = [{ a. = { b = 1 } }]", "1:10")] // a key ending in '.' hangs Akka inside a list
    [InlineData("x = \"\"\"a\"\"\"\"", "1:5")] // Akka ends this string early and reads on
    [InlineData("include \"other.conf\"", "1:1")]
    public async Task A_malformed_file_is_one_line_naming_the_file_and_position(string text, string position)
    {
        var file = _dir.Write("bad.conf", text);

        // Run on the thread pool: today's parser spins synchronously, so only a bounded wait can observe it.
        var result = await Task.Run(() => CliRunner.RunAsync("config", "--config", file)).WaitAsync(Bound);

        var line = result.AssertOneLineFailure();
        Assert.StartsWith($"bta: {file}:{position}: not valid HOCON: ", line);
    }

    [Fact]
    public void The_shipped_files_pass_the_guard()
    {
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "config"), "*.conf")
            .Append(Path.Combine(AppContext.BaseDirectory, BtaConfigLoader.BaseFileName)).ToList();
        Assert.True(files.Count >= 2);
        foreach (var file in files)
        {
            HoconGuard.Validate(File.ReadAllText(file));
        }
    }

    [Theory]
    [InlineData("a.b.c = 1, d = 2")]
    [InlineData("x = [1\n2]")]
    [InlineData("x : 10s // comment\ny = \"\\u00e9\\n\" # more")]
    [InlineData("\"a b\".c = 1")]
    [InlineData("x = {a = 1} {b = 2}")]
    [InlineData("x = \"\"\"multi\nline\"\"\"")]
    [InlineData("{ x = [1, [2, {a = 3}]] }")]
    [InlineData("x = some words joined")]
    public void Valid_hocon_in_the_accepted_subset_passes(string text)
    {
        HoconGuard.Validate(text);
        _ = ConfigurationFactory.ParseString(text);
    }

    [Fact]
    public async Task A_file_over_the_size_limit_is_refused_without_parsing()
    {
        var file = _dir.Write("big.conf", "# " + new string('x', HoconGuard.MaxChars) + "\n");

        var result = await Task.Run(() => CliRunner.RunAsync("config", "--config", file)).WaitAsync(Bound);

        Assert.Contains("larger than", result.AssertOneLineFailure());
    }

    [Fact]
    public void Nesting_is_bounded()
    {
        var deep = "x = " + new string('[', HoconGuard.MaxDepth + 1) + new string(']', HoconGuard.MaxDepth + 1);
        var ex = Assert.Throws<HoconSyntaxException>(() => HoconGuard.Validate(deep));
        Assert.Contains("nested deeper", ex.Reason);
    }

    /// <summary>Random damage to the shipped hocon.conf (and small token soups): whatever the guard lets through,
    /// Akka's parser must finish with (or without) an error within the bound. A hang here means the guard
    /// admits text Akka cannot handle.</summary>
    [Fact]
    public async Task Whatever_the_guard_accepts_akka_parses_in_bounded_time()
    {
        var shipped = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, BtaConfigLoader.BaseFileName));
        string[] fragments =
        [
            "x", "a.b", "\"q\"", "=", ":", "{", "}", "[", "]", ",", "\n", " ", "1", "10s", "\"\"\"t\"\"\"", "#c\n",
            "-", "+", "//c\n", "\"", ".", "\"\"\"", "a b", "$", "?", "\\", "é",
        ];
        var accepted = 0;
        var work = Task.Run(() =>
        {
            var random = new Random(17);
            for (var i = 0; i < 3000; i++)
            {
                var text = i % 2 == 0 ? Soup(random, fragments) : Mutate(random, shipped, fragments);
                try
                {
                    HoconGuard.Validate(text);
                }
                catch (HoconSyntaxException)
                {
                    continue;
                }
                accepted++;
                try
                {
                    _ = ConfigurationFactory.ParseString(text).Root.ToString();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // An exception is fine: the loader turns it into one line.
                }
            }
        });
        await work.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(accepted > 100, $"only {accepted} texts passed the guard: the test no longer exercises Akka");
    }

    private static string Soup(Random random, string[] fragments)
    {
        var text = new StringBuilder();
        for (var n = random.Next(1, 14); n > 0; n--)
        {
            text.Append(fragments[random.Next(fragments.Length)]);
        }
        return text.ToString();
    }

    private static string Mutate(Random random, string text, string[] fragments)
    {
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            var at = random.Next(text.Length);
            text = random.Next(3) switch
            {
                0 => text.Insert(at, fragments[random.Next(fragments.Length)]),
                1 => text.Remove(at, 1),
                _ => text.Remove(at, 1).Insert(at, fragments[random.Next(fragments.Length)]),
            };
        }
        return text;
    }
}
