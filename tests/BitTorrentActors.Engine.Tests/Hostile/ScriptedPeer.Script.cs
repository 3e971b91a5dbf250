using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BitTorrentActors.Engine.Peers.Extensions;
using BitTorrentActors.Protocol.Extensions;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.Hostile;

/// <summary>The per-connection script: one <see cref="HostileBehaviour"/> played against our client.</summary>
public sealed partial class ScriptedPeer
{
    private const int BlockSize = 16 * 1024;

    /// <summary>How long a misbehaviour keeps pushing before the peer gives up waiting for the client to react.</summary>
    private static readonly TimeSpan PushBound = TimeSpan.FromSeconds(5);

    private async Task ScriptAsync(NetworkStream stream, ScriptedConnection c, CancellationToken ct)
    {
        // Our client dials, so it speaks first: its handshake, with the info-hash it wants.
        if (!await ReadExactAsync(stream, new byte[Handshake.Length], c, ct).ConfigureAwait(false))
        {
            c.MarkClosed(Now, byClient: true);
            return;
        }
        if (Behaviour == HostileBehaviour.Silent)
        {
            c.MarkBad(Now);
            await DrainUntilClosedAsync(stream, c, ct).ConfigureAwait(false);
            return;
        }
        var infoHash = Behaviour == HostileBehaviour.WrongInfoHash ? _infoHash.Select(b => (byte)~b).ToArray() : _infoHash;
        var handshake = new byte[Handshake.Length];
        var extensions = Behaviour is HostileBehaviour.MalformedExtended or HostileBehaviour.PexFlood
            or HostileBehaviour.PexAddressFlood or HostileBehaviour.PexAddressesAtLimit;
        new Handshake(infoHash, new PeerId([.. "-SP0001-"u8, .. Random.Shared.GetItems<byte>([.. "0123456789"u8], 12)]),
            extensions ? HandshakeReserved.ExtensionProtocol : HandshakeReserved.None).WriteTo(handshake);
        await stream.WriteAsync(handshake, ct).ConfigureAwait(false);
        switch (Behaviour)
        {
            case HostileBehaviour.WrongInfoHash:
                c.MarkBad(Now);
                await DrainUntilClosedAsync(stream, c, ct).ConfigureAwait(false);
                return;
            case HostileBehaviour.OversizedLength:
                await PushAfterBadAsync(stream, c, LengthPrefix(0x7FFFFFFF), JunkChunks(), ct).ConfigureAwait(false);
                return;
            case HostileBehaviour.NegativeLength:
                await PushAfterBadAsync(stream, c, LengthPrefix(0xFFFFFFF0), JunkChunks(), ct).ConfigureAwait(false);
                return;
            case HostileBehaviour.InterestedIdle:
                await stream.WriteAsync(Frame(PeerMessageKind.Interested, []), ct).ConfigureAwait(false);
                c.MarkBad(Now);
                await DrainUntilClosedAsync(stream, c, ct).ConfigureAwait(false);
                return;
            case HostileBehaviour.WrongSizeBitfield:
                var wrong = new byte[Bitfield.ByteLengthFor(PieceCount) + 1];
                await PushAfterBadAsync(stream, c, Frame(PeerMessageKind.Bitfield, wrong), [], ct).ConfigureAwait(false);
                return;
        }
        var bitfield = Bitfield.AllSet(PieceCount);
        var bitfieldFrame = new byte[PeerWireWriter.BitfieldSize(bitfield)];
        PeerWireWriter.WriteBitfield(bitfieldFrame, bitfield);
        await stream.WriteAsync(bitfieldFrame, ct).ConfigureAwait(false);
        switch (Behaviour)
        {
            case HostileBehaviour.UnrequestedBlocks:
                // Never unchoked, so the client cannot have asked for any of these.
                await PushAfterBadAsync(stream, c, [], UnrequestedBlocks(), ct).ConfigureAwait(false);
                return;
            case HostileBehaviour.NeverUnchokes:
                c.MarkBad(Now);
                await DrainUntilClosedAsync(stream, c, ct).ConfigureAwait(false);
                return;
            case HostileBehaviour.HaveFlood:
                await PushAfterBadAsync(stream, c, [], HaveFlood(), ct).ConfigureAwait(false);
                return;
            case HostileBehaviour.MalformedExtended:
                await PushAfterBadAsync(stream, c, Extended(0, "not bencode"u8.ToArray()), [], ct).ConfigureAwait(false);
                return;
            case HostileBehaviour.PexFlood:
                await PushAfterBadAsync(stream, c, PexFlood(), [], ct).ConfigureAwait(false);
                return;
            case HostileBehaviour.PexAddressFlood:
                await PushAfterBadAsync(stream, c, [.. PexHandshake(), .. PexAddresses()], PexAddressMessages(), ct)
                    .ConfigureAwait(false);
                return;
            case HostileBehaviour.PexAddressesAtLimit:
                c.MarkBad(Now);
                await stream.WriteAsync(PexHandshake(), ct).ConfigureAwait(false);
                foreach (var message in PexAddressMessages().Take(PexMessagesAllowed))
                {
                    await stream.WriteAsync(message, ct).ConfigureAwait(false);
                }
                await DrainUntilClosedAsync(stream, c, ct).ConfigureAwait(false);
                return;
            case HostileBehaviour.RequestFlood:
                // 20,000: a flood is over four times the requests we queue (reqq, 1000 by default), as many as a
                // peer may have on the way when it is choked.
                await PushAfterBadAsync(stream, c, Frame(PeerMessageKind.Interested, []), [RequestFlood(20_000)], ct)
                    .ConfigureAwait(false);
                return;
            case HostileBehaviour.UnknownIdsThenHonest:
                byte[] unknown = [.. Frame((PeerMessageKind)0x42, new byte[10]), .. Frame((PeerMessageKind)0x63, []),
                    .. Frame((PeerMessageKind)0xC8, new byte[100])];
                await stream.WriteAsync(unknown, ct).ConfigureAwait(false);
                break;
        }
        await stream.WriteAsync(Frame(PeerMessageKind.Unchoke, []), ct).ConfigureAwait(false);
        await ServeAsync(stream, c, ct).ConfigureAwait(false);
    }

