using System.Net;
using BitTorrentActors.Protocol.Extensions;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Metadata;

/// <summary>What the assembler made of a peer's offer, piece or reject.</summary>
public enum MetadataVerdict
{
    /// <summary>Taken; ask the peer for more (<see cref="MetadataAssembler.Next"/>).</summary>
    Ok,

    /// <summary>The peer broke BEP 9 or lied (size over the cap, wrong piece length, wrong total): close it, do not redial.</summary>
    CutOff,

    /// <summary>The peer is kept but not asked for now (a reject, a size that disagrees, a failed hash).</summary>
    HeldOff,

    /// <summary>Nothing to do (no size offered yet, a piece we already have).</summary>
    Ignored,

    /// <summary>Every piece is here and the SHA-1 is the info-hash: <see cref="MetadataAssembler.Metadata"/>.</summary>
    Complete,

    /// <summary>Every piece arrived but the SHA-1 is not the info-hash: every contributor is held off, all pieces
    /// start again.</summary>
    HashFailed,
}

/// <summary>A verdict and, for anything but <see cref="MetadataVerdict.Ok"/>, why (one line for the log).</summary>
public readonly record struct MetadataOutcome(MetadataVerdict Verdict, string? Reason = null)
{
    public static readonly MetadataOutcome Ok = new(MetadataVerdict.Ok);
}

/// <summary>
/// The state of one BEP 9 metadata fetch, no actor and no clock (every call is given the time): the size the
/// peers offered, which 16 KiB pieces are missing, requested (from whom, since when) or received, and which piece
/// to ask a given peer next. The rules are libtorrent's (<c>ut_metadata.cpp</c>): at most
/// <see cref="MaxOutstandingPerPeer"/> requests per peer, the same piece not asked again within
/// <see cref="RerequestInterval"/> unless its peer went away, a peer that rejects is not asked for
/// <see cref="RejectHoldOff"/>, and a metadata that fails its hash holds off every peer that contributed and
/// starts over. The buffer (at most <see cref="MetadataMessage.MaxMetadataSize"/>) exists only once a size was accepted.
/// </summary>
public sealed class MetadataAssembler
{
    /// <summary>libtorrent keeps two requests in flight per peer.</summary>
    public const int MaxOutstandingPerPeer = 2;

    /// <summary>libtorrent and Transmission do not re-request a piece within 3 s.</summary>
    public static readonly TimeSpan RerequestInterval = TimeSpan.FromSeconds(3);

    /// <summary>libtorrent does not ask a peer that rejected for a minute.</summary>
    public static readonly TimeSpan RejectHoldOff = TimeSpan.FromMinutes(1);

    /// <summary>libtorrent's hold-off for a peer that sent the whole of a hash-failing metadata alone.</summary>
    public static readonly TimeSpan SoleContributorHoldOff = TimeSpan.FromMinutes(5);

    /// <summary>A request unanswered this long counts as a reject (as MonoTorrent and bitrev do).</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly InfoHash _infoHash;
    private readonly Random _random;
    private readonly Dictionary<IPEndPoint, PeerState> _peers = [];
    private byte[]? _buffer;
    private PieceState[] _pieces = [];

    /// <param name="random">Draws the 20-70 s hold-off after a failed hash (libtorrent's range).</param>
    public MetadataAssembler(InfoHash infoHash, Random? random = null)
    {
        _infoHash = infoHash;
        _random = random ?? Random.Shared;
    }

    /// <summary>The size being fetched, once a peer's was accepted.</summary>
    public long? Size { get; private set; }

    public int PiecesTotal => _pieces.Length;

    public int PiecesReceived { get; private set; }

    /// <summary>Peers whose offer (ut_metadata with a size) agrees with what is fetched.</summary>
    public int PeersOffering => _peers.Values.Count(p => p.OfferedSize is { } size && size == Size);

    public bool IsComplete { get; private set; }

    /// <summary>The verified info dictionary, once <see cref="IsComplete"/>.</summary>
    public ReadOnlyMemory<byte> Metadata => IsComplete ? _buffer : ReadOnlyMemory<byte>.Empty;

    /// <summary>Bytes held for the metadata (0 until a size is accepted).</summary>
    public long BufferedBytes => _buffer?.LongLength ?? 0;

    /// <summary>The requests <paramref name="peer"/> has out.</summary>
    public int Outstanding(IPEndPoint peer) => _peers.TryGetValue(peer, out var state) ? state.Outstanding : 0;

