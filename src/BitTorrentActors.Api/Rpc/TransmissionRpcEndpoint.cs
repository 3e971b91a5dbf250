using BitTorrentActors.Engine.Trackers;
using System.Net;
using System.Reflection;
using Akka.Actor;
using Akka.Hosting;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Session;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace BitTorrentActors.Api.Rpc;

/// <summary>What every request shares: the guard, the server facts and the HTTP client for torrent-add URLs.</summary>
public sealed class RpcService(RpcGuard guard, RpcServerInfo info, RpcSettings settings, HttpClient http)
{
    private volatile bool _startAddedTorrents = true;

    public RpcGuard Guard => guard;

    public RpcServerInfo Info => info;

    public RpcSettings Settings => settings;

    public HttpClient Http => http;

    /// <summary>Transmission's <c>start-added-torrents</c> (transmission-remote's --start-paused sets it false):
    /// whether a torrent-add without <c>paused</c> starts. A front-end preference, so it lives here and not in
    /// the session; it lasts until the daemon stops.</summary>
    public bool StartAddedTorrents
    {
        get => _startAddedTorrents;
        set => _startAddedTorrents = value;
    }
}

/// <summary>The RPC's one <see cref="RemovedTorrentsActor"/>.</summary>
public sealed record RemovedTorrents(IActorRef Actor);

/// <summary>
/// The HTTP side of Transmission's RPC at <c>/transmission/rpc</c>: Host check (421), Basic auth (401), the CSRF
/// handshake (409 with <c>X-Transmission-Session-Id</c>), POST only (405), a bounded body (413), any
/// Content-Type (transmission-remote sends form-urlencoded JSON), then <see cref="TransmissionRpc"/>.
/// </summary>
public static class TransmissionRpcEndpoint
{
    public const string RpcPath = "/transmission/rpc";

    public const string SessionIdHeader = "X-Transmission-Session-Id";

    /// <summary>Registers the RPC's services; <paramref name="stateDirectory"/> is what session-get calls config-dir.</summary>
    /// <param name="downloadDirectory">The session's download folder: with the state folder, where torrent-add may
    /// read a <c>filename</c> unless bta.rpc.torrent-dirs names other folders.</param>
    public static IServiceCollection AddTransmissionRpc(
        this IServiceCollection services, BtaSettings settings, string stateDirectory, string? downloadDirectory = null)
    {
        var sessionId = RpcGuard.NewSessionId();
        IReadOnlyList<string> folders = settings.Rpc.TorrentDirectories.Count > 0
            ? settings.Rpc.TorrentDirectories
            : [.. new[] { downloadDirectory ?? settings.Session.ResolveDownloadDirectory(), stateDirectory }
                .Where(f => f.Length > 0).Select(Path.GetFullPath)];
        var info = new RpcServerInfo(
            VersionString(), sessionId, stateDirectory, settings.Session.LoopbackOnly, settings.Rpc.MaxBodyBytes,
            TimeSpan.FromSeconds(30))
        {
            TorrentFolders = folders,
        };
        // A client of its own: torrent-add URLs are not the engine's tracker traffic. Redirects are followed by the
        // handler, so the loopback guard sits where it connects: a redirect cannot lead it off loopback either.
        var handler = new SocketsHttpHandler { AllowAutoRedirect = true, MaxAutomaticRedirections = 3 };
        if (settings.Session.LoopbackOnly)
        {
            handler.ConnectCallback = (context, token) => AddressGuard.ConnectAsync(context.DnsEndPoint, IPAddress.IsLoopback, token);
        }
        var http = new HttpClient(handler)
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
        services.AddSingleton(new RpcService(new RpcGuard(settings.Rpc, sessionId), info, settings.Rpc, http));
        // Made on the first request (the session is running by then); the container makes a singleton once.
        services.AddSingleton(provider =>
        {
            var system = provider.GetRequiredService<ActorSystem>();
            var session = ActorRegistry.For(system).Get<TorrentSessionActor>();
            return new RemovedTorrents(system.ActorOf(RemovedTorrentsActor.Props(session), "rpc-removed-torrents"));
        });
        return services;
    }

    public static IEndpointConventionBuilder MapTransmissionRpc(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapMethods(RpcPath, ["GET", "POST"], HandleAsync);

    /// <summary>"bta VERSION", from the assembly's informational version (without a source-link suffix).</summary>
    public static string VersionString()
    {
        var version = typeof(TransmissionRpc).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return $"bta {(plus > 0 ? version[..plus] : version)}";
    }

    private static async Task HandleAsync(HttpContext http)
    {
        var service = http.RequestServices.GetRequiredService<RpcService>();
        var request = http.Request;
        var response = http.Response;
        if (!service.Guard.IsHostAllowed(request.Headers.Host.ToString()))
        {
            await TextAsync(response, StatusCodes.Status421MisdirectedRequest,
                "Transmission RPC: the Host header names a host that is not localhost, an IP address or in bta.rpc.host-whitelist.").ConfigureAwait(false);
            return;
        }
        if (!service.Guard.IsAuthorized(request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null))
        {
            response.Headers.WWWAuthenticate = "Basic realm=\"Transmission\"";
            await TextAsync(response, StatusCodes.Status401Unauthorized, "Unauthorized User").ConfigureAwait(false);
            return;
        }
        response.Headers[SessionIdHeader] = service.Guard.SessionId;
        if (!service.Guard.SessionIdMatches(request.Headers[SessionIdHeader].ToString()))
        {
            await TextAsync(response, StatusCodes.Status409Conflict,
                $"Invalid session id: resend the request with the header {SessionIdHeader}: {service.Guard.SessionId}").ConfigureAwait(false);
            return;
        }
        if (!HttpMethods.IsPost(request.Method))
        {
            response.Headers.Allow = "POST";
            await TextAsync(response, StatusCodes.Status405MethodNotAllowed, "The RPC takes POST requests.").ConfigureAwait(false);
            return;
        }
        var limit = service.Settings.MaxBodyBytes;
        byte[]? body = request.ContentLength > limit
            ? null
            : await RpcBody.ReadBoundedAsync(request.Body, limit, http.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            await JsonAsync(response, StatusCodes.Status413PayloadTooLarge,
                TransmissionRpc.Reply(default, null, $"request body larger than {limit} bytes (bta.rpc.max-body-bytes)"),
                http.RequestAborted).ConfigureAwait(false);
            return;
        }
        var session = await http.RequestServices.GetRequiredService<IRequiredActor<TorrentSessionActor>>()
            .GetAsync(http.RequestAborted).ConfigureAwait(false);
        var rpc = new TransmissionRpc(session, service, http.RequestServices.GetRequiredService<RemovedTorrents>().Actor);
        var reply = await rpc.HandleAsync(body, http.RequestAborted).ConfigureAwait(false);
        await JsonAsync(response, StatusCodes.Status200OK, reply, http.RequestAborted).ConfigureAwait(false);
    }

    private static Task TextAsync(HttpResponse response, int status, string text)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(text);
    }

    private static async Task JsonAsync(HttpResponse response, int status, byte[] json, CancellationToken ct)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=UTF-8";
        response.ContentLength = json.Length;
        await response.Body.WriteAsync(json, ct).ConfigureAwait(false);
    }
}
