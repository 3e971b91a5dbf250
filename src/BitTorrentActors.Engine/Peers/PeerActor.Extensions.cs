using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Peers.Extensions;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Extensions;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Peers;

/// <summary>
/// The BEP 10 half of the Active state, for a peer that set the extension bit: our extension handshake right
/// after the bitfield, and every Extended frame handed to the <see cref="ExtensionDispatcher"/> (ut_metadata
/// served from the metainfo, ut_pex both ways). A malformed extended message closes this peer only.
/// </summary>
public sealed partial class PeerActor
{
    /// <summary>To the coordinator once the peer's extension handshake came: its listen port (so an incoming
    /// peer can be advertised through PEX), whether it takes our PEX messages, and whether it says it only
    /// uploads (a seed).</summary>
    public sealed record ExtensionsAgreed(IActorRef Peer, int? ListenPort, bool TakesPex, bool UploadOnly);

    /// <summary>To the coordinator once the peer has every piece: a seed, flagged so in the PEX we send.</summary>
    public sealed record PeerIsSeed(IActorRef Peer);

    /// <summary>From the coordinator: send this PEX message (dropped when the peer does not take PEX).</summary>
    public sealed record SendPex(PexMessage Message);

    private ExtensionDispatcher? _extensions;
    private bool _seedReported;

    private void Extending()
    {
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.Extended, m => OnExtended(m.ExtendedId, m.Payload ?? []));
        Receive<SendPex>(m =>
        {
            if (_extensions?.SendPex(m.Message) == true)
            {
                Flush();
            }
        });
    }

    private void StartExtensions()
    {
        var metainfo = _context.Metainfo;
        _extensions = new ExtensionDispatcher(metainfo.IsPrivate, metainfo.RawInfo, () => _connection!.UnsentBytes,
            (id, payload) => _connection!.SendExtended(id, payload));
        var ours = LocalExtensions.Handshake(metainfo.IsPrivate, metainfo.RawInfo.Length, _context.ListenPort,
            _settings.Upload.MaxRequestsPerPeer, _remote.Address);
        _connection!.SendExtended(0, ours.Encode());
    }

    private void OnExtended(byte id, byte[] payload)
    {
        if (_extensions is null)
        {
            // BEP 10: extended messages only after both handshakes set the bit.
            Misbehave($"extended message {id} without the extension bit in our handshakes");
            return;
        }

        var result = _extensions.Handle(id, payload, Now());
        if (result.Error is { } error)
        {
            Misbehave(error);
            return;
        }

        if (result.Handshake is { } handshake)
        {
            OnExtensionHandshake(handshake);
        }
        else if (result.Pex is { Added.Count: > 0 } pex)
        {
            _coordinator.Tell(new TorrentCoordinator.PeersDiscovered(_context.InfoHash,
                pex.Added.Select(p => p.EndPoint).ToArray(), PeerSource.Pex));
            if (pex.Offered > pex.Added.Count)
            {
                _log.Debug("Peer {EndPoint}: PEX offered {Offered} peers, {Taken} taken", _remote, pex.Offered, pex.Added.Count);
            }
        }

        // A ut_metadata answer may have been written.
        Flush();
    }

    private void OnExtensionHandshake(ExtensionHandshake handshake)
    {
        _pipeline.PeerQueueLimit = handshake.RequestQueueLength;
        _log.Debug("Peer {EndPoint} extensions: {Extensions}, port {Port}, reqq {Reqq}, metadata {Size} bytes, client {Client}",
            _remote, string.Join(",", handshake.Extensions.Keys), handshake.ListenPort, handshake.RequestQueueLength,
            handshake.MetadataSize, handshake.Client);
        _coordinator.Tell(new ExtensionsAgreed(Self, handshake.ListenPort, _extensions!.PeerTakesPex, handshake.UploadOnly));
    }

    /// <summary>The coordinator flags seeds in the PEX it sends; told once per connection.</summary>
    private void ReportIfSeed()
    {
        if (!_seedReported && _peerPieces.IsComplete)
        {
            _seedReported = true;
            _coordinator.Tell(new PeerIsSeed(Self));
        }
    }
}