    /// <summary>A peer's extension handshake offered ut_metadata with <paramref name="metadataSize"/> (null: it
    /// did not say; it may be asked once another peer told the size).</summary>
    public MetadataOutcome Offer(IPEndPoint peer, long? metadataSize, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (metadataSize is { } size and (<= 0 or > MetadataMessage.MaxMetadataSize))
        {
            _peers.Remove(peer);
            return new(MetadataVerdict.CutOff, $"metadata_size {size} outside 1..{MetadataMessage.MaxMetadataSize}");
        }
        var state = Peer(peer);
        state.OfferedSize = metadataSize;
        if (metadataSize is null)
        {
            return Size is null ? new(MetadataVerdict.Ignored, "no metadata_size yet") : MetadataOutcome.Ok;
        }
        if (Size is null && !IsComplete)
        {
            Adopt(metadataSize.Value);
            return MetadataOutcome.Ok;
        }
        return metadataSize == Size
            ? MetadataOutcome.Ok
            : new(MetadataVerdict.HeldOff, $"metadata_size {metadataSize} disagrees with the {Size} being fetched");
    }

    /// <summary>The piece to ask <paramref name="peer"/> for now, recorded as requested; null when there is none
    /// for it (held off, two requests out, a size that disagrees, every piece received or recently asked).</summary>
    public int? Next(IPEndPoint peer, TimeSpan now)
    {
        if (IsComplete || !_peers.TryGetValue(peer, out var state) || state.HeldUntil > now
            || state.Outstanding >= MaxOutstandingPerPeer)
        {
            return null;
        }
        if (Size is null)
        {
            // After a failed hash the size is chosen again, from a peer allowed to be asked.
            if (state.OfferedSize is not { } offered)
            {
                return null;
            }
            Adopt(offered);
        }
        if (state.OfferedSize is { } own && own != Size)
        {
            return null;
        }
        for (var i = 0; i < _pieces.Length; i++)
        {
            var piece = _pieces[i];
            if (piece.Received || piece.Requests.Any(r => r.Peer.Equals(peer)))
            {
                continue;
            }
            // Asked of someone else within 3 s: leave it to them for now.
            if (piece.Requests.Count > 0 && now - piece.Requests.Max(r => r.At) < RerequestInterval)
            {
                continue;
            }
            piece.Requests.Add((peer, now));
            state.Outstanding++;
            return i;
        }
        return null;
    }

    /// <summary>A data message from <paramref name="peer"/>.</summary>
    public MetadataOutcome Received(IPEndPoint peer, int piece, long totalSize, ReadOnlySpan<byte> data, TimeSpan now)
    {
        if (!_peers.TryGetValue(peer, out var state))
        {
            return new(MetadataVerdict.Ignored, "data from a peer that offered no metadata");
        }
        if (IsComplete)
        {
            return new(MetadataVerdict.Ignored, "metadata already complete");
        }
        if (Size is not { } size)
        {
            // An answer to a request made before a failed hash reset everything: late, not a lie.
            return new(MetadataVerdict.Ignored, "no metadata size being fetched");
        }
        if (totalSize != size)
        {
            return CutOff(peer, $"total_size {totalSize} disagrees with the {size} being fetched");
        }
        if (piece < 0 || piece >= _pieces.Length)
        {
            return CutOff(peer, $"metadata piece {piece} of {_pieces.Length}");
        }
        var expected = MetadataMessage.PieceLength(size, piece);
        if (data.Length != expected)
        {
            return CutOff(peer, $"metadata piece {piece} of {data.Length} bytes, expected {expected}");
        }
        var slot = _pieces[piece];
        if (slot.Requests.RemoveAll(r => r.Peer.Equals(peer)) > 0)
        {
            state.Outstanding--;
        }
        if (slot.Received)
        {
            return new(MetadataVerdict.Ignored, $"metadata piece {piece} already received");
        }
        data.CopyTo(_buffer.AsSpan(piece * MetadataMessage.PieceSize));
        slot.Received = true;
        slot.From = peer;
        // Whoever else still waits for it need not: their slots free up for other pieces.
        foreach (var (other, _) in slot.Requests)
        {
            if (_peers.TryGetValue(other, out var otherState))
            {
                otherState.Outstanding--;
            }
        }
        slot.Requests.Clear();
        PiecesReceived++;
        return PiecesReceived == _pieces.Length ? Verify(now) : MetadataOutcome.Ok;
    }

