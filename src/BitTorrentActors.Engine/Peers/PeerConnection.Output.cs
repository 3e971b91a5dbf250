using System.Buffers;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Peers;

/// <summary>
/// The outgoing side: frames are encoded straight into the outbox (GetSpan/Advance, no intermediate buffer) by
/// the owning actor only, which calls <see cref="Flush"/> once per batch.
/// </summary>
public sealed partial class PeerConnection
{
    public void SendHandshake(Handshake handshake)
    {
        ArgumentNullException.ThrowIfNull(handshake);
        Advance(handshake.WriteTo(Span(Handshake.Length)));
    }

    public void SendKeepAlive() => Advance(PeerWireWriter.WriteKeepAlive(Span(PeerWireWriter.KeepAliveSize)));

    public void SendInterest(bool interested)
    {
        var span = Span(PeerWireWriter.NoPayloadMessageSize);
        Advance(interested ? PeerWireWriter.WriteInterested(span) : PeerWireWriter.WriteNotInterested(span));
    }

    public void SendHaveNone() => Advance(PeerWireWriter.WriteHaveNone(Span(PeerWireWriter.NoPayloadMessageSize)));

    public void SendHave(int piece) => Advance(PeerWireWriter.WriteHave(Span(PeerWireWriter.HaveSize), (uint)piece));

    public void SendRequest(BlockRequest block) =>
        Advance(PeerWireWriter.WriteRequest(Span(PeerWireWriter.RequestSize), (uint)block.Piece, (uint)block.Begin, (uint)block.Length));

    public void SendCancel(BlockRequest block) =>
        Advance(PeerWireWriter.WriteCancel(Span(PeerWireWriter.RequestSize), (uint)block.Piece, (uint)block.Begin, (uint)block.Length));

    /// <summary>
    /// Hands the written frames to the send loop. Never waits: the outbox has no pause threshold, so the flush
    /// completes synchronously and its result needs no awaiting.
    /// </summary>
    public void Flush()
    {
        var flush = _outbox.Writer.FlushAsync();
        if (!flush.IsCompleted)
        {
            // Cannot happen with pauseWriterThreshold 0; observing it keeps the ValueTask contract either way.
            _ = flush.AsTask();
        }
    }

    private Span<byte> Span(int size) => _outbox.Writer.GetSpan(size);

    private void Advance(int written) => _outbox.Writer.Advance(written);
}
