using System.Collections.Frozen;
using BitTorrentActors.Api.Rpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace BitTorrentActors.Api.Web;

/// <summary>
/// bta's own web page: one HTML, one CSS and one JS file embedded in this assembly, served at <c>/</c> (and
/// <c>/web/...</c>) behind the RPC's own Host check (421) and Basic auth (401), so the page and the RPC it talks
/// to share one set of rules. No CSRF token here: a GET of a static file changes nothing, and every request that
/// does goes to the RPC, which asks for <c>X-Transmission-Session-Id</c>. Each answer carries an ETag (304 on a
/// match), gzip when the browser takes it (precompressed at start) and a Content-Security-Policy that allows only
/// this origin's own script, style and RPC: a name that slipped into markup still could not run script.
/// </summary>
public static class WebPageEndpoint
{
    public const string IndexPath = "/";

    public const string WebPath = "/web";

    /// <summary>Nothing but this origin's files and RPC; no inline script or style, no frames, no forms elsewhere.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>The page's files by request path (the index under both <c>/</c> and <c>/web/</c>).</summary>
    public static FrozenDictionary<string, WebAsset> LoadAssets()
    {
        var index = WebAsset.Load("index.html", "/web/index.html", "text/html; charset=utf-8");
        var css = WebAsset.Load("bta.css", "/web/bta.css", "text/css; charset=utf-8");
        var js = WebAsset.Load("bta.js", "/web/bta.js", "text/javascript; charset=utf-8");
        return new Dictionary<string, WebAsset>(StringComparer.Ordinal)
        {
            [IndexPath] = index,
            // Routing matches "/web" and "/web/" alike; the page links its files by absolute path, so both work.
            [WebPath] = index,
            [index.Path] = index,
            [css.Path] = css,
            [js.Path] = js,
        }.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public static IEndpointConventionBuilder MapWebPage(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // One route per file (no catch-all): other front-ends' paths, such as /transmission/web/, stay theirs.
        var group = endpoints.MapGroup("");
        foreach (var (path, asset) in LoadAssets())
        {
            group.MapMethods(path, ["GET", "HEAD"], http => ServeAsync(http, asset));
        }
        return group;
    }

    private static async Task ServeAsync(HttpContext http, WebAsset asset)
    {
        var request = http.Request;
        var response = http.Response;
        var guard = http.RequestServices.GetRequiredService<RpcService>().Guard;
        if (!guard.IsHostAllowed(request.Headers.Host.ToString()))
        {
            await TextAsync(response, StatusCodes.Status421MisdirectedRequest,
                "bta: the Host header names a host that is not localhost, an IP address or in bta.rpc.host-whitelist.").ConfigureAwait(false);
            return;
        }
        if (!guard.IsAuthorized(request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null))
        {
            response.Headers.WWWAuthenticate = "Basic realm=\"Transmission\"";
            await TextAsync(response, StatusCodes.Status401Unauthorized, "Unauthorized User").ConfigureAwait(false);
            return;
        }
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        // Revalidate every time (a 304 is a few bytes): an upgraded daemon's page is never served stale.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        headers.Vary = HeaderNames.AcceptEncoding;
        if (request.Headers.IfNoneMatch.Any(tag => tag is not null && (tag == asset.ETag || tag == "*")))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        var gzip = AcceptsGzip(request.Headers.AcceptEncoding);
        var body = gzip ? asset.Gzipped : asset.Bytes;
        if (gzip)
        {
            headers.ContentEncoding = "gzip";
        }
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = asset.ContentType;
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(request.Method))
        {
            await response.Body.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>True when Accept-Encoding names gzip without <c>q=0</c>.</summary>
    internal static bool AcceptsGzip(Microsoft.Extensions.Primitives.StringValues acceptEncoding)
    {
        foreach (var value in acceptEncoding)
        {
            foreach (var part in (value ?? "").Split(','))
            {
                var pieces = part.Split(';', StringSplitOptions.TrimEntries);
                if (!pieces[0].Equals("gzip", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                var refused = pieces.Skip(1).Any(p => p.Replace(" ", "", StringComparison.Ordinal) is "q=0" or "q=0.0" or "q=0.00" or "q=0.000");
                return !refused;
            }
        }
        return false;
    }

    private static Task TextAsync(HttpResponse response, int status, string text)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(text);
    }
}
