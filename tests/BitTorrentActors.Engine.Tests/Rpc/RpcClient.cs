using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>A minimal Transmission RPC client for tests: the 409 handshake, then one JSON request per call.</summary>
public sealed class RpcClient(string url, string? user = null, string? password = null) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private string _sessionId = "";

    public string Url => url;

    /// <summary>Sends <paramref name="method"/> with <paramref name="arguments"/> (a JSON object, or null) and
    /// returns the reply's root (with "result" and "arguments").</summary>
    public async Task<JsonElement> CallAsync(string method, string? arguments = null)
    {
        var body = arguments is null ? $$"""{"method":"{{method}}","tag":5}""" : $$"""{"method":"{{method}}","arguments":{{arguments}},"tag":5}""";
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var response = await SendAsync(body).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                _sessionId = response.Headers.GetValues("X-Transmission-Session-Id").First();
                continue;
            }
            var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"HTTP {(int)response.StatusCode}: {text}");
            using var json = JsonDocument.Parse(text);
            return json.RootElement.Clone();
        }
        throw new InvalidOperationException("the RPC kept answering 409");
    }

    /// <summary>Calls and asserts result "success"; returns the arguments.</summary>
    public async Task<JsonElement> SucceedAsync(string method, string? arguments = null)
    {
        var reply = await CallAsync(method, arguments).ConfigureAwait(false);
        Assert.True(reply.GetProperty("result").GetString() == "success", $"{method}: {reply}");
        return reply.GetProperty("arguments");
    }

    /// <summary>One raw POST with the current session id (none before the first handshake).</summary>
    /// <param name="expectContinue">Send <c>Expect: 100-continue</c> (as curl, so transmission-remote, does for large
    /// bodies): a refused body is then never sent.</param>
    public async Task<HttpResponseMessage> SendAsync(
        string body, string contentType = "application/json", string? host = null, string? sessionId = null, bool expectContinue = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(body, Encoding.UTF8, contentType),
        };
        request.Headers.Add("X-Transmission-Session-Id", sessionId ?? _sessionId);
        request.Headers.ExpectContinue = expectContinue;
        if (host is not null)
        {
            request.Headers.Host = host;
        }
        if (user is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }
        return await _http.SendAsync(request).ConfigureAwait(false);
    }

    /// <summary>The session id, learnt from a first 409.</summary>
    public async Task<string> HandshakeAsync()
    {
        using var response = await SendAsync("{}", sessionId: "").ConfigureAwait(false);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        _sessionId = response.Headers.GetValues("X-Transmission-Session-Id").Single();
        return _sessionId;
    }

    public void Dispose() => _http.Dispose();
}
