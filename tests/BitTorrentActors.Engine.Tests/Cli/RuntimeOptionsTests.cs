using System.Text.Json;

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
}
