using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using BitTorrentActors.Engine.Tests.Swarm;
using BitTorrentActors.Protocol.Dht;

namespace BitTorrentActors.Engine.Tests.Dht;

/// <summary>One DHT node on a loopback address: records every query and answers it (get_peers with a token,
/// so an announce follows).</summary>
internal sealed class ScriptedDhtNode : IDisposable
{
    private readonly UdpClient _socket;
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(60));
    private readonly ConcurrentQueue<KrpcQuery> _queries = new();
    private readonly ConcurrentQueue<IPEndPoint> _sources = new();
    private readonly NodeId _id = NodeId.Random(new Random(5));

    public ScriptedDhtNode(IPAddress address)
    {
        _socket = new UdpClient(new IPEndPoint(address, LoopbackPorts.Next()));
        EndPoint = (IPEndPoint)_socket.Client.LocalEndPoint!;
        _ = Task.Run(ServeAsync);
    }

    public IPEndPoint EndPoint { get; }

    public IReadOnlyList<KrpcQuery> Queries => [.. _queries];

    /// <summary>Where each query came from, in order (the querier's local endpoint).</summary>
    public IReadOnlyList<IPEndPoint> Sources => [.. _sources];

    public async Task<KrpcQuery> WaitForAsync(Func<KrpcQuery, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_queries.FirstOrDefault(match) is { } found)
            {
                return found;
            }
            await Task.Delay(20);
        }
        throw new Xunit.Sdk.XunitException($"no such query within {timeout}; seen: {string.Join(", ", Queries.Select(q => q.Method))}");
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var datagram = await _socket.ReceiveAsync(_stop.Token);
                if (!KrpcCodec.TryDecode(datagram.Buffer, out var message, out _) || message is not KrpcQuery query)
                {
                    continue;
                }
                _sources.Enqueue(datagram.RemoteEndPoint);
                _queries.Enqueue(query);
                var answer = new KrpcResponse(query.TransactionId, _id)
                {
                    Token = query is GetPeersQuery ? new byte[] { 1, 2, 3, 4 } : null,
                };
                await _socket.SendAsync(KrpcCodec.Encode(answer), datagram.RemoteEndPoint, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The test is over.
        }
    }
}
