using BitTorrentActors.Api.Rpc;
using BitTorrentActors.Engine.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;

namespace BitTorrentActors.Api.WebRoot;

/// <summary>What the web-root endpoint serves from: the folder, or none (then it answers 404 saying how to name one).</summary>
public sealed record WebRootService(WebRootFolder? Folder);

/// <summary>
/// Another front-end's static files at <c>/transmission/web/</c>, where transmission-daemon serves its web client
/// (so Transmission's web UI finds its RPC at <c>../rpc</c>): GET and HEAD only, behind the RPC's Host check and
/// Basic auth (no CSRF token: a page load carries none, as with transmission-daemon). <c>/transmission</c>,
/// <c>/transmission/</c> and <c>/transmission/web</c> redirect to <c>/transmission/web/</c>; <c>/</c> is left to
/// bta's own page.
/// </summary>
public static class WebRootEndpoint
{
    public const string WebPath = "/transmission/web/";

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    /// <summary>Registers the folder from <c>bta.rpc.web-root</c> or TRANSMISSION_WEB_HOME (see
    /// <see cref="WebRootFolder.Resolve"/>); <paramref name="environment"/> defaults to the process's variable.</summary>
    public static IServiceCollection AddTransmissionWebRoot(this IServiceCollection services, BtaSettings settings, string? environment = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var folder = WebRootFolder.Resolve(settings.Rpc.WebRoot, environment ?? Environment.GetEnvironmentVariable(WebRootFolder.EnvironmentVariable));
        services.AddSingleton(new WebRootService(folder));
        return services;
    }

    public static IEndpointRouteBuilder MapTransmissionWebRoot(this IEndpointRouteBuilder endpoints)
    {
        string[] methods = ["GET", "HEAD"];
        // Routing matches with or without a trailing slash: "/transmission" is also "/transmission/", and the
        // catch-all also takes "/transmission/web", which ServeAsync redirects (relative links need the slash).
        endpoints.MapMethods("/transmission", methods, RedirectAsync);
        endpoints.MapMethods(WebPath + "{**path}", methods, ServeAsync);
        return endpoints;
    }

    private static Task RedirectAsync(HttpContext http)
    {
        if (!Admitted(http, out var refusal))
        {
            return refusal;
        }
        http.Response.StatusCode = StatusCodes.Status301MovedPermanently;
        http.Response.Headers.Location = WebPath;
        return Task.CompletedTask;
    }

    private static async Task ServeAsync(HttpContext http)
    {
        if (!Admitted(http, out var refusal))
        {
            await refusal.ConfigureAwait(false);
            return;
        }
        var response = http.Response;
        if (http.Request.Path.Value is not { } path || !path.StartsWith(WebPath, StringComparison.Ordinal))
        {
            await RedirectAsync(http).ConfigureAwait(false);
            return;
        }
        if (http.RequestServices.GetRequiredService<WebRootService>().Folder is not { } folder)
        {
            await TextAsync(response, StatusCodes.Status404NotFound,
                $"bta serves no web files: set bta.rpc.web-root (or {WebRootFolder.EnvironmentVariable}) to the folder of a front-end's index.html, e.g. /usr/share/transmission/web").ConfigureAwait(false);
            return;
        }
        // Request.Path is already percent-decoded (%2e%2e arrives as ".."), except %2F, which stays "%2F" and so
        // names no file; the folder's rule refuses the rest.
        if (folder.Find(path[WebPath.Length..]) is not { } file)
        {
            await TextAsync(response, StatusCodes.Status404NotFound, "Not Found").ConfigureAwait(false);
            return;
        }
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentTypes.TryGetContentType(file, out var type) ? type : "application/octet-stream";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.CacheControl = "no-cache";
        var length = new FileInfo(file).Length;
        response.ContentLength = length;
        if (HttpMethods.IsHead(http.Request.Method))
        {
            return;
        }
        await response.SendFileAsync(file, http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The RPC's Host check (421) and Basic auth (401).</summary>
    private static bool Admitted(HttpContext http, out Task refusal)
    {
        var guard = http.RequestServices.GetRequiredService<RpcService>().Guard;
        var request = http.Request;
        if (!guard.IsHostAllowed(request.Headers.Host.ToString()))
        {
            refusal = TextAsync(http.Response, StatusCodes.Status421MisdirectedRequest,
                "The Host header names a host that is not localhost, an IP address or in bta.rpc.host-whitelist.");
            return false;
        }
        if (!guard.IsAuthorized(request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null))
        {
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"Transmission\"";
            refusal = TextAsync(http.Response, StatusCodes.Status401Unauthorized, "Unauthorized User");
            return false;
        }
        refusal = Task.CompletedTask;
        return true;
    }

    private static Task TextAsync(HttpResponse response, int status, string text)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(text);
    }
}
