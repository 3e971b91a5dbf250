using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Peers.Extensions;
using BitTorrentActors.Engine.Tests.Peers;
using BitTorrentActors.Protocol.Extensions;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.Metadata;

/// <summary>How a scripted peer serves (or lies about) the metadata.</summary>
public enum MetadataBehaviour
{
    /// <summary>Offers the right size and answers every request with the right piece.</summary>
    Honest,

    /// <summary>Offers <c>metadata_size</c> 2^31 (more than any fetcher may hold).</summary>
    HugeSize,

    /// <summary>Offers the right size, answers every request with a 20 KiB piece.</summary>
    OversizedPiece,

    /// <summary>Offers the right size and serves pieces of that length whose bytes do not hash to the info-hash.</summary>
    ForgedMetadata,

    /// <summary>Offers the right size, then rejects every request.</summary>
    Rejects,

    /// <summary>Offers the extension protocol but not ut_metadata.</summary>
    NoMetadataExtension,
}

/// <summary>What a scripted peer saw: requests, most outstanding at once, pieces sent.</summary>
public sealed class Served
{
    private int _requests;
    private int _sent;

    public int Requests => Volatile.Read(ref _requests);

    public int PiecesSent => Volatile.Read(ref _sent);

    public int MaxOutstanding { get; set; }

    public bool ClosedByFetcher { get; set; }

    internal void Request() => Interlocked.Increment(ref _requests);

    internal void Sent() => Interlocked.Increment(ref _sent);

    public override string ToString() =>
        $"{Requests} requests, at most {MaxOutstanding} outstanding, {PiecesSent} pieces sent, closed by the fetcher {ClosedByFetcher}";
}

/// <summary>
/// The remote side of a metadata fetch played over a <see cref="ScriptedPeer"/> (in-memory pipes): the handshake
/// with the extension bit, an extension handshake offering ut_metadata as id 3, then data, honest or not.
/// </summary>
internal static class MetadataPeerScript
{
    /// <summary>The id the scripted peer asks ut_metadata to be sent to it as (not ours, to prove ours is read).</summary>
    public const byte PeerMetadataId = 3;

    /// <summary>Plays <paramref name="behaviour"/> until the fetcher closes the connection.</summary>
    /// <param name="dialledUs">The peer connected to the fetcher: it sends its handshake first, and the fetcher's
    /// must follow it.</param>
    /// <param name="listenPort">Sent as <c>p</c> in the extension handshake.</param>
    public static async Task<Served> ServeAsync(ScriptedPeer peer, byte[] info, InfoHash hash,
        MetadataBehaviour behaviour = MetadataBehaviour.Honest, bool dialledUs = false, int? listenPort = null)
    {
        var served = new Served();
        try
        {
            if (dialledUs)
            {
                await HandshakeAsync(peer, hash, fast: true);
                await peer.ReadHandshakeAsync();
            }
            else
            {
                await peer.ReadHandshakeAsync();
                await HandshakeAsync(peer, hash, fast: true);
            }
            long size = behaviour == MetadataBehaviour.HugeSize ? 1L << 31 : info.Length;
            await peer.SendRawAsync(behaviour == MetadataBehaviour.NoMetadataExtension
                ? ExtendedFrame(0, new ExtensionHandshake { Client = "no metadata" }.Encode())
                : ExtendedHandshake(PeerMetadataId, size, pex: false, listenPort));
            var forged = (byte[])info.Clone();
            for (var i = 0; i < forged.Length; i += 97)
            {
                forged[i] ^= 0x5A;
            }
            var outstanding = 0;
            while (true)
            {
                var frame = await peer.ReadFrameAsync(timeout: TimeSpan.FromSeconds(30));
                if (frame[4] != (byte)PeerMessageKind.Extended || frame[5] != PeerMetadataId)
                {
                    continue;
                }
                Assert.True(MetadataMessage.TryParse(new ReadOnlySequence<byte>(frame.AsMemory(6)), out var request, out _, out var error), error);
                served.Request();
                served.MaxOutstanding = Math.Max(served.MaxOutstanding, ++outstanding);
                // Answer after a moment, so the fetcher can have its second request out meanwhile.
                await Task.Delay(20);
                if (behaviour == MetadataBehaviour.Rejects)
                {
                    await peer.SendRawAsync(ExtendedFrame(LocalExtensions.UtMetadataId, MetadataMessage.EncodeReject(request.Piece)));
                    outstanding--;
                    continue;
                }
                var source = behaviour == MetadataBehaviour.ForgedMetadata ? forged : info;
                var piece = behaviour == MetadataBehaviour.OversizedPiece
                    ? new byte[20 * 1024]
                    : source.AsSpan(request.Piece * MetadataMessage.PieceSize, MetadataMessage.PieceLength(info.Length, request.Piece)).ToArray();
                await peer.SendRawAsync(ExtendedFrame(LocalExtensions.UtMetadataId, MetadataMessage.EncodeData(request.Piece, info.Length, piece)));
                served.Sent();
                outstanding--;
            }
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or InvalidOperationException)
        {
            served.ClosedByFetcher = true;
            return served;
        }
        catch (OperationCanceledException)
        {
            return served;
        }
    }

