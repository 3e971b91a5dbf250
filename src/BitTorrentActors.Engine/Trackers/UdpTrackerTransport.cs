using System.Globalization;
using System.Net;
using System.Net.Sockets;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Text;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Trackers;

/// <summary>
/// Announces and scrapes over UDP (BEP 15) through the session's <see cref="UdpTrackerSocket"/>: connect (or reuse a
/// connection id younger than a minute), then the request with that id. Each request is retransmitted on the
/// BEP 15 schedule from the configured base; an error packet (action 3) becomes the tracker's own failure message.
/// Peers are IPv4 or IPv6 by the address family the tracker was reached over, as BEP 15 specifies.
/// </summary>
public sealed class UdpTrackerTransport : ITrackerTransport, ITrackerScraper
{
    public const string Scheme = "udp";

    private readonly UdpTrackerSocket _socket;
    private readonly TimeSpan _baseTimeout;
    private readonly int _attempts;

    /// <param name="baseTimeout">The wait after the first send (BEP 15: 15 s); it doubles after every send.</param>
    /// <param name="attempts">Sends of one request before it counts as unanswered.</param>
    /// <param name="socket">The session's UDP service (or a command's or test's own).</param>
    public UdpTrackerTransport(TimeSpan baseTimeout, int attempts, UdpTrackerSocket socket)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(baseTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(attempts);
        _baseTimeout = baseTimeout;
        _attempts = attempts;
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
    }

