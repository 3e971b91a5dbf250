using System.Runtime.CompilerServices;
using BitTorrentActors.Engine.Hosting;

namespace BitTorrentActors.Cluster.Tests;

/// <summary>
/// Before any cluster test runs, as in the engine tests: every bta this assembly starts refuses peers, trackers and
/// DHT nodes outside loopback (child processes inherit the variable).
/// </summary>
internal static class LoopbackOnly
{
    [ModuleInitializer]
    internal static void TurnOn() => Environment.SetEnvironmentVariable(SessionSettings.LoopbackOnlyVariable, "true");
}
