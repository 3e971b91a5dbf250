using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>What every actor of one torrent needs to know, fixed for the torrent's lifetime.</summary>
/// <param name="DownloadDirectory">The folder the user named; the torrent's files land under it as
/// <c>TorrentFile.Path</c> says (a multi-file torrent inside its name folder).</param>
/// <param name="ListenPort">The port we announce and accept on (the settings' port unless overridden).</param>
public sealed record TorrentContext(
    TorrentMetainfo Metainfo,
    PeerId LocalPeerId,
    string DownloadDirectory,
    BtaSettings Settings,
    int ListenPort)
{
    public InfoHash InfoHash => Metainfo.InfoHash;

    public int PieceCount => Metainfo.PieceCount;
}
