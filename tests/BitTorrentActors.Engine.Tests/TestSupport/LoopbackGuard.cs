using System.Runtime.CompilerServices;

namespace BitTorrentActors.Engine.Tests.TestSupport;

/// <summary>
/// Before any test runs: every session this test assembly starts, in-process or as a child <c>bta</c> process
/// (which inherits the environment), refuses peers, trackers and DHT nodes outside loopback
/// (<c>BTA_LOOPBACK_ONLY</c> forces <c>bta.session.loopback-only</c> on). A test cannot forget it.
/// </summary>
internal static class LoopbackGuard
{
    public const string Variable = Hosting.SessionSettings.LoopbackOnlyVariable;

    [ModuleInitializer]
    internal static void TurnOn() => Environment.SetEnvironmentVariable(Variable, "true");
}
