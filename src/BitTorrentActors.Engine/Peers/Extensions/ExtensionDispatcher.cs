using BitTorrentActors.Protocol.Extensions;

namespace BitTorrentActors.Engine.Peers.Extensions;

/// <summary>What one extended message came to, for <see cref="PeerActor"/> to act on.</summary>
/// <param name="Error">Set when the peer must be closed: one line saying why.</param>
/// <param name="Handshake">Set when the message was the peer's extension handshake (id 0).</param>
/// <param name="Pex">Set when the message was a ut_pex message (bounded to 50 added peers).</param>
internal readonly record struct ExtensionResult(string? Error = null, ExtensionHandshake? Handshake = null, PexMessage? Pex = null)
{
    public static readonly ExtensionResult Nothing = new();
}

/// <summary>
/// BEP 10 for one connection: every Extended frame goes through <see cref="Handle"/>. Id 0 is the peer's
/// extension handshake (kept: its ids, <c>p</c>, <c>reqq</c>, <c>metadata_size</c>, <c>v</c>); our own ids
/// (<see cref="LocalExtensions"/>) go to one handler each, <see cref="MetadataServer"/> and
/// <see cref="PexExchange"/>; any other id is ignored (BEP 10). A private torrent offers neither extension, so
/// their ids are unknown there too. What we send uses the id from the peer's handshake; before it, or when the
/// peer did not list the extension, nothing is sent. Plain state owned by <see cref="PeerActor"/>.
/// </summary>
internal sealed class ExtensionDispatcher
{
    private readonly MetadataServer? _metadata;
    private readonly PexExchange? _pex;
    private readonly Action<byte, byte[]> _send;
    private readonly Func<long> _unsentBytes;

    /// <param name="info">The info dictionary we serve (the metainfo's RawInfo).</param>
    /// <param name="unsentBytes">The connection's unsent output, which bounds what ut_metadata answers.</param>
    /// <param name="send">Writes one extended message (the peer's id for it, the payload); the caller flushes.</param>
    public ExtensionDispatcher(bool isPrivate, ReadOnlyMemory<byte> info, Func<long> unsentBytes, Action<byte, byte[]> send)
    {
        _send = send;
        _unsentBytes = unsentBytes;
        if (!isPrivate)
        {
            _metadata = new MetadataServer(info);
            _pex = new PexExchange();
        }
    }

    /// <summary>The peer's extension handshake, once it came (a later one replaces it, as libtorrent allows).</summary>
    public ExtensionHandshake? Remote { get; private set; }

    /// <summary>The peer takes our ut_pex messages (it listed ut_pex, and the torrent is not private).</summary>
    public bool PeerTakesPex => _pex is not null && PeerId(LocalExtensions.UtPex) != 0;

    /// <summary>Handles one extended message (<paramref name="id"/> is the extended id byte as received).</summary>
    public ExtensionResult Handle(byte id, byte[] payload, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (id == 0)
        {
            if (!ExtensionHandshake.TryParse(new(payload), out var handshake, out var error))
            {
                return new ExtensionResult(Error: error);
            }

            Remote = handshake;
            return new ExtensionResult(Handshake: handshake);
        }

        if (id == LocalExtensions.UtMetadataId && _metadata is not null)
        {
            return OnMetadata(payload);
        }

        if (id == LocalExtensions.UtPexId && _pex is not null)
        {
            return _pex.TryReceive(payload, now, out var pex, out var error)
                ? new ExtensionResult(Pex: pex)
                : new ExtensionResult(Error: error);
        }

        return ExtensionResult.Nothing;
    }

    /// <summary>Sends <paramref name="message"/> if the peer takes PEX; returns whether it was written.</summary>
    public bool SendPex(PexMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!PeerTakesPex)
        {
            return false;
        }

        _send(PeerId(LocalExtensions.UtPex), message.Encode());
        return true;
    }

    private ExtensionResult OnMetadata(byte[] payload)
    {
        if (!MetadataMessage.TryParse(new(payload), out var message, out var unknownType, out var error))
        {
            return new ExtensionResult(Error: error);
        }

        // Data and reject answer requests of a metadata fetch, which this connection never makes (the torrent has
        // its metadata); an unknown msg_type is ignored, as BEP 9 asks.
        if (unknownType || message.Type != MetadataMessageType.Request)
        {
            return ExtensionResult.Nothing;
        }

        if (!_metadata!.TryAnswer(message.Piece, _unsentBytes(), out var reply, out error))
        {
            return new ExtensionResult(Error: error);
        }

        // A peer that never said which id it takes ut_metadata as cannot be answered.
        var peerId = PeerId(LocalExtensions.UtMetadata);
        if (peerId != 0)
        {
            _send(peerId, reply);
        }

        return ExtensionResult.Nothing;
    }

    private byte PeerId(string extension) => Remote?.IdOf(extension) ?? 0;
}
