using BitTorrentActors.Engine.Tests.Swarm;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>
/// The real client as its own process (<c>dotnet bta.dll ...</c>), as a user runs it, for tests that signal or
/// kill it by PID. Diagnostics are off (DOTNET_EnableDiagnostics=0): a killed process would otherwise leave its
/// dotnet-diagnostic-* socket in /tmp.
/// </summary>
public static class BtaProcess
{
    public static SwarmProcess Start(string name, IEnumerable<string> arguments, TimeSpan lifetime, string workingDirectory)
    {
        var bta = Path.Combine(AppContext.BaseDirectory, "bta.dll");
        Assert.True(File.Exists(bta), $"{bta} is missing: the test project must reference the Cli project");
        return SwarmProcess.Start(name, DotnetHost(), [bta, .. arguments], lifetime, workingDirectory,
            new Dictionary<string, string> { ["DOTNET_EnableDiagnostics"] = "0" });
    }

    // The dotnet host running this test (set by dotnet test), else the usual install locations.
    private static string DotnetHost()
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