    public static UdpTrackerTransport FromSettings(TrackerSettings settings, UdpTrackerSocket socket)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new UdpTrackerTransport(settings.UdpBaseTimeout, settings.UdpAttempts, socket);
    }

    public bool Supports(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && string.Equals(uri.Scheme, Scheme, StringComparison.Ordinal);

    public async Task<AnnounceResult> AnnounceAsync(string url, AnnounceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var outcome = await ExchangeAsync(url, UdpTrackerAction.Announce,
            (connectionId, tid) =>
            {
                var bytes = new byte[UdpTrackerPackets.AnnounceRequestLength];
                UdpTrackerPackets.WriteAnnounceRequest(bytes, connectionId, tid, request);
                return bytes;
            }, cancellationToken).ConfigureAwait(false);
        return outcome.Reply?.Announce is { } response
            ? AnnounceResult.Ok(response)
            : AnnounceResult.Fail(outcome.Failure ?? new TrackerFailure("announce reply without peers"));
    }

    public async Task<ScrapeResult> ScrapeAsync(
        string announceUrl, IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        if (infoHashes.Count == 0)
        {
            return ScrapeResult.Fail(new TrackerFailure("a UDP scrape names at least one torrent"));
        }
        var files = new Dictionary<InfoHash, ScrapeEntry>();
        // One datagram carries at most 74 hashes (BEP 15); more are asked for in several requests.
        foreach (var chunk in infoHashes.Chunk(UdpTrackerPackets.MaxScrapeHashes))
        {
            var outcome = await ExchangeAsync(announceUrl, UdpTrackerAction.Scrape,
                (connectionId, tid) =>
                {
                    var bytes = new byte[UdpTrackerPackets.ScrapeRequestLength(chunk.Length)];
                    UdpTrackerPackets.WriteScrapeRequest(bytes, connectionId, tid, chunk);
                    return bytes;
                }, cancellationToken).ConfigureAwait(false);
            if (outcome.Reply is not { } reply)
            {
                return ScrapeResult.Fail(outcome.Failure!);
            }
            if (reply.Scrape.Count < chunk.Length)
            {
                return ScrapeResult.Fail(new TrackerFailure(
                    $"scrape reply counts {reply.Scrape.Count} of {chunk.Length} torrents"));
            }
            // BEP 15 replies carry no hashes: the counts come back in the order the hashes were asked.
            for (var i = 0; i < chunk.Length; i++)
            {
                var counts = reply.Scrape[i];
                files[chunk[i]] = new ScrapeEntry(chunk[i], counts.Complete, counts.Incomplete, counts.Downloaded);
            }
        }
        return ScrapeResult.Ok(files);
    }

    /// <summary>Connect if needed, then one request; every problem becomes the returned failure.</summary>
    private async Task<Outcome> ExchangeAsync(
        string url, UdpTrackerAction action, Func<long, int, byte[]> write, CancellationToken cancellationToken)
    {
        try
        {
            if (await ResolveAsync(url, cancellationToken).ConfigureAwait(false) is not { } tracker)
            {
                return Outcome.Fail(new TrackerFailure("not a udp://host:port URL"));
            }
            if (!_socket.Allows(tracker.Address))
            {
                return Outcome.Fail(new TrackerFailure(AddressGuard.Refusal(tracker.Address)));
            }
            if (!_socket.TryGetConnectionId(tracker, out var connectionId))
            {
                var connect = await RequestAsync(tracker, UdpTrackerAction.Connect, tid =>
                {
                    var bytes = new byte[UdpTrackerPackets.ConnectRequestLength];
                    UdpTrackerPackets.WriteConnectRequest(bytes, tid);
                    return bytes;
                }, cancellationToken).ConfigureAwait(false);
                if (connect.Reply is not { } accepted)
                {
                    return connect;
                }
                connectionId = accepted.ConnectionId;
                _socket.RememberConnectionId(tracker, connectionId, DateTime.UtcNow);
            }
            var id = connectionId;
            return await RequestAsync(tracker, action, tid => write(id, tid), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return Outcome.Fail(new TrackerFailure("cancelled"));
        }
        catch (SocketException ex)
        {
            return Outcome.Fail(new TrackerFailure($"UDP failed: {ex.SocketErrorCode}"));
        }
        catch (Exception ex)
        {
            // Never throw into the caller: an unforeseen error is still just a failed request.
            return Outcome.Fail(new TrackerFailure($"{ex.GetType().Name}: {ex.Message}"));
        }
    }

    private async Task<Outcome> RequestAsync(
        IPEndPoint tracker, UdpTrackerAction expected, Func<int, byte[]> write, CancellationToken cancellationToken)
    {
        var datagram = await _socket.RequestAsync(tracker, write, _baseTimeout, _attempts, cancellationToken)
            .ConfigureAwait(false);
        if (datagram is null)
        {
            var waited = Enumerable.Range(0, _attempts)
                .Aggregate(TimeSpan.Zero, (sum, n) => sum + UdpTrackerPackets.RetransmitTimeout(n, _baseTimeout));
            return Outcome.Fail(new TrackerFailure(string.Create(CultureInfo.InvariantCulture,
                $"no {expected.ToString().ToLowerInvariant()} reply after {_attempts} sends ({waited.TotalSeconds:0.###} s)")));
        }
        UdpTrackerPackets.TryParseResponse(datagram, tracker.AddressFamily == AddressFamily.InterNetworkV6, out var reply);
        if (reply.Action == UdpTrackerAction.Error)
        {
            // The id may be what the tracker refused; the next request connects again.
            _socket.ForgetConnectionId(tracker);
            return Outcome.Fail(new TrackerFailure(
                // The tracker's own words: escaped and capped before anything logs or prints them.
                string.IsNullOrWhiteSpace(reply.ErrorMessage) ? "tracker error" : RemoteText.Sanitize(reply.ErrorMessage.Trim()),
                FromTracker: true));
        }
        if (!reply.IsValid)
        {
            return Outcome.Fail(new TrackerFailure($"invalid {expected.ToString().ToLowerInvariant()} reply: {reply.InvalidReason}"));
        }
        return reply.Action == expected
            ? new Outcome(reply, null)
            : Outcome.Fail(new TrackerFailure($"reply with action {reply.Action} to a {expected} request"));
    }

    /// <summary>The tracker's address: an IP literal as is, a hostname resolved (IPv4 preferred). Null when the URL
    /// has no host or port.</summary>
    private static async Task<IPEndPoint?> ResolveAsync(string url, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Port is <= 0 or > ushort.MaxValue
            || string.IsNullOrEmpty(uri.DnsSafeHost))
        {
            return null;
        }
        if (IPAddress.TryParse(uri.DnsSafeHost, out var literal))
        {
            return new IPEndPoint(literal, uri.Port);
        }
        var addresses = await Dns.GetHostAddressesAsync(uri.DnsSafeHost, cancellationToken).ConfigureAwait(false);
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6)
            ?? throw new SocketException((int)SocketError.HostNotFound);
        return new IPEndPoint(chosen, uri.Port);
    }

    private sealed record Outcome(UdpTrackerResponse? Reply, TrackerFailure? Failure)
    {
        public static Outcome Fail(TrackerFailure failure) => new(null, failure);
    }
}
