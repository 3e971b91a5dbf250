using BitTorrentActors.Protocol.Extensions;

namespace BitTorrentActors.Engine.Peers.Extensions;

/// <summary>
/// BEP 9 for one connection, serving side: a request is answered at once from the metainfo's info dictionary
/// (<c>RawInfo</c>) in 16 KiB pieces, a piece out of range is rejected. Nothing is queued here: the answer goes
/// straight into the connection's outbox, so the bound is on that outbox and on how often one peer may ask.
/// Plain state owned by <see cref="PeerActor"/>.
/// </summary>
internal sealed class MetadataServer
{
    /// <summary>
    /// Unsent bytes in the outbox above which a request is rejected rather than answered: 16 pieces (256 KiB, the
    /// upload pump's bound in the low-memory profile, half its default bta.upload.max-unsent-per-peer: metadata is
    /// a few pieces, so a deeper outbox would only serve a peer that re-asks). libtorrent queues 1024 requests and
    /// rejects beyond; answering from memory needs no queue, and a peer that does not read what we send must
    /// not make us hold 1024 x 16 KiB for it.
    /// </summary>
    public const long MaxUnsentBytes = 16 * MetadataMessage.PieceSize;

    private readonly ReadOnlyMemory<byte> _info;
    private int _requests;

    public MetadataServer(ReadOnlyMemory<byte> info)
    {
        _info = info;
        PieceCount = MetadataMessage.PieceCount(info.Length);
        // An honest fetcher asks each piece once, and again after a reject or its own timeout: a few rounds of the
        // whole metadata. Far more on one connection is a flood (each answer costs us 16 KiB of output).
        MaxRequests = (8 * PieceCount) + 64;
    }

    public int PieceCount { get; }

    /// <summary>Requests one connection may make before it is closed as a flood.</summary>
    public int MaxRequests { get; }

    /// <summary>Data messages sent.</summary>
    public int Served { get; private set; }

    /// <summary>Rejects sent.</summary>
    public int Rejected { get; private set; }

    /// <summary>
    /// The answer to a request for <paramref name="piece"/>: the data message, or a reject when the piece is out
    /// of range or the peer has not read the last <see cref="MaxUnsentBytes"/> we sent. False with an error when
    /// the peer asked more than <see cref="MaxRequests"/> times.
    /// </summary>
    public bool TryAnswer(int piece, long unsentBytes, out byte[] reply, out string? error)
    {
        if (++_requests > MaxRequests)
        {
            reply = [];
            error = $"more than {MaxRequests} ut_metadata requests for a {PieceCount}-piece metadata";
            return false;
        }

        error = null;
        if (piece < 0 || piece >= PieceCount || unsentBytes > MaxUnsentBytes)
        {
            Rejected++;
            reply = MetadataMessage.EncodeReject(piece);
            return true;
        }

        Served++;
        var start = piece * MetadataMessage.PieceSize;
        var length = MetadataMessage.PieceLength(_info.Length, piece);
        reply = MetadataMessage.EncodeData(piece, _info.Length, _info.Span.Slice(start, length));
        return true;
    }
}
