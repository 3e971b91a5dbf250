using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Peers;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>Driving the <see cref="Choker{TKey}"/>: rates and interest from the peers, a rechoke every
/// rechoke-interval, the optimistic unchoke rotated every optimistic-unchoke-interval.</summary>
public sealed partial class TorrentCoordinator
{
    private TimeSpan? _lastOptimisticRotation;
    private PeerTurnover<IActorRef>? _turnoverBook;

    /// <summary>Connections idle for an optimistic interval are replaced; an unchoke slot is wasted after half a
    /// rechoke interval without a request answered.</summary>
    private PeerTurnover<IActorRef> Turnover => _turnoverBook ??= new(
        _context.Settings.Upload.OptimisticUnchokeInterval, _context.Settings.Upload.RechokeInterval / 2);

    private bool Choking => _state is TorrentState.Downloading or TorrentState.Seeding;

    private void OnTransferReport(PeerActor.TransferReport message)
    {
        _meter.Add(message.Downloaded, message.Uploaded);
        Turnover.Transferred(message.Peer, message.Downloaded, message.Uploaded, Stopwatch.GetElapsedTime(0));
        if (_peers.TryGetValue(message.Peer, out var entry))
        {
            entry.DownloadRate = message.DownloadRate;
            entry.UploadRate = message.UploadRate;
        }
    }

    private void OnInterestChanged(PeerActor.InterestChanged message)
    {
        if (!_peers.TryGetValue(message.Peer, out var entry))
        {
            return;
        }
        entry.Interested = message.Interested;
        // A leecher should not wait up to a rechoke interval for its first unchoke when a slot is free.
        if (message.Interested && !entry.Unchoked && Choking && _choker.HasFreeSlot(InterestedUnchoked()))
        {
            SetChoke(message.Peer, entry, choke: false);
        }
    }

    private void OnRechoke()
    {
        if (!Choking)
        {
            return;
        }
        var now = Stopwatch.GetElapsedTime(0);
        var upload = _context.Settings.Upload;
        var rotate = _lastOptimisticRotation is not { } last || now - last >= upload.OptimisticUnchokeInterval;
        if (rotate)
        {
            _lastOptimisticRotation = now;
        }
        EvictUselessPeers(now);
        var candidates = _peers
            .Where(p => p.Value.Id is not null)
            .Select(p => new ChokeCandidate<IActorRef>(p.Key, p.Value.Interested, p.Value.DownloadRate, p.Value.UploadRate,
                IsNew: now - p.Value.Since < upload.OptimisticUnchokeInterval, Wasting: Turnover.IsWasting(p.Key), ConnectedAt: p.Value.Since))
            .ToList();
        var unchoke = _choker.Rechoke(candidates, seeding: _state == TorrentState.Seeding, rotate);
        foreach (var (peer, entry) in _peers)
        {
            var shouldUnchoke = unchoke.Contains(peer);
            if (entry.Id is not null && shouldUnchoke == !entry.Unchoked)
            {
                SetChoke(peer, entry, choke: !shouldUnchoke);
            }
        }
    }

    /// <summary>A slot freed up (an unchoked peer left): give it to a waiting interested peer now.</summary>
    private void FillFreeSlots()
    {
        if (!Choking)
        {
            return;
        }
        foreach (var (peer, entry) in _peers.Where(p => p.Value.Interested && !p.Value.Unchoked && p.Value.Id is not null).ToList())
        {
            if (!_choker.HasFreeSlot(InterestedUnchoked()))
            {
                return;
            }
            SetChoke(peer, entry, choke: false);
        }
    }

    /// <summary>Peer turnover: closes connections that moved nothing for a while when someone could use the slot
    /// (their addresses may be dialled again after the usual backoff).</summary>
    private void EvictUselessPeers(TimeSpan now)
    {
        var connected = _peers
            .Where(p => p.Value.Id is not null)
            .Select(p => new TurnoverPeer<IActorRef>(p.Key, p.Value.Since, p.Value.Unchoked))
            .ToList();
        foreach (var peer in Turnover.Evict(connected, _roster.Waiting(DateTime.UtcNow), PeerLimit, now))
        {
            _log.Debug("Closing {EndPoint}: nothing moved for {Interval}, the slot goes to another peer",
                _peers[peer].EndPoint, _context.Settings.Upload.OptimisticUnchokeInterval);
            Context.Stop(peer);
        }
    }

    private int InterestedUnchoked() => _peers.Values.Count(p => p.Interested && p.Unchoked);

    private void SetChoke(IActorRef peer, PeerEntry entry, bool choke)
    {
        entry.Unchoked = !choke;
        Turnover.ChokeChanged(peer, !choke, Stopwatch.GetElapsedTime(0));
        peer.Tell(new PeerActor.SetChoke(choke));
    }
}
