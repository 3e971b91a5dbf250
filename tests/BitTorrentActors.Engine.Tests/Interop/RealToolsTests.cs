using Xunit.Sdk;

namespace BitTorrentActors.Engine.Tests.Interop;

public class RealToolsTests
{
    [Fact]
    public async Task A_process_over_its_timeout_is_killed_by_pid_and_fails_the_test()
    {
        var started = DateTime.UtcNow;
        var ex = await Assert.ThrowsAsync<XunitException>(
            () => RealTools.RunAsync("sleep", ["30"], timeout: TimeSpan.FromMilliseconds(500)));

        Assert.Contains("was killed", ex.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Dispose_kills_the_whole_process_tree()
    {
        int childPid;
        await using (var shell = RealTools.Start("sh", ["-c", "sleep 60 & echo $!; wait"]))
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (shell.Stdout.Length == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
            childPid = int.Parse(shell.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(Directory.Exists($"/proc/{childPid}"));
        }

        var gone = DateTime.UtcNow.AddSeconds(10);
        while (IsRunning(childPid) && DateTime.UtcNow < gone)
        {
            await Task.Delay(20);
        }
        Assert.False(IsRunning(childPid), $"child {childPid} survived its parent's disposal");
    }

    [Fact]
    public void A_missing_tool_fails_naming_its_debian_package()
    {
        var ex = Assert.Throws<XunitException>(() => RealTools.Require("/usr/bin/no-such-bta-tool"));
        Assert.Contains("not installed", ex.Message);
    }

    [Fact]
    public async Task Output_and_exit_code_are_captured_and_stdin_is_closed()
    {
        var result = await RealTools.RunAsync("sh", ["-c", "cat; echo out; echo err >&2; exit 3"]);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("out\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
    }

    [Fact]
    public async Task Debian_python_imports_libtorrent()
    {
        var python = await RealTools.RequireLibtorrentPythonAsync();
        Assert.Equal(RealTools.DebianPython, python);
    }

    /// <summary>Alive and not a zombie (a killed child of an exited shell is reaped by init).</summary>
    private static bool IsRunning(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        try
        {
            return File.Exists(stat) && !File.ReadAllText(stat).Contains(") Z ", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
