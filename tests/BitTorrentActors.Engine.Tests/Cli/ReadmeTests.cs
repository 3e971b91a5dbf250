using System.Text.RegularExpressions;
using BitTorrentActors.Engine.Tests.Interop;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>
/// Issue 15 item 1: a newcomer's first run. The README starts with a walk-through that needs no placeholder (it
/// makes its own torrent with <c>bta create</c>, seeds it and downloads it on 127.0.0.1), and what a run leaves in
/// the folder it runs in is git-ignored.
/// </summary>
public sealed partial class ReadmeTests
{
    private static readonly string Root = RepositoryFolder.Root;

    [Fact]
    public void The_first_commands_need_no_placeholder_and_walk_through_create_seed_and_download()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        // The README opens with the two set-up commands (run the client, pass the tests), then the walk-through.
        var setUp = Section(readme, 0);
        var firstSection = Section(readme, readme.IndexOf(setUp, StringComparison.Ordinal) + setUp.Length);
        var commands = string.Join('\n', ShellBlock().Matches(firstSection).Select(m => m.Groups[1].Value));

        Assert.StartsWith("\n## Set-up on a fresh clone (two commands)", setUp);
        Assert.Equal(2, ShellBlock().Matches(setUp).Count);
        Assert.Contains("bash .ci/run", setUp);
        Assert.StartsWith("\n## First run", firstSection);
        Assert.DoesNotContain("path/to", readme);
        Assert.Contains("apt-get install -y dotnet-sdk-10.0", commands);
        Assert.Matches(@"bta create share -o share\.torrent", commands);
        Assert.Matches(@"bta seed share\.torrent --data \. --port 6881 --set bta\.listen-address=127\.0\.0\.1", commands);
        Assert.Matches(@"bta download \.\./share\.torrent .*--peer 127\.0\.0\.1:6881", commands);
        Assert.DoesNotMatch(@"-o downloads\b", commands);
    }

    /// <summary>The "## " section that starts at or after <paramref name="from"/>, up to the next one.</summary>
    private static string Section(string readme, int from)
    {
        var section = readme[readme.IndexOf("\n## ", from, StringComparison.Ordinal)..];
        return section[..section.IndexOf("\n## ", 4, StringComparison.Ordinal)];
    }

    [Theory]
    [InlineData("downloads/film.mkv")]
    [InlineData(".bta/0123.resume")]
    [InlineData("share.torrent")]
    [InlineData("bta-debug.log")]
    public async Task What_a_run_in_the_repository_leaves_is_git_ignored(string path)
    {
        var result = await RealTools.RunAsync("git", ["-C", Root, "check-ignore", "-q", "--no-index", path]);

        Assert.True(result.ExitCode == 0, $"{path} is not git-ignored");
    }

    [GeneratedRegex("```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ShellBlock();
}
