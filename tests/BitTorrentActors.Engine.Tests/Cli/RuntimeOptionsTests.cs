using System.Text.Json;
using BitTorrentActors.Engine.Tests.Interop;

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
        var properties = TestBuildRuntimeOptions();

        Assert.True(properties.TryGetProperty(name, out var value), $"{name} is not in bta.runtimeconfig.json");
        Assert.Equal(expected, value.GetRawText());
    }

    [Fact]
    public void A_build_without_a_runtime_identifier_keeps_tiered_compilation()
    {
        // dotnet run (the README's first command) jits everything; without tier 0 it would compile all of it at
        // full optimisation on the way in.
        var properties = TestBuildRuntimeOptions();

        Assert.False(properties.TryGetProperty("System.Runtime.TieredCompilation", out var value) && value.GetRawText() == "false",
            "the test build's bta.runtimeconfig.json turns tiered compilation off");
    }

    [Fact]
    public async Task A_runtime_specific_publish_precompiles_generics_across_assemblies_and_turns_tiering_off()
    {
        // What `dotnet publish -r linux-x64` (README, "Install") evaluates the project to: MSBuild's own answer,
        // read without building anything.
        var project = Path.Combine(RepositoryFolder.Root, "src", "BitTorrentActors.Cli", "BitTorrentActors.Cli.csproj");
        var msbuild = await RealTools.RunCheckedAsync(BtaProcess.DotnetHost(),
            ["msbuild", project, "-nologo", "-nodeReuse:false", "-p:Configuration=Release", "-p:RuntimeIdentifier=linux-x64",
             "-getProperty:TieredCompilation", "-getProperty:PublishReadyToRun", "-getProperty:PublishReadyToRunCrossgen2ExtraArgs"],
            RepositoryFolder.Root);

        using var answer = JsonDocument.Parse(msbuild.Stdout);
        var properties = answer.RootElement.GetProperty("Properties");
        Assert.Equal("true", properties.GetProperty("PublishReadyToRun").GetString());
        Assert.Equal("false", properties.GetProperty("TieredCompilation").GetString());
        var crossgen = properties.GetProperty("PublishReadyToRunCrossgen2ExtraArgs").GetString()!.Split(';');
        Assert.Contains("--opt-cross-module:*", crossgen);
        Assert.Contains("--non-local-generics-module:*", crossgen);
    }

    // The runtime options of the test build (the bta.runtimeconfig.json beside bta.dll in the test output).
    private static JsonElement TestBuildRuntimeOptions()
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "bta.runtimeconfig.json")));
        return config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }
}
