using System.Net;
using System.Net.Sockets;
using BitTorrentActors.Engine.Tests.Hostile;
using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Engine.Tests.Trackers;

namespace BitTorrentActors.Engine.Tests.TestSupport;

/// <summary>
/// Issue 17 item 13: the scripted servers end cleanly when disposed in the middle of accepting. TcpListener.Stop
/// racing an accept throws NullReferenceException or InvalidOperationException from AcceptSocketAsync, which made
/// ScriptedHttpTracker's dispose (and so a test) fail at random. Each round disposes a server while a client keeps
/// connecting to it, so accepts are in flight at every moment; the server's loop must end without a fault.
/// </summary>
public sealed class ScriptedServerDisposeTests : IDisposable
{
    private const int Rounds = 200;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_http_tracker_disposes_cleanly_while_accepting()
    {
        for (var round = 0; round < Rounds; round++)
        {
            var tracker = new ScriptedHttpTracker(_ => ScriptedReply.Failure("busy"));
            using var hammer = new CancellationTokenSource();
            var connecting = HammerAsync(tracker.Port, hammer.Token);
            await Task.Delay(round % 3);
            await tracker.DisposeAsync().AsTask().WaitAsync(Bound);
            await hammer.CancelAsync();
            await connecting;
        }
    }

    [Fact]
    public async Task The_hostile_scripted_peer_disposes_cleanly_while_accepting()
    {
        var content = SwarmContent.SingleFile("dispose", 16384, seed: 3, pieceLength: 16384);
        var torrent = SwarmTorrent.Build(content, _dir.Path, "http://127.0.0.1:1/announce");
        for (var round = 0; round < Rounds; round++)
        {
            var peer = new ScriptedPeer(torrent, HostileBehaviour.Honest, TimeSpan.FromSeconds(30));
            using var hammer = new CancellationTokenSource();
            var connecting = HammerAsync(peer.EndPoint.Port, hammer.Token);
            await Task.Delay(round % 3);
            peer.Dispose();
            await hammer.CancelAsync();
            await connecting;
            await peer.AcceptLoop.WaitAsync(Bound); // throws what the loop threw
        }
    }

    [Fact]
    public async Task The_udp_tracker_disposes_cleanly_while_receiving()
    {
        using var sender = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        for (var round = 0; round < Rounds; round++)
        {
            var tracker = new ScriptedUdpTracker();
            await sender.SendAsync(new byte[16], new IPEndPoint(IPAddress.Loopback, tracker.Port));
            await Task.Delay(round % 3);
            tracker.Dispose();
            await tracker.ReceiveLoop.WaitAsync(Bound);
        }
    }

    private static async Task HammerAsync(int port, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port, stop);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                // Refused once the listener stopped, or the round ended.
                await Task.Yield();
            }
        }
    }
}
