using BitTorrentActors.Engine.Tests.Swarm;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>
/// The real client as its own process (<c>dotnet bta.dll ...</c>), as a user runs it, for tests that signal or
/// kill it by PID. Diagnostics are off (DOTNET_EnableDiagnostics=0): a killed process would otherwise leave its
/// dotnet-diagnostic-* socket in /tmp.
/// </summary>
public static class BtaProcess
{
    /// <param name="environment">More variables for the child (its own come from this process).</param>
    public static SwarmProcess Start(
        string name, IEnumerable<string> arguments, TimeSpan lifetime, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var bta = Path.Combine(AppContext.BaseDirectory, "bta.dll");
        Assert.True(File.Exists(bta), $"{bta} is missing: the test project must reference the Cli project");
        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["DOTNET_EnableDiagnostics"] = "0" };
        return SwarmProcess.Start(name, DotnetHost(), [bta, .. arguments], lifetime, workingDirectory, variables);
    }

    /// <summary>
    /// bta in a real pseudo-terminal of <paramref name="columns"/> columns, TERM=xterm, through util-linux
    /// <c>script</c>: what a user's terminal receives (stdout and stderr interleaved, escape sequences and all) is
    /// written to <paramref name="typescript"/>.
    /// </summary>
    public static SwarmProcess StartInTerminal(
        string name, IEnumerable<string> arguments, int columns, string typescript, TimeSpan lifetime, string workingDirectory)
    {
        var bta = Path.Combine(AppContext.BaseDirectory, "bta.dll");
        var command = string.Join(' ', new[] { DotnetHost(), bta }.Concat(arguments).Select(Quote));
        return SwarmProcess.Start(name, "script",
            ["-q", "-e", "-f", "-c", $"stty cols {columns} rows 24; exec {command}", typescript], lifetime, workingDirectory,
            new Dictionary<string, string> { ["DOTNET_EnableDiagnostics"] = "0", ["TERM"] = "xterm" });
    }

    private static string Quote(string argument) => "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    // The dotnet host running this test (set by dotnet test), else the usual install locations.
    internal static string DotnetHost()
    {
        string?[] candidates =
        [
            Environment.GetEnvironmentVariable("DOTNET_HOST_PATH"),
            Environment.GetEnvironmentVariable("DOTNET_ROOT") is { } root ? Path.Combine(root, "dotnet") : null,
            "/usr/share/dotnet/dotnet",
            "/usr/bin/dotnet",
        ];
        return candidates.FirstOrDefault(c => c is not null && File.Exists(c))
            ?? throw new InvalidOperationException("no dotnet host found to run bta.dll");
    }
}
