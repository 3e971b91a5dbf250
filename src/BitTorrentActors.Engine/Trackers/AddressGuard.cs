using System.Net;
using System.Net.Sockets;

namespace BitTorrentActors.Engine.Trackers;

/// <summary>
/// The session's destination guard (<c>bta.session.loopback-only</c>) where connections are made: tracker HTTP
/// connects after name resolution, UDP sends, peer dials. A refused address never sees a packet.
/// </summary>
public static class AddressGuard
{
    public static string Refusal(IPAddress address) =>
        $"refused to contact {address}: outside loopback (bta.session.loopback-only is on)";

    /// <summary>Resolves <paramref name="target"/> and connects to its first allowed address; throws
    /// <see cref="HttpRequestException"/> naming the refusal when none is allowed.</summary>
    public static async ValueTask<Stream> ConnectAsync(DnsEndPoint target, Func<IPAddress, bool> allow, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(allow);
        var addresses = IPAddress.TryParse(target.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(target.Host, token).ConfigureAwait(false);
        var allowed = Array.Find(addresses, a => allow(a));
        if (allowed is null)
        {
            throw new HttpRequestException(addresses.Length == 0 ? $"{target.Host} does not resolve" : Refusal(addresses[0]));
        }
        var socket = new Socket(allowed.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(allowed, target.Port), token).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