    /// <summary>Answers requests until the client closes: right bytes, or flipped ones for a corrupt peer. Requests
    /// that arrived together are answered as a batch; see <see cref="InterleaveBatches"/>.</summary>
    private async Task ServeAsync(NetworkStream stream, ScriptedConnection c, CancellationToken ct)
    {
        var prefix = new byte[4];
        var batch = new List<(int Index, int Begin, int Size)>();
        while (await ReadExactAsync(stream, prefix, c, ct).ConfigureAwait(false))
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
            if (length > 1 << 20)
            {
                c.Note($"client sent a frame of {length} bytes");
                return;
            }
            var body = new byte[length];
            if (!await ReadExactAsync(stream, body, c, ct).ConfigureAwait(false))
            {
                break;
            }
            if (length == 13 && (PeerMessageKind)body[0] == PeerMessageKind.Request)
            {
                c.Request();
                batch.Add((BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(1)), BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(5)),
                    BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(9))));
            }
            if (stream.DataAvailable)
            {
                continue;
            }
            if (InterleaveBatches && batch.Count < 16)
            {
                // Give the client's pipeline a moment to fill, so the batch spans several pieces.
                await Task.Delay(50, ct).ConfigureAwait(false);
                if (stream.DataAvailable)
                {
                    continue;
                }
            }
            var order = InterleaveBatches ? batch.OrderByDescending(r => r.Begin).ThenBy(r => r.Index).ToList() : batch;
            foreach (var (index, begin, size) in order)
            {
                await ServeBlockAsync(stream, c, index, begin, size, ct).ConfigureAwait(false);
            }
            batch.Clear();
        }
        c.MarkClosed(Now, byClient: true);
    }

    private async Task ServeBlockAsync(NetworkStream stream, ScriptedConnection c, int index, int begin, int size, CancellationToken ct)
    {
        var offset = ((long)index * _pieceLength) + begin;
        if (index < 0 || index >= PieceCount || begin < 0 || size <= 0 || offset + size > _content.LongLength)
        {
            c.Note($"bad request {index}/{begin}/{size}");
            return;
        }
        var block = _content.AsSpan((int)offset, size).ToArray();
        if (Behaviour == HostileBehaviour.CorruptBlocks)
        {
            // Flip every 512th byte: same length, wrong hash.
            for (var i = 0; i < block.Length; i += 512)
            {
                block[i] ^= 0xFF;
            }
        }
        if (BlockDelay > TimeSpan.Zero)
        {
            await Task.Delay(BlockDelay, ct).ConfigureAwait(false);
        }
        var frame = new byte[PeerWireWriter.PieceSize(size)];
        PeerWireWriter.WritePiece(frame, (uint)index, (uint)begin, block);
        await stream.WriteAsync(frame, ct).ConfigureAwait(false);
        c.Served(index);
    }

    /// <summary>Sends the bad bytes, then keeps pushing <paramref name="more"/> (4 KiB at a time, paced) until the
    /// client closes or <see cref="PushBound"/> passes; records how much got through after the bad bytes.</summary>
    private async Task PushAfterBadAsync(
        NetworkStream stream, ScriptedConnection c, byte[] bad, IEnumerable<byte[]> more, CancellationToken ct)
    {
        var watcher = DrainUntilClosedAsync(stream, c, ct);
        try
        {
            c.MarkBad(Now);
            await stream.WriteAsync(bad, ct).ConfigureAwait(false);
            var until = Now + PushBound;
            foreach (var chunk in more)
            {
                if (watcher.IsCompleted || Now > until)
                {
                    break;
                }
                await stream.WriteAsync(chunk, ct).ConfigureAwait(false);
                c.Pushed(chunk.Length);
                await Task.WhenAny(watcher, Task.Delay(5, ct)).ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
            // Reset by the client while we were still pushing: that is the close we wait for.
            c.MarkClosed(Now, byClient: true);
        }
        await watcher.WaitAsync(PushBound, ct).ConfigureAwait(false);
    }

    /// <summary>Reads and discards until the client closes (end of stream or reset).</summary>
    private async Task DrainUntilClosedAsync(NetworkStream stream, ScriptedConnection c, CancellationToken ct)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer, ct).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                c.Received(read);
            }
        }
        catch (IOException)
        {
            // A reset is a close too.
        }
        c.MarkClosed(Now, byClient: true);
    }

    private static async Task<bool> ReadExactAsync(NetworkStream stream, byte[] buffer, ScriptedConnection c, CancellationToken ct)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, ct).ConfigureAwait(false);
            c.Received(buffer.Length);
            return true;
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException)
        {
            return false;
        }
    }

    private static byte[] Frame(PeerMessageKind kind, byte[] payload)
    {
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)(payload.Length + 1));
        frame[4] = (byte)kind;
        payload.CopyTo(frame, 5);
        return frame;
    }

    private static byte[] Extended(byte id, byte[] payload) => Frame(PeerMessageKind.Extended, [id, .. payload]);

    /// <summary>Addresses in one <see cref="HostileBehaviour.PexAddressFlood"/> message (200 times the 50 a
    /// client takes from one).</summary>
    public const int PexFloodSize = 10_000;

    /// <summary>ut_pex messages libtorrent (and our client) accept from one peer within 60 s.</summary>
    public const int PexMessagesAllowed = 6;

    /// <summary>A valid extension handshake naming ut_pex.</summary>
    private static byte[] PexHandshake() =>
        Extended(0, new ExtensionHandshake { Extensions = new Dictionary<string, byte> { ["ut_pex"] = 1 } }.Encode());

    /// <summary>One ut_pex message (on the client's id for it) adding <see cref="PexFloodSize"/> random addresses in
    /// 127.1.0.0 - 127.255.255.255 at port 9, where nothing listens: a dial is refused at once and stays on
    /// loopback. About 70 KB, well under the 500 KiB a message may have.</summary>
    private static byte[] PexAddresses()
    {
        var peers = new PexPeer[PexFloodSize];
        for (var i = 0; i < peers.Length; i++)
        {
            var address = new IPAddress([127, (byte)Random.Shared.Next(1, 256), (byte)Random.Shared.Next(256), (byte)Random.Shared.Next(256)]);
            peers[i] = new PexPeer(new IPEndPoint(address, 9), PexFlags.Reachable);
        }
        return Extended(LocalExtensions.UtPexId, new PexMessage(peers, []).Encode());
    }

    private static IEnumerable<byte[]> PexAddressMessages()
    {
        while (true)
        {
            yield return PexAddresses();
        }
    }

    /// <summary>A valid extension handshake, then seven valid ut_pex messages on the client's id for them (its
    /// handshake's, fixed by LocalExtensions): one more than libtorrent allows in a minute. Each names one address
    /// on loopback where nothing listens.</summary>
    private static byte[] PexFlood()
    {
        var pex = Extended(LocalExtensions.UtPexId,
            new PexMessage([new PexPeer(new IPEndPoint(IPAddress.Loopback, 9), PexFlags.None)], []).Encode());
        return [.. PexHandshake(), .. Enumerable.Repeat(pex, PexMessagesAllowed + 1).SelectMany(f => f)];
    }

    /// <summary>A length prefix and a piece id, the body never to come in full.</summary>
    private static byte[] LengthPrefix(uint length)
    {
        var header = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(header, length);
        header[4] = (byte)PeerMessageKind.Piece;
        return header;
    }

    private static IEnumerable<byte[]> JunkChunks()
    {
        while (true)
        {
            yield return new byte[4096];
        }
    }

    private IEnumerable<byte[]> UnrequestedBlocks()
    {
        for (var i = 0; ; i++)
        {
            var piece = i % PieceCount;
            var offset = (long)piece * _pieceLength;
            var size = (int)Math.Min(BlockSize, _content.LongLength - offset);
            var frame = new byte[PeerWireWriter.PieceSize(size)];
            PeerWireWriter.WritePiece(frame, (uint)piece, 0, _content.AsSpan((int)offset, size));
            yield return frame;
        }
    }

    /// <summary>4 KiB chunks of have messages cycling over every piece.</summary>
    private IEnumerable<byte[]> HaveFlood()
    {
        const int perChunk = 4096 / PeerWireWriter.HaveSize;
        for (var i = 0; ; i++)
        {
            var chunk = new byte[perChunk * PeerWireWriter.HaveSize];
            for (var j = 0; j < perChunk; j++)
            {
                PeerWireWriter.WriteHave(chunk.AsSpan(j * PeerWireWriter.HaveSize), (uint)(((i * perChunk) + j) % PieceCount));
            }
            yield return chunk;
        }
    }

    private byte[] RequestFlood(int count)
    {
        var flood = new byte[count * PeerWireWriter.RequestSize];
        for (var i = 0; i < count; i++)
        {
            PeerWireWriter.WriteRequest(flood.AsSpan(i * PeerWireWriter.RequestSize), (uint)(i % PieceCount), 0, BlockSize);
        }
        return flood;
    }
}
