using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.Peers;

internal sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;

    /// <summary>Two crossed in-memory pipes: what one side writes the other reads.</summary>
    public static (IDuplexPipe ActorSide, IDuplexPipe PeerSide) CreatePair()
    {
        var toActor = new Pipe();
        var toPeer = new Pipe();
        return (new DuplexPipe(toActor.Reader, toPeer.Writer), new DuplexPipe(toPeer.Reader, toActor.Writer));
    }
}

/// <summary>
/// Plays the remote peer byte by byte over any transport: writes frames with PeerWireWriter and reads back the
/// actor's frames as raw bytes, so tests assert exact wire content.
/// </summary>
internal sealed class ScriptedPeer(IDuplexPipe transport)
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public PeerId Id { get; } = new("-XX0001-scriptedpeer"u8);

    /// <param name="extensions">Set the BEP 10 extension bit.</param>
    public Task SendHandshakeAsync(InfoHash infoHash, PeerId? id = null, bool fast = true, bool extensions = false) =>
        SendAsync(Handshake.Length, span => new Handshake(infoHash.ToArray(), id ?? Id,
            (fast ? HandshakeReserved.FastExtension : HandshakeReserved.None)
            | (extensions ? HandshakeReserved.ExtensionProtocol : HandshakeReserved.None)).WriteTo(span));

    public Task SendExtendedAsync(byte extendedId, byte[] payload) => SendRawAsync(Frames.Extended(extendedId, payload));

    /// <summary>The next extended message the actor sent (other frames skipped): its extended id and payload.</summary>
    public async Task<(byte Id, byte[] Payload)> ReadExtendedAsync(TimeSpan? timeout = null)
    {
        while (true)
        {
            var frame = await ReadFrameAsync(timeout: timeout);
            if (frame[4] == (byte)PeerMessageKind.Extended)
            {
                return (frame[5], frame[6..]);
            }
        }
    }

    public async Task SendAsync(int size, Func<Span<byte>, int> write)
    {
        var written = write(transport.Output.GetSpan(size));
        transport.Output.Advance(written);
        await transport.Output.FlushAsync();
    }

    public Task SendRawAsync(byte[] bytes) => SendAsync(bytes.Length, span =>
    {
        bytes.CopyTo(span);
        return bytes.Length;
    });

    public Task CloseAsync() => transport.Output.CompleteAsync().AsTask();

    public async Task<Handshake> ReadHandshakeAsync()
    {
        var bytes = await ReadExactlyAsync(Handshake.Length, DefaultTimeout);
        Assert.Equal(HandshakeReadStatus.Complete, Handshake.TryRead(bytes, out var handshake, out _));
        return handshake!;
    }

    /// <summary>The next frame the actor sent, whole (length prefix included); keep-alives skipped unless asked for.</summary>
    public async Task<byte[]> ReadFrameAsync(bool skipKeepAlives = true, TimeSpan? timeout = null)
    {
        while (true)
        {
            var prefix = await ReadExactlyAsync(4, timeout ?? DefaultTimeout);
            var length = BinaryPrimitives.ReadInt32BigEndian(prefix);
            if (length == 0 && skipKeepAlives)
            {
                continue;
            }

            var body = await ReadExactlyAsync(length, timeout ?? DefaultTimeout);
            return [.. prefix, .. body];
        }
    }

    /// <summary>True once the actor's side of the connection is closed (end of stream).</summary>
    public async Task<bool> IsClosedAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var result = await transport.Input.ReadAsync(cts.Token);
                transport.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<byte[]> ReadExactlyAsync(int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var result = await transport.Input.ReadAsync(cts.Token);
            var buffer = result.Buffer;
            if (buffer.Length >= count)
            {
                var bytes = buffer.Slice(0, count).ToArray();
                transport.Input.AdvanceTo(buffer.GetPosition(count));
                return bytes;
            }

            transport.Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new EndOfStreamException($"wanted {count} bytes, the actor closed after {buffer.Length}");
            }
        }
    }
}

/// <summary>Frame builders for the remote side.</summary>
internal static class Frames
{
    public static byte[] Build(int size, Func<byte[], int> write)
    {
        var bytes = new byte[size];
        return bytes[..write(bytes)];
    }

    public static byte[] Unchoke => Build(5, b => PeerWireWriter.WriteUnchoke(b));

    public static byte[] Choke => Build(5, b => PeerWireWriter.WriteChoke(b));

    public static byte[] HaveAll => Build(5, b => PeerWireWriter.WriteHaveAll(b));

    public static byte[] Have(uint piece) => Build(9, b => PeerWireWriter.WriteHave(b, piece));

    public static byte[] Request(int piece, int begin, int length) =>
        Build(17, b => PeerWireWriter.WriteRequest(b, (uint)piece, (uint)begin, (uint)length));

    public static byte[] Cancel(int piece, int begin, int length) =>
        Build(17, b => PeerWireWriter.WriteCancel(b, (uint)piece, (uint)begin, (uint)length));

    public static byte[] Reject(int piece, int begin, int length) =>
        Build(17, b => PeerWireWriter.WriteReject(b, (uint)piece, (uint)begin, (uint)length));

    public static byte[] Piece(int piece, int begin, byte[] block) =>
        Build(PeerWireWriter.PieceSize(block.Length), b => PeerWireWriter.WritePiece(b, (uint)piece, (uint)begin, block));

    public static byte[] Extended(byte extendedId, byte[] payload) =>
        Build(PeerWireWriter.ExtendedSize(payload.Length), b => PeerWireWriter.WriteExtended(b, extendedId, payload));

    /// <summary>A bitfield frame with exactly these payload bytes (no validation, so tests can send bad ones).</summary>
    public static byte[] Bitfield(byte[] bits)
    {
        var frame = new byte[5 + bits.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, 1 + bits.Length);
        frame[4] = (byte)PeerMessageKind.Bitfield;
        bits.CopyTo(frame, 5);
        return frame;
    }

    public static byte[] Block(int length, int seed)
    {
        var block = new byte[length];
        new Random(seed).NextBytes(block);
        return block;
    }
}
