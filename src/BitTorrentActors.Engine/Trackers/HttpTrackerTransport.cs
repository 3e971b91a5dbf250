using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Trackers;

/// <summary>
/// Announces over HTTP(S) (BEP 3, BEP 23). Every instance shares one <see cref="HttpClient"/> for the whole
/// process, so connections are pooled across torrents and sockets are not exhausted; the per-announce timeout
/// and body cap live in the instance, so torrents with different settings can still share the client.
/// </summary>
public sealed class HttpTrackerTransport : ITrackerTransport
{
    /// <summary>Redirects followed per announce; a tracker that needs more is misconfigured.</summary>
    public const int MaxRedirects = 3;

    private const int ReadChunkBytes = 16 * 1024;

    // The handler only follows http/https redirects and refuses https -> http downgrades on its own, so a
    // redirect to udp:// or file:// comes back as a 3xx that we report rather than follow.
    private static readonly Lazy<HttpClient> SharedClient = new(() =>
    {
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = MaxRedirects,
            // Tracker hosts move; re-resolve now and then instead of pinning a connection forever.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            UseCookies = false,
        };
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("BitTorrentActors", "0.1"));
        return client;
    });

    private readonly TimeSpan _timeout;
    private readonly int _maxBodyBytes;

    /// <param name="timeout">One announce, connect to last body byte.</param>
    /// <param name="maxBodyBytes">Largest (decompressed) body accepted; more is refused, not truncated.</param>
    public HttpTrackerTransport(TimeSpan timeout, int maxBodyBytes = HttpTrackerCodec.DefaultMaxBodyBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBodyBytes);
        _timeout = timeout;
        _maxBodyBytes = maxBodyBytes;
    }

    public static HttpTrackerTransport FromSettings(TrackerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new HttpTrackerTransport(settings.Timeout);
    }

    public bool Supports(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    public async Task<AnnounceResult> AnnounceAsync(string url, AnnounceRequest request, CancellationToken cancellationToken)
    {
        if (!Supports(url))
        {
            return Fail("unsupported tracker scheme");
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            var requestUrl = HttpTrackerCodec.BuildAnnounceUrl(url, request);
            using var response = await SharedClient.Value
                .GetAsync(requestUrl, HttpCompletionOption.ResponseHeadersRead, timeout.Token)
                .ConfigureAwait(false);
            var body = await ReadCappedAsync(response.Content, timeout.Token).ConfigureAwait(false);
            if (body is null)
            {
                return Fail($"response over {_maxBodyBytes} bytes");
            }
            if (response.IsSuccessStatusCode)
            {
                return HttpTrackerCodec.ParseAnnounceResponse(body, _maxBodyBytes);
            }
            // Some trackers refuse with a bencoded "failure reason" and a 4xx status; their words beat the code.
            var parsed = HttpTrackerCodec.ParseAnnounceResponse(body, _maxBodyBytes);
            return parsed.Failure is { FromTracker: true } ? parsed : Fail(DescribeStatus(response));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Fail($"timed out after {_timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
        }
        catch (OperationCanceledException)
        {
            return Fail("announce cancelled");
        }
        catch (HttpRequestException ex)
        {
            return Fail(DescribeRequestError(ex));
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            return Fail($"response could not be read: {ex.Message}");
        }
        catch (Exception ex)
        {
            // The transport must never throw into the actor; an unforeseen error is still just a failed announce.
            return Fail($"{ex.GetType().Name}: {ex.Message}");
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
        var code = (int)response.StatusCode;
        return code is >= 300 and < 400
            ? $"HTTP {code} redirect not followed (only http/https, at most {MaxRedirects})"
            : $"HTTP {code} {response.ReasonPhrase}".TrimEnd();
    }

    private static string DescribeRequestError(HttpRequestException ex) =>
        ex.InnerException is SocketException socket
            ? $"connection failed: {socket.SocketErrorCode}"
            : $"HTTP request failed: {ex.Message}";

    private static AnnounceResult Fail(string reason) => AnnounceResult.Fail(new TrackerFailure(reason));
}
