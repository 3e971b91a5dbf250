using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Tests.Trackers;

/// <summary>One datagram the scripted UDP tracker received; <see cref="Index"/> counts from 0 per action.</summary>
internal sealed record UdpSeen(UdpTrackerAction Action, int TransactionId, long ConnectionId, byte[] Datagram, int Index,
    DateTime At)
{
    public int Event => BinaryPrimitives.ReadInt32BigEndian(Datagram.AsSpan(80));

    public long Left => BinaryPrimitives.ReadInt64BigEndian(Datagram.AsSpan(64));

    public int Port => BinaryPrimitives.ReadUInt16BigEndian(Datagram.AsSpan(96));

    /// <summary>Where the request came from (the client's local endpoint).</summary>
    public IPEndPoint? From { get; init; }
}

/// <summary>
/// A BEP 15 tracker on 127.0.0.1 (port 0) whose answers the test scripts: <see cref="Respond"/> returns the
/// datagrams to send back (none = drop the request). By default it connects with <see cref="DefaultConnectionId"/>
/// and answers announces with <see cref="AnnouncePeers"/> and scrapes with 5 seeders, 7 leechers, 9 completed.
/// </summary>
internal sealed class ScriptedUdpTracker : IDisposable
{
    public const long DefaultConnectionId = 0x0123456789ABCDEF;

    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<UdpTrackerAction, int> _counts = new();

    public ScriptedUdpTracker(Func<UdpSeen, IReadOnlyList<byte[]>>? respond = null)
    {
        Respond = respond ?? Default;
        Port = ((IPEndPoint)_udp.Client.LocalEndPoint!).Port;
        ReceiveLoop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>The receive loop: it ends without a fault however the tracker is disposed.</summary>
    internal Task ReceiveLoop { get; }

    public Func<UdpSeen, IReadOnlyList<byte[]>> Respond { get; set; }

    public IReadOnlyList<IPEndPoint> AnnouncePeers { get; set; } =
        [new(IPAddress.Loopback, 7201), new(IPAddress.Loopback, 7202)];

    public int Port { get; }

    public string AnnounceUrl => $"udp://127.0.0.1:{Port}/announce";

    public ConcurrentQueue<UdpSeen> Seen { get; } = new();

    public IReadOnlyList<UdpSeen> Of(UdpTrackerAction action) => Seen.Where(s => s.Action == action).ToList();

    /// <summary>The default answer: connect, peers, or counts; the script can fall back to it.</summary>
    public IReadOnlyList<byte[]> Default(UdpSeen seen) => seen.Action switch
    {
        UdpTrackerAction.Connect => [Connect(seen.TransactionId, DefaultConnectionId)],
        UdpTrackerAction.Announce => [Announce(seen.TransactionId, AnnouncePeers)],
        UdpTrackerAction.Scrape => [Scrape(seen.TransactionId, (5, 9, 7))],
        _ => [],
    };

    public static byte[] Connect(int transactionId, long connectionId)
    {
        var bytes = Header(16, UdpTrackerAction.Connect, transactionId);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(8), connectionId);
        return bytes;
    }

    public static byte[] Announce(int transactionId, IReadOnlyList<IPEndPoint> peers, int interval = 1800,
        int leechers = 4, int seeders = 3)
    {
        var compact = CompactPeers.EncodeIPv4(peers);
        var bytes = Header(20 + compact.Length, UdpTrackerAction.Announce, transactionId);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), interval);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), leechers);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), seeders);
        compact.CopyTo(bytes, 20);
        return bytes;
    }

    /// <summary>Wire order per torrent: seeders, completed, leechers.</summary>
    public static byte[] Scrape(int transactionId, params (int Seeders, int Completed, int Leechers)[] torrents)
    {
        var bytes = Header(8 + 12 * torrents.Length, UdpTrackerAction.Scrape, transactionId);
        for (var i = 0; i < torrents.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8 + 12 * i), torrents[i].Seeders);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12 + 12 * i), torrents[i].Completed);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16 + 12 * i), torrents[i].Leechers);
        }
        return bytes;
    }

    public static byte[] Error(int transactionId, string message)
    {
        var text = Encoding.UTF8.GetBytes(message);
        var bytes = Header(8 + text.Length, UdpTrackerAction.Error, transactionId);
        text.CopyTo(bytes, 8);
        return bytes;
    }

    public void Dispose()
    {
        // Cancel before closing, so the loop knows any exception from here on is the stop; the loop ends before
        // the token source it reads is disposed.
        _stop.Cancel();
        _udp.Dispose();
        ReceiveLoop.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private static byte[] Header(int length, UdpTrackerAction action, int transactionId)
    {
        var bytes = new byte[length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, (int)action);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), transactionId);
        return bytes;
    }

    private async Task ReceiveLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try
            {
                received = await _udp.ReceiveAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                // Disposed: closing the client under a receive throws any of several exceptions.
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                // An ICMP "port unreachable" for an earlier reply surfaces here on some systems: keep serving.
                continue;
            }
            var data = received.Buffer;
            if (data.Length < 16)
            {
                continue;
            }
            // Every request carries its action at offset 8 and its transaction id at 12 (BEP 15).
            var action = (UdpTrackerAction)BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(8));
            var seen = new UdpSeen(action, BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(12)),
                BinaryPrimitives.ReadInt64BigEndian(data), data, _counts.AddOrUpdate(action, 0, (_, n) => n + 1),
                DateTime.UtcNow) { From = received.RemoteEndPoint };
            Seen.Enqueue(seen);
            foreach (var reply in Respond(seen))
            {
                try
                {
                    await _udp.SendAsync(reply, received.RemoteEndPoint, _stop.Token);
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (SocketException)
                {
                    // The client is gone; the next request still gets an answer.
                }
            }
        }
    }
}
