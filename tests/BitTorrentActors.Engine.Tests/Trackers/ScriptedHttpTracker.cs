using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using BitTorrentActors.Protocol.Bencode;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Tests.Trackers;

/// <summary>What the scripted tracker saw: the request target, its decoded query and the raw header block.</summary>
internal sealed record SeenRequest(string Target, IReadOnlyDictionary<string, byte[]> Query, string Headers, DateTime At)
{
    public string? Text(string key) => Query.TryGetValue(key, out var v) ? Encoding.ASCII.GetString(v) : null;

    public long? Number(string key) => Text(key) is { } t ? long.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : null;
}

/// <summary>How the scripted tracker answers one request; <see cref="Hang"/> accepts and never answers;
/// <see cref="StreamBytes"/> sends that many zero bytes after the body without a Content-Length (the body ends when the
/// connection closes), so a test can see how much of a huge body the client read.</summary>
internal sealed record ScriptedReply(int Status, byte[] Body, bool Hang = false, bool Gzip = false, string? Location = null,
    long StreamBytes = 0)
{
    public static ScriptedReply Peers(IEnumerable<IPEndPoint> peers, int interval = 1800, string? warning = null,
        int complete = 3, int incomplete = 4)
    {
        var entries = new List<(string, BValue)>
        {
            ("complete", new BInteger(complete)),
            ("incomplete", new BInteger(incomplete)),
            ("interval", new BInteger(interval)),
            ("peers", new BString(CompactPeers.EncodeIPv4(peers))),
        };
        if (warning is not null)
        {
            entries.Add(("warning message", new BString(warning)));
        }
        return new ScriptedReply(200, BencodeEncoder.Encode(BDictionary.From(entries.ToArray())));
    }

    public static ScriptedReply Failure(string reason, int status = 200) =>
        new(status, BencodeEncoder.Encode(BDictionary.From(("failure reason", new BString(reason)))));

    public static ScriptedReply Html(int status = 200) =>
        new(status, "<html><body>Service unavailable</body></html>"u8.ToArray());

    public static ScriptedReply Hanging() => new(0, [], Hang: true);

    public static ScriptedReply Endless(long bytes) => new(200, [], StreamBytes: bytes);
}

/// <summary>
/// A minimal HTTP/1.1 tracker on 127.0.0.1 (port 0) whose every answer the test scripts: one request per
/// connection, "Connection: close", requests queued for the test to inspect.
/// </summary>
internal sealed class ScriptedHttpTracker : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<SeenRequest> _requests = Channel.CreateUnbounded<SeenRequest>();
    private readonly Task _acceptLoop;
    private long _streamed;

    public ScriptedHttpTracker(Func<SeenRequest, ScriptedReply> respond)
    {
        Respond = respond;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public Func<SeenRequest, ScriptedReply> Respond { get; set; }

    public int Port { get; }

    public string AnnounceUrl => $"http://127.0.0.1:{Port}/announce";

    /// <summary>Body bytes the client accepted from <see cref="ScriptedReply.StreamBytes"/> replies, all connections.</summary>
    public long StreamedBytes => Interlocked.Read(ref _streamed);

    public async Task<SeenRequest> NextRequestAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            return await _requests.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("the tracker saw no request in time");
        }
    }

    /// <summary>True when no request arrives within <paramref name="window"/>.</summary>
    public async Task<bool> NoRequestWithinAsync(TimeSpan window)
    {
        using var cts = new CancellationTokenSource(window);
        try
        {
            await _requests.Reader.WaitToReadAsync(cts.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Cancel before Stop, so the loop knows any exception from here on is the stop.
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                // Disposed. TcpListener.Stop racing an accept throws OperationCanceledException, SocketException,
                // ObjectDisposedException, InvalidOperationException ("not listening") or NullReferenceException
                // (Stop nulls the socket between AcceptSocketAsync's check and its use): all mean "stopped".
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = await ReadHeadAsync(stream);
                var lines = head.Split("\r\n");
                var target = lines[0].Split(' ')[1];
                var request = new SeenRequest(target, ParseQuery(target), head, DateTime.UtcNow);
                var reply = Respond(request);
                await _requests.Writer.WriteAsync(request);
                if (reply.Hang)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }
                await WriteReplyAsync(stream, reply);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client gave up (timeout, cancellation) or the test ended.
            }
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new byte[16 * 1024];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length));
            if (read == 0)
            {
                throw new IOException("closed before the request head ended");
            }
            length += read;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                return text[..text.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
            }
        }
        throw new IOException("request head too large");
    }

    private async Task WriteReplyAsync(NetworkStream stream, ScriptedReply reply)
    {
        if (reply.StreamBytes > 0)
        {
            await StreamReplyAsync(stream, reply);
            return;
        }
        var body = reply.Body;
        var extra = new StringBuilder();
        if (reply.Gzip)
        {
            using var packed = new MemoryStream();
            using (var gzip = new GZipStream(packed, CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(body);
            }
            body = packed.ToArray();
            extra.Append("Content-Encoding: gzip\r\n");
        }
        if (reply.Location is not null)
        {
            extra.Append("Location: ").Append(reply.Location).Append("\r\n");
        }
        var head = $"HTTP/1.1 {reply.Status} Scripted\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n"
            + $"{extra}Connection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body);
        await stream.FlushAsync();
    }

    private async Task StreamReplyAsync(NetworkStream stream, ScriptedReply reply)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {reply.Status} Scripted\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"));
        await stream.WriteAsync(reply.Body);
        var chunk = new byte[64 * 1024];
        for (var left = reply.StreamBytes; left > 0; left -= chunk.Length)
        {
            var size = (int)Math.Min(chunk.Length, left);
            // Throws once the client closes: how far it got is what the test reads.
            await stream.WriteAsync(chunk.AsMemory(0, size), _stop.Token);
            Interlocked.Add(ref _streamed, size);
        }
    }

    private static Dictionary<string, byte[]> ParseQuery(string target)
    {
        var query = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var mark = target.IndexOf('?');
        if (mark < 0)
        {
            return query;
        }
        foreach (var pair in target[(mark + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            query[key] = eq < 0 ? [] : PercentDecode(pair[(eq + 1)..]);
        }
        return query;
    }

    private static byte[] PercentDecode(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '%' && i + 2 < text.Length)
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.Add((byte)text[i]);
            }
        }
        return bytes.ToArray();
    }
}
