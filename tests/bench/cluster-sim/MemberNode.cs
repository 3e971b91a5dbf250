using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BitTorrentActors.ClusterSim;

/// <summary>
/// A member node started by the driver. It is bounded three ways: its own lifetime, its parent's death (so a killed
/// driver never leaves members behind), and the ActorSystem ending (after a graceful leave). SIGTERM is the clean
/// leave the driver uses: the generic host runs CoordinatedShutdown, whose sharding phase hands the shards off.
/// </summary>
public static class MemberNode
{
    public static async Task<int> RunAsync(Options o)
    {
        using var host = SimNode.Build(o.Settings, o.Port, driver: false);
        await host.StartAsync();
        var system = host.Services.GetRequiredService<ActorSystem>();
        Console.Out.WriteLine($"member {o.Port} up (pid {Environment.ProcessId})");
        Console.Out.Flush();

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(o.LifetimeSeconds));
        var parentGone = WatchParentAsync(o.ParentPid, cts.Token);
        var lifetime = Task.Delay(Timeout.Infinite, cts.Token);
        await Task.WhenAny(host.WaitForShutdownAsync(cts.Token), system.WhenTerminated, parentGone, lifetime);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StopAsync(stop.Token);
        return 0;
    }

    private static async Task WatchParentAsync(int pid, CancellationToken token)
    {
        if (pid <= 0) { await Task.Delay(Timeout.Infinite, token).ContinueWith(_ => { }); return; }
        while (!token.IsCancellationRequested && Directory.Exists($"/proc/{pid}"))
        {
            try { await Task.Delay(1000, token); }
            catch (OperationCanceledException) { return; }
        }
    }
}
