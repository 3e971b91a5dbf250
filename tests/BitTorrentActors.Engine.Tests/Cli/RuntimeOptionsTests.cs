using System.Text.Json;
using BitTorrentActors.Engine.Tests.Swarm;

namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>
/// The runtime options bta ships with (issue 14): set in its project, they reach every build through
/// bta.runtimeconfig.json, which the test output holds beside bta.dll.
/// </summary>
public class RuntimeOptionsTests
{
    [Theory]
    [InlineData("System.Runtime.EnableWriteXorExecute", "false")]
    [InlineData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", "0")]
    [InlineData("System.GC.Server", "false")]
    [InlineData("System.Runtime.TieredPGO", "false")]
    public void Bta_runtimeconfig_sets_the_measured_runtime_options(string name, string expected)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "bta.runtimeconfig.json")));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.True(properties.TryGetProperty(name, out var value), $"{name} is not in bta.runtimeconfig.json");
        Assert.Equal(expected, value.GetRawText());
    }

    [Fact]
    public void A_build_without_a_runtime_identifier_keeps_tiered_compilation()
    {
        // dotnet run (the README's first command) jits everything; without tier 0 it would compile all of it at
        // full optimisation on the way in.
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "bta.runtimeconfig.json")));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.False(properties.TryGetProperty("System.Runtime.TieredCompilation", out var value) && value.GetRawText() == "false",
            "the test build's bta.runtimeconfig.json turns tiered compilation off");
    }

    [Fact]
    public async Task A_runtime_specific_publish_precompiles_generics_across_assemblies_and_turns_tiering_off()
    {
        // What `dotnet publish -r linux-x64` (README, "Install") evaluates the project to: MSBuild's own answer,
        // read without building anything.
        var project = Path.Combine(RepositoryRoot(), "src", "BitTorrentActors.Cli", "BitTorrentActors.Cli.csproj");
        using var msbuild = SwarmProcess.Start("msbuild", BtaProcess.DotnetHost(),
            ["msbuild", project, "-nologo", "-p:Configuration=Release", "-p:RuntimeIdentifier=linux-x64",
             "-getProperty:TieredCompilation", "-getProperty:PublishReadyToRun", "-getProperty:PublishReadyToRunCrossgen2ExtraArgs"],
            TimeSpan.FromMinutes(2), RepositoryRoot(),
            new Dictionary<string, string>
            {
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                ["DOTNET_NOLOGO"] = "1",
                // Nothing outlives the evaluation: no MSBuild server, no worker nodes left waiting for reuse.
                ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
                ["MSBUILDDISABLENODEREUSE"] = "1",
            });
        Assert.Equal(0, await msbuild.WaitForExitAsync(TimeSpan.FromMinutes(2)));

        var log = msbuild.Log;
        using var answer = JsonDocument.Parse(log[log.IndexOf('{', StringComparison.Ordinal)..]);
        var properties = answer.RootElement.GetProperty("Properties");
        Assert.Equal("true", properties.GetProperty("PublishReadyToRun").GetString());
        Assert.Equal("false", properties.GetProperty("TieredCompilation").GetString());
        var crossgen = properties.GetProperty("PublishReadyToRunCrossgen2ExtraArgs").GetString()!.Split(';');
        Assert.Contains("--opt-cross-module:*", crossgen);
        Assert.Contains("--non-local-generics-module:*", crossgen);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BitTorrentActors.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no BitTorrentActors.sln above {AppContext.BaseDirectory}");
    }
}
