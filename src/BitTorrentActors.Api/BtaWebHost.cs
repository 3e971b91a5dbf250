using Akka.Configuration;
using BitTorrentActors.Api.Rpc;
using BitTorrentActors.Api.Web;
using BitTorrentActors.Api.WebRoot;
using BitTorrentActors.Engine.Hosting;
using SessionOptions = BitTorrentActors.Engine.Session.SessionOptions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace BitTorrentActors.Api;

/// <summary>
/// The daemon's host: the session (<see cref="BtaHostingExtensions.AddBitTorrentActors"/>) plus Kestrel serving
/// the Transmission RPC, bta's web page (at <c>/</c>) and optionally another front-end's files (bta.rpc.web-root, at
/// <c>/transmission/web/</c>) on <c>bta.rpc.bind</c>:<c>bta.rpc.port</c>. Built from an empty builder: hocon.conf is
/// the only configuration (no appsettings.json, no environment variables but TRANSMISSION_WEB_HOME, no default
/// logging), and the caller adds logging and the host lifetime through <paramref name="configureServices"/>.
/// </summary>
public static class BtaWebHost
{
    public static WebApplication Build(
        Config config, BtaSettings settings, SessionOptions session, Action<IServiceCollection> configureServices)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(configureServices);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = "bta",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(settings.Rpc.Bind, settings.Rpc.Port);
            // The RPC reads at most max-body-bytes itself (and answers 413 in JSON); Kestrel's cap is a backstop.
            kestrel.Limits.MaxRequestBodySize = settings.Rpc.MaxBodyBytes + 1L;
            kestrel.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
        });
        builder.Services.AddRoutingCore();
        configureServices(builder.Services);
        builder.Services.AddBitTorrentActors(config, session: session);
        builder.Services.AddTransmissionRpc(settings, session.StateDirectory ?? "", session.DownloadDirectory);
        builder.Services.AddTransmissionWebRoot(settings);
        var app = builder.Build();
        app.UseRouting();
        app.MapTransmissionRpc();
        app.MapWebPage();
        app.MapTransmissionWebRoot();
        return app;
    }

    /// <summary>The RPC's URL once the host has started (with the real port when bta.rpc.port is 0).</summary>
    public static string RpcUrl(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("the RPC server has no address");
        return address.TrimEnd('/') + TransmissionRpcEndpoint.RpcPath;
    }
}
