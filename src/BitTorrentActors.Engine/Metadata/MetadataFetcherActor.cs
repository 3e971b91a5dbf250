using System.Net;
using Akka.Actor;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Metadata;

/// <summary>
/// Fetches one magnet's info dictionary from its peers (BEP 9), then hands it to its owner (the session) and
/// stops. Takes peers from the link's <c>x.pe</c>, its trackers (<c>tr</c>), and
/// <see cref="Torrent.TorrentCoordinator.PeersDiscovered"/> (DHT, PEX, manual, as a coordinator would).
/// </summary>
public sealed partial class MetadataFetcherActor : ReceiveActor
{
    /// <summary>To the owner when the numbers change (at most once per progress interval).</summary>
    /// <param name="PeersConnected">Connections past the handshake.</param>
    /// <param name="PeersOffering">Of them, those whose extension handshake offers ut_metadata with a size.</param>
    /// <param name="PiecesTotal">0 until a peer told the size.</param>
    public sealed record FetchProgress(InfoHash InfoHash, int PeersConnected, int PeersOffering, int PiecesReceived, int PiecesTotal)
    {
        public double Fraction => PiecesTotal == 0 ? 0 : (double)PiecesReceived / PiecesTotal;
    }

    /// <summary>
    /// To the owner, once: the metadata passed its SHA-1 check against the info-hash and
    /// <see cref="TorrentMetainfo.Parse"/> accepted the torrent built around it. The fetcher then stops itself.
    /// </summary>
    /// <param name="TorrentFile"><see cref="MetadataTorrent.Build"/> of the info with the link's trackers, one tier
    /// each (as libtorrent adds a magnet's trackers).</param>
    /// <param name="Peers">The peers this fetcher was connected to or knew, for the coordinator to dial next.</param>
    public sealed record MetadataFetched(InfoHash InfoHash, byte[] TorrentFile, TorrentMetainfo Metainfo, IPEndPoint[] Peers)
        : INoSerializationVerificationNeeded;

    /// <summary>To the owner, once, when the torrent cannot be had from the metadata (it passed the hash but is not
    /// a valid torrent: every peer would send the same bytes). The fetcher then stops itself.</summary>
    public sealed record MetadataFailed(InfoHash InfoHash, string Reason);

    /// <summary>Stop fetching (the torrent was stopped or removed); the fetcher stops itself, nothing is sent.</summary>
    public sealed record StopFetching(InfoHash InfoHash) : Session.ITorrentCommand;

    /// <param name="owner">Receives <see cref="FetchProgress"/>, <see cref="MetadataFetched"/>, <see cref="MetadataFailed"/>.</param>
    /// <param name="transport">Defaults to the session's tracker transports (<see cref="MagnetContext.Services"/>).</param>
    public static Props Props(MagnetContext context, IActorRef owner, ITrackerTransport? transport = null) =>
        Akka.Actor.Props.Create(() => new MetadataFetcherActor(context, owner, transport));
}
