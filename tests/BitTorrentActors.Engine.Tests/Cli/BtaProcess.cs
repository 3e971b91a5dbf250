using BitTorrentActors.Engine.Tests.Swarm;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>
/// The real client as its own process (<c>dotnet bta.dll ...</c>), as a user runs it, for tests that signal or
/// kill it by PID. Diagnostics are off (DOTNET_EnableDiagnostics=0): a killed process would otherwise leave its
/// dotnet-diagnostic-* socket in /tmp. With <see cref="ExecutableVariable"/> set to a published <c>bta</c> (a
/// ReadyToRun install or the Native AOT executable), the tests run that instead: the same suite checks an install.
/// </summary>
public static class BtaProcess
{
    /// <summary>The variable naming a published bta executable for the tests to run in place of the build's bta.dll.</summary>
    public const string ExecutableVariable = "BTA_TEST_EXECUTABLE";

    /// <param name="environment">More variables for the child (its own come from this process).</param>
    public static SwarmProcess Start(
        string name, IEnumerable<string> arguments, TimeSpan lifetime, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["DOTNET_EnableDiagnostics"] = "0" };
        var (program, prefix) = Command();
        return SwarmProcess.Start(name, program, [.. prefix, .. arguments], lifetime, workingDirectory, variables);
    }

    /// <summary>What runs bta: the executable <see cref="ExecutableVariable"/> names, else the dotnet host with
    /// the bta.dll beside the tests.</summary>
    public static (string Program, string[] Prefix) Command()
    {
        if (Environment.GetEnvironmentVariable(ExecutableVariable) is { Length: > 0 } variable)
        {
            // Absolute: some tests run it from another working directory (script, unshare).
            var executable = Path.GetFullPath(variable);
            Assert.True(File.Exists(executable), $"{ExecutableVariable}={executable}: no such file");
            return (executable, []);
        }
        var bta = Path.Combine(AppContext.BaseDirectory, "bta.dll");
        Assert.True(File.Exists(bta), $"{bta} is missing: the test project must reference the Cli project");
        return (DotnetHost(), [bta]);
    }

    /// <summary>
    /// bta in a real pseudo-terminal of <paramref name="columns"/> columns, TERM=xterm, through util-linux
    /// <c>script</c>: what a user's terminal receives (stdout and stderr interleaved, escape sequences and all) is
    /// written to <paramref name="typescript"/>.
    /// </summary>
    public static SwarmProcess StartInTerminal(
        string name, IEnumerable<string> arguments, int columns, string typescript, TimeSpan lifetime, string workingDirectory)
    {
        var (program, prefix) = Command();
        var command = string.Join(' ', new[] { program }.Concat(prefix).Concat(arguments).Select(Quote));
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
