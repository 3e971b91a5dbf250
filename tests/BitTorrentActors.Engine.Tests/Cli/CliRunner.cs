using BitTorrentActors.Cli;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>Runs <c>bta</c> in-process through <see cref="BtaApp.RunAsync(string[], TextWriter, TextWriter, CancellationToken)"/>.</summary>
public static class CliRunner
{
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var exitCode = await BtaApp.RunAsync(args, stdout, stderr, timeout.Token);
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }
}

public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Asserts a failure reported the bta way: exit 1, nothing on stdout, exactly one line on stderr.</summary>
    public string AssertOneLineFailure()
    {
        Assert.True(ExitCode == 1, $"expected exit code 1, got {ExitCode}; stderr: {Stderr}");
        Assert.Equal(string.Empty, Stdout);
        var line = Assert.Single(StderrLines);
        Assert.StartsWith("bta: ", line);
        Assert.DoesNotContain("   at ", Stderr);
        return line;
    }

    public void AssertUsageError(string expectedMessage)
    {
        Assert.True(ExitCode == 2, $"expected exit code 2, got {ExitCode}; stderr: {Stderr}");
        Assert.Equal(string.Empty, Stdout);
        Assert.Contains(expectedMessage, Stderr);
        Assert.Contains("Usage: bta", Stderr);
    }
}
