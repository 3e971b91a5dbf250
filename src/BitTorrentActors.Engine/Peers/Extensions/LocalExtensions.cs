using System.Net;
using BitTorrentActors.Protocol.Extensions;

namespace BitTorrentActors.Engine.Peers.Extensions;

/// <summary>
/// The BEP 10 extensions bta speaks and the ids it asks peers to use for them (an id is chosen by the receiver, so
/// these are what peers send to us; what we send uses the id from the peer's own handshake). One place, so the
/// metadata fetcher's connections and the peer actors say the same thing.
/// </summary>
public static class LocalExtensions
{
    /// <summary>BEP 9 metadata exchange.</summary>
    public const string UtMetadata = "ut_metadata";

    /// <summary>BEP 11 peer exchange.</summary>
    public const string UtPex = "ut_pex";

    /// <summary>The id peers send ut_metadata messages to us as.</summary>
    public const byte UtMetadataId = 1;

    /// <summary>The id peers send ut_pex messages to us as.</summary>
    public const byte UtPexId = 2;

    /// <summary>The <c>v</c> we send: the name and the version in our peer id prefix (-BA0100-).</summary>
    public const string ClientName = "BitTorrentActors 0.1.0";

    /// <summary>
    /// Our extension handshake. A private torrent (BEP 27) offers neither ut_metadata nor ut_pex, as libtorrent and
    /// Transmission do: its peers come only from its trackers, and it already has its metadata.
    /// </summary>
    /// <param name="metadataSize">The info dictionary's length when we have it; null while fetching it.</param>
    /// <param name="listenPort">Our listen port, so the peer can give it to others through PEX (libtorrent only
    /// advertises peers whose port it knows).</param>
    /// <param name="requestQueueLength">How many requests we queue per peer (<c>reqq</c>).</param>
    /// <param name="remote">The peer's address, sent back as <c>yourip</c>.</param>
    public static ExtensionHandshake Handshake(bool isPrivate, long? metadataSize, int listenPort, int requestQueueLength, IPAddress? remote)
    {
        var extensions = new Dictionary<string, byte>(StringComparer.Ordinal);
        if (!isPrivate)
        {
            extensions[UtMetadata] = UtMetadataId;
            extensions[UtPex] = UtPexId;
        }
        return new ExtensionHandshake
        {
            Extensions = extensions,
            ListenPort = listenPort is > 0 and <= 65535 ? listenPort : null,
            Client = ClientName,
            RequestQueueLength = requestQueueLength > 0 ? requestQueueLength : null,
            MetadataSize = isPrivate ? null : metadataSize,
            YourIp = remote,
        };
    }
}
