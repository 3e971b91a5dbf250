using System.Diagnostics;
using Akka.Actor;
using BitTorrentActors.Engine.Peers;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>Driving the <see cref="Choker{TKey}"/>: rates and interest from the peers, a rechoke every
/// rechoke-interval, the optimistic unchoke rotated every optimistic-unchoke-interval.</summary>
public sealed partial class TorrentCoordinator
{
    private TimeSpan? _lastOptimisticRotation;

    private bool Choking => _state is TorrentState.Downloading or TorrentState.Seeding;

    private void OnTransferReport(PeerActor.TransferReport message)
    {
        _meter.Add(message.Downloaded, message.Uploaded);
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
        var candidates = _peers
            .Where(p => p.Value.Id is not null)
            .Select(p => new ChokeCandidate<IActorRef>(p.Key, p.Value.Interested, p.Value.DownloadRate, p.Value.UploadRate,
                IsNew: now - p.Value.Since < upload.OptimisticUnchokeInterval))
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

    private int InterestedUnchoked() => _peers.Values.Count(p => p.Interested && p.Unchoked);

    private static void SetChoke(IActorRef peer, PeerEntry entry, bool choke)
    {
        entry.Unchoked = !choke;
        peer.Tell(new PeerActor.SetChoke(choke));
    }
}