    /// <summary>A reject from <paramref name="peer"/> (or a request of its unanswered for <see cref="RequestTimeout"/>).</summary>
    public MetadataOutcome Rejected(IPEndPoint peer, int piece, TimeSpan now)
    {
        if (!_peers.TryGetValue(peer, out var state))
        {
            return new(MetadataVerdict.Ignored, "reject from a peer that offered no metadata");
        }
        if (piece >= 0 && piece < _pieces.Length && _pieces[piece].Requests.RemoveAll(r => r.Peer.Equals(peer)) > 0)
        {
            state.Outstanding--;
        }
        state.HeldUntil = now + RejectHoldOff;
        return new(MetadataVerdict.HeldOff, $"rejected metadata piece {piece}");
    }

    /// <summary>Requests older than <see cref="RequestTimeout"/> count as rejects; returns the peers held off.</summary>
    public IReadOnlyList<IPEndPoint> ExpireRequests(TimeSpan now)
    {
        var expired = new List<(IPEndPoint Peer, int Piece)>();
        for (var i = 0; i < _pieces.Length; i++)
        {
            expired.AddRange(_pieces[i].Requests.Where(r => now - r.At >= RequestTimeout).Select(r => (r.Peer, i)));
        }
        foreach (var (peer, piece) in expired)
        {
            Rejected(peer, piece, now);
        }
        return [.. expired.Select(e => e.Peer).Distinct()];
    }

    /// <summary>The peer's connection ended: its requests are free to go to others at once.</summary>
    public void PeerGone(IPEndPoint peer)
    {
        if (!_peers.Remove(peer))
        {
            return;
        }
        foreach (var piece in _pieces)
        {
            piece.Requests.RemoveAll(r => r.Peer.Equals(peer));
        }
    }

    /// <summary>When <paramref name="peer"/> may be asked again (null: not known or not held off at <paramref name="now"/>).</summary>
    public TimeSpan? HeldUntil(IPEndPoint peer, TimeSpan now) =>
        _peers.TryGetValue(peer, out var state) && state.HeldUntil > now ? state.HeldUntil : null;

    private MetadataOutcome Verify(TimeSpan now)
    {
        if (InfoHash.Compute(_buffer) == _infoHash)
        {
            IsComplete = true;
            return new(MetadataVerdict.Complete);
        }
        var contributors = _pieces.Select(p => p.From!).Distinct().ToList();
        // libtorrent: one peer that sent a single-piece metadata alone is the likely liar, so it waits longest.
        var sole = contributors.Count == 1 && _pieces.Length == 1;
        foreach (var contributor in contributors)
        {
            if (_peers.TryGetValue(contributor, out var state))
            {
                state.HeldUntil = now + (sole ? SoleContributorHoldOff : TimeSpan.FromSeconds(_random.Next(20, 71)));
            }
        }
        var size = Size;
        // Start over, the size included: it may have been a liar's, and the next is drawn from who may be asked.
        Size = null;
        _buffer = null;
        _pieces = [];
        PiecesReceived = 0;
        foreach (var state in _peers.Values)
        {
            state.Outstanding = 0;
        }
        return new(MetadataVerdict.HashFailed,
            $"metadata of {size} bytes from {contributors.Count} peer(s) does not hash to the info-hash; fetching again");
    }

    private void Adopt(long size)
    {
        Size = size;
        _buffer = new byte[size];
        _pieces = new PieceState[MetadataMessage.PieceCount(size)];
        for (var i = 0; i < _pieces.Length; i++)
        {
            _pieces[i] = new PieceState();
        }
        PiecesReceived = 0;
    }

    private MetadataOutcome CutOff(IPEndPoint peer, string reason)
    {
        PeerGone(peer);
        return new(MetadataVerdict.CutOff, reason);
    }

    private PeerState Peer(IPEndPoint peer)
    {
        if (!_peers.TryGetValue(peer, out var state))
        {
            state = new PeerState();
            _peers[peer] = state;
        }
        return state;
    }

    private sealed class PeerState
    {
        public long? OfferedSize { get; set; }

        public TimeSpan HeldUntil { get; set; }

        public int Outstanding { get; set; }
    }

    private sealed class PieceState
    {
        public List<(IPEndPoint Peer, TimeSpan At)> Requests { get; } = [];

        public bool Received { get; set; }

        public IPEndPoint? From { get; set; }
    }
}
