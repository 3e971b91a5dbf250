using System.IO.Pipelines;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Peers;

/// <summary>
/// What a PeerActor needs beyond its collaborators: the pieces we can serve, the torrent's shared rate limiters,
/// and, for a connection a peer opened to us, the accepted transport with the peer's handshake still unread.
/// </summary>
/// <param name="OurPieces">Our verified pieces at spawn (the actor keeps its own copy, updated by AnnounceHave);
/// null means none.</param>
/// <param name="Incoming">Set for an incoming connection: no dialling, we answer the peer's handshake.</param>
public sealed record PeerSetup(
    Bitfield? OurPieces = null,
    RateLimiter? UploadLimit = null,
    RateLimiter? DownloadLimit = null,
    IDuplexPipe? Incoming = null)
{
    public static readonly PeerSetup Default = new();
}
