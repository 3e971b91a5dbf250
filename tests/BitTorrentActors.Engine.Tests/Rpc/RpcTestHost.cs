using BitTorrentActors.Api;
using BitTorrentActors.Engine.Hosting;
using SessionOptions = BitTorrentActors.Engine.Session.SessionOptions;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Engine.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>The daemon's web host in-process (session + Kestrel on 127.0.0.1, RPC on a free port), with its
/// state and download folders in a temp folder; stopped cleanly on dispose.</summary>
public sealed class RpcTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RpcTestHost(WebApplication app, SwarmTempDir dir, string url, string downloads)
    {
        _app = app;
        Dir = dir;
        Url = url;
        Downloads = downloads;
    }

    public SwarmTempDir Dir { get; }

    public string Url { get; }

    public string Downloads { get; }

    public static async Task<RpcTestHost> StartAsync(string overrides = "")
    {
        var dir = new SwarmTempDir("rpc");
        var downloads = dir.Sub("downloads");
        var config = TestTorrents.LoadConfig($$"""
            {{overrides}}
            bta.listen-address = "127.0.0.1"
            bta.listen-port = {{LoopbackPorts.Next()}}
            bta.session.loopback-only = true
            bta.rpc.port = 0
            bta.rpc.torrent-dirs = "{{dir.Path}}"
            akka.loglevel = WARNING
            """);
        var settings = BtaSettings.FromConfig(config);
        var app = BtaWebHost.Build(config, settings, new SessionOptions(dir.Sub("state"), downloads),
            services => services.AddLogging());
        await app.StartAsync();
        return new RpcTestHost(app, dir, BtaWebHost.RpcUrl(app), downloads);
    }

    public RpcClient Client(string? user = null, string? password = null) => new(Url, user, password);

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        Dir.Dispose();
    }
}