    /// <summary>A handshake with the extension protocol bit (and the fast one when asked).</summary>
    public static Task HandshakeAsync(ScriptedPeer peer, InfoHash hash, bool fast) =>
        peer.SendAsync(Handshake.Length, span => new Handshake(hash.ToArray(), peer.Id,
            HandshakeReserved.ExtensionProtocol | (fast ? HandshakeReserved.FastExtension : HandshakeReserved.None)).WriteTo(span));

    public static byte[] ExtendedHandshake(byte utMetadataId, long? size, bool pex, int? listenPort = null)
    {
        var extensions = new Dictionary<string, byte> { [LocalExtensions.UtMetadata] = utMetadataId };
        if (pex)
        {
            extensions[LocalExtensions.UtPex] = 4;
        }
        var payload = new ExtensionHandshake { Extensions = extensions, MetadataSize = size, Client = "scripted", ListenPort = listenPort }.Encode();
        return ExtendedFrame(0, payload);
    }

    public static byte[] ExtendedFrame(byte id, byte[] payload)
    {
        var frame = new byte[PeerWireWriter.ExtendedSize(payload.Length)];
        PeerWireWriter.WriteExtended(frame, id, payload);
        return frame;
    }
}

/// <summary>
/// The fetcher's dialer in tests: each address added is one in-memory pipe pair (its fetcher side handed out
/// once); any other address is dialled over TCP (a real seeder on 127.0.0.1 beside scripted ones).
/// </summary>
/// <param name="tcpDelay">How long a TCP dial waits first, so scripted peers are met before the real one.</param>
internal sealed class PipeDialer(TimeSpan tcpDelay = default)
{
    private readonly ConcurrentDictionary<IPEndPoint, IDuplexPipe> _actorSides = new();

    public (IPEndPoint EndPoint, ScriptedPeer Peer) Add(IPEndPoint endPoint)
    {
        var (actorSide, peerSide) = DuplexPipe.CreatePair();
        _actorSides[endPoint] = actorSide;
        return (endPoint, new ScriptedPeer(peerSide));
    }

    public Task<IDuplexPipe> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        if (!IPAddress.IsLoopback(endPoint.Address))
        {
            // Tests never send traffic beyond 127.0.0.0/8.
            return Task.FromException<IDuplexPipe>(new InvalidOperationException($"refused to dial {endPoint} from a test"));
        }
        return _actorSides.TryRemove(endPoint, out var pipe)
            ? Task.FromResult(pipe)
            : DialAsync(endPoint, cancellationToken);
    }

    private async Task<IDuplexPipe> DialAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        if (tcpDelay > TimeSpan.Zero)
        {
            await Task.Delay(tcpDelay, cancellationToken);
        }
        return await SocketTransport.ConnectAsync(endPoint, cancellationToken);
    }
}
