using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Text;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Trackers;

/// <summary>
/// Announces over HTTP(S) (BEP 3, BEP 23). The session hands every torrent its one <see cref="HttpClient"/>
/// (<see cref="CreateClient"/>), so connections are pooled across torrents and sockets are not exhausted; the
/// per-announce timeout and body cap live in the instance, so torrents with different settings still share it.
/// </summary>
public sealed class HttpTrackerTransport : ITrackerTransport, ITrackerScraper
{
    /// <summary>Redirects followed per announce; a tracker that needs more is misconfigured.</summary>
    public const int MaxRedirects = 3;

    private const int ReadChunkBytes = 16 * 1024;

    private readonly HttpClient _client;
    private readonly TimeSpan _timeout;
    private readonly int _maxBodyBytes;

    /// <param name="timeout">One announce, connect to last body byte.</param>
    /// <param name="maxBodyBytes">Largest (decompressed) body accepted; more is refused, not truncated.</param>
    /// <param name="client">The session's client (<see cref="CreateClient"/>); null: one of its own.</param>
    public HttpTrackerTransport(TimeSpan timeout, int maxBodyBytes = HttpTrackerCodec.DefaultMaxBodyBytes, HttpClient? client = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBodyBytes);
        _timeout = timeout;
        _maxBodyBytes = maxBodyBytes;
        _client = client ?? CreateClient();
    }

    /// <summary>A client set up for trackers: redirects by hand, decompression, no cookies.</summary>
    /// <param name="allow">Addresses it may connect to (the session's loopback-only guard, checked after name
    /// resolution, so a host name that resolves elsewhere is refused too); null: any.</param>
    public static HttpClient CreateClient(Func<IPAddress, bool>? allow = null)
    {
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            // Redirects are followed by hand (see SendAsync): the handler's own following would also try a
            // Location such as udp://host:port over TCP.
            AllowAutoRedirect = false,
            // Tracker hosts move; re-resolve now and then instead of pinning a connection forever.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            UseCookies = false,
        };
        if (allow is not null)
        {
            handler.ConnectCallback = (context, token) => AddressGuard.ConnectAsync(context.DnsEndPoint, allow, token);
        }
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("BitTorrentActors", "0.1"));
        return client;
    }

    public static HttpTrackerTransport FromSettings(TrackerSettings settings, HttpClient? client = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new HttpTrackerTransport(settings.Timeout, client: client);
    }

    public bool Supports(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    public async Task<AnnounceResult> AnnounceAsync(string url, AnnounceRequest request, CancellationToken cancellationToken)
    {
        if (!Supports(url))
        {
            return Fail("unsupported tracker scheme");
        }
        var fetched = await FetchAsync(new Uri(HttpTrackerCodec.BuildAnnounceUrl(url, request)), cancellationToken)
            .ConfigureAwait(false);
        if (fetched.Body is not { } body)
        {
            return AnnounceResult.Fail(fetched.Failure!);
        }
        var parsed = HttpTrackerCodec.ParseAnnounceResponse(body, _maxBodyBytes);
        // Some trackers refuse with a bencoded "failure reason" and a 4xx status; their words beat the code.
        return Clean(fetched.Status is null || parsed.Failure is { FromTracker: true } ? parsed : Fail(fetched.Status));
    }

    /// <summary>BEP 48: the scrape URL derived from the announce URL, one <c>info_hash</c> per torrent.</summary>
    public async Task<ScrapeResult> ScrapeAsync(
        string announceUrl, IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        if (!Supports(announceUrl))
        {
            return ScrapeResult.Fail(new TrackerFailure("unsupported tracker scheme"));
        }
        if (!HttpTrackerCodec.TryGetScrapeUrl(announceUrl, out var scrapeUrl))
        {
            return ScrapeResult.Fail(new TrackerFailure("no scrape URL (the path does not end in /announce...)"));
        }
        var fetched = await FetchAsync(new Uri(HttpTrackerCodec.BuildScrapeUrl(scrapeUrl, infoHashes)), cancellationToken)
            .ConfigureAwait(false);
        if (fetched.Body is not { } body)
        {
            return ScrapeResult.Fail(fetched.Failure!);
        }
        var parsed = HttpTrackerCodec.ParseScrapeResponse(body, _maxBodyBytes);
        var result = fetched.Status is null || parsed.Failure is { FromTracker: true }
            ? parsed
            : ScrapeResult.Fail(new TrackerFailure(fetched.Status));
        return result.Failure is { } failure ? ScrapeResult.Fail(Clean(failure)) : result;
    }

    /// <summary>GET within the timeout: the body (with <see cref="Fetched.Status"/> set when the HTTP status was not
    /// a success), or why there is none. Never throws for network trouble.</summary>
    private async Task<Fetched> FetchAsync(Uri target, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            var (response, refusal) = await SendAsync(target, timeout.Token).ConfigureAwait(false);
            if (response is null)
            {
                return Fetched.Fail(refusal!);
            }
            using var owned = response;
            var body = await ReadCappedAsync(response.Content, timeout.Token).ConfigureAwait(false);
            if (body is null)
            {
                return Fetched.Fail($"response over {_maxBodyBytes} bytes");
            }
            return new Fetched(body, response.IsSuccessStatusCode ? null : DescribeStatus(response), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Fetched.Fail($"timed out after {_timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
        }
        catch (OperationCanceledException)
        {
            return Fetched.Fail("cancelled");
        }
        catch (HttpRequestException ex)
        {
            return Fetched.Fail(DescribeRequestError(ex));
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            return Fetched.Fail($"response could not be read: {ex.Message}");
        }
        catch (Exception ex)
        {
            // The transport must never throw into the actor; an unforeseen error is still just a failed announce.
            return Fetched.Fail($"{ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>GETs the URL, following at most <see cref="MaxRedirects"/> redirects, only to http or https and
    /// never from https down to http. Returns the final response, or null and why a redirect was refused.</summary>
    private async Task<(HttpResponseMessage? Response, string? Refusal)> SendAsync(Uri target, CancellationToken token)
    {
        for (var hop = 0; ; hop++)
        {
            var response = await _client.GetAsync(target, HttpCompletionOption.ResponseHeadersRead, token)
                .ConfigureAwait(false);
            var code = (int)response.StatusCode;
            if (code is < 300 or >= 400 || response.Headers.Location is not { } location)
            {
                return (response, null);
            }
            response.Dispose();
            var next = location.IsAbsoluteUri ? location : new Uri(target, location);
            if (hop >= MaxRedirects)
            {
                return (null, $"HTTP {code}: more than {MaxRedirects} redirects");
            }
            if ((next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
                || (target.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp))
            {
                return (null, $"HTTP {code} redirect to {next.Scheme}:// not followed (http/https only, no downgrade)");
            }
            target = next;
        }
    }

    /// <summary>Reads at most the cap; returns null when the body is larger, without reading the rest.</summary>
    private async Task<byte[]?> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is { } declared && declared > _maxBodyBytes)
        {
            return null;
        }
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var body = new MemoryStream();
            var chunk = ArrayPool<byte>.Shared.Rent(ReadChunkBytes);
            try
            {
                int read;
                while ((read = await stream.ReadAsync(chunk.AsMemory(0, ReadChunkBytes), cancellationToken)
                           .ConfigureAwait(false)) > 0)
                {
                    if (body.Length + read > _maxBodyBytes)
                    {
                        return null;
                    }
                    body.Write(chunk, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
            return body.ToArray();
        }
    }

    private static string DescribeStatus(HttpResponseMessage response)
    {
        return $"HTTP {(int)response.StatusCode} {RemoteText.Sanitize(response.ReasonPhrase)}".TrimEnd();
    }

    /// <summary>The tracker's own words (failure reason, warning) escaped and capped before anything logs or prints
    /// them: they could forge log lines, drive the terminal, or be megabytes long (issue 17 item 10).</summary>
    private static AnnounceResult Clean(AnnounceResult result) => result switch
    {
        { Failure: { } failure } => AnnounceResult.Fail(Clean(failure)),
        { Response: { WarningMessage: { } warning } response } =>
            AnnounceResult.Ok(response with { WarningMessage = RemoteText.Sanitize(warning) }),
        _ => result,
    };

    private static TrackerFailure Clean(TrackerFailure failure) => failure with { Reason = RemoteText.Sanitize(failure.Reason) };

    private static string DescribeRequestError(HttpRequestException ex) =>
        ex.InnerException is SocketException socket
            ? $"connection failed: {socket.SocketErrorCode}"
            : $"HTTP request failed: {ex.Message}";

    private static AnnounceResult Fail(string reason) => AnnounceResult.Fail(new TrackerFailure(reason));

    private sealed record Fetched(byte[]? Body, string? Status, TrackerFailure? Failure)
    {
        public static Fetched Fail(string reason) => new(null, null, new TrackerFailure(reason));
    }
}
