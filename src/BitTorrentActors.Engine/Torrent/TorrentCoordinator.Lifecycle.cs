using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Trackers;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>Checking, downloading, completion, seeding, stopping and failing.</summary>
public sealed partial class TorrentCoordinator
{
    private void OnCheckCompleted(FileWriterActor.CheckCompleted message)
    {
        if (Bitfield.FromWire(message.VerifiedPieces.Span, _context.PieceCount) is { } onDisk)
        {
            foreach (var piece in onDisk.GetSetIndices())
            {
                _verified.Set(piece);
            }
        }
        _verifiedBytes = message.VerifiedBytes;
        CountWanted();
        _observer.Tell(new Checked(_verified.Count, _context.PieceCount));
        if (_options.CheckOnly)
        {
            Publish();
            BeginStop(_observer);
            return;
        }
        _scheduler.Tell(new PieceSchedulerActor.Start(message.VerifiedPieces));
        if (_parts.Tracker is { } tracker && _context.Metainfo.AnnounceTiers.Count > 0)
        {
            _tracker = Context.Watch(Context.ActorOf(tracker(_context, Self), "tracker"));
            _tracker.Tell(new TrackerActor.UpdateTransfer(0, 0, Left));
        }
        if (WantedComplete)
        {
            OnComplete();
            return;
        }
        Become(Downloading);
        Publish();
        ConnectMore();
    }

    private void OnPieceVerified(FileWriterActor.PieceVerified message)
    {
        if (!_verified.Set(message.Piece))
        {
            return;
        }
        _verifiedBytes += _context.Metainfo.GetPieceSize(message.Piece);
        if (_piecePriorities[message.Piece] != 0)
        {
            _wantedVerifiedBytes += _context.Metainfo.GetPieceSize(message.Piece);
            _wantedMissing--;
        }
        _scheduler.Tell(new PieceSchedulerActor.PieceVerified(message.Piece));
        var have = new PeerActor.AnnounceHave(message.Piece);
        foreach (var peer in _peers.Keys)
        {
            peer.Tell(have);
        }
        if (WantedComplete && _state == TorrentState.Downloading)
        {
            OnComplete();
        }
    }

    /// <summary>
    /// While downloading: when no block has arrived for the stall-warning time although peers are connected,
    /// log once what explains it (each peer's state here and the scheduler's), so a stalled download is never a
    /// silent one. Logged again only after blocks flowed in between.
    /// </summary>
    private void DetectStall()
    {
        var now = Stopwatch.GetElapsedTime(0);
        if (_state != TorrentState.Downloading || _meter.Downloaded != _stallDownloaded || _peers.Count == 0)
        {
            _stallDownloaded = _meter.Downloaded;
            _stallSince = now;
            _stallLogged = false;
            return;
        }
        if (_stallLogged || now - _stallSince < _context.Settings.Download.StallWarning)
        {
            return;
        }
        _stallLogged = true;
        _log.Warning("No block for {Seconds:0} s while downloading {Name} with {Peers} peers ({Known} known); their state:",
            (now - _stallSince).TotalSeconds, _context.Metainfo.Name, _peers.Count, _roster.Known);
        foreach (var peer in _peers.Values)
        {
            _log.Warning("Peer {EndPoint} ({Client}): {Flags}, down {Down} B/s, up {Up} B/s",
                peer.EndPoint, peer.Id?.ClientName ?? "?",
                $"{(peer.Incoming ? "incoming" : "outgoing")}, handshake {(peer.Id is null ? "pending" : "done")}, "
                + $"{(peer.Unchoked ? "unchoked" : "choked")} by us, {(peer.Interested ? "interested" : "not interested")}",
                peer.DownloadRate, peer.UploadRate);
        }
        _scheduler.Tell(PieceSchedulerActor.LogState.Instance);
    }

    /// <summary>Complete and not seeding: report, dial nobody.</summary>
    private void OnQuietTick()
    {
        _meter.Sample();
        _tracker?.Tell(new TrackerActor.UpdateTransfer(_meter.Uploaded, _meter.Downloaded, Left));
        Publish();
    }

    private void OnTick()
    {
        _meter.Sample();
        DetectStall();
        _tracker?.Tell(new TrackerActor.UpdateTransfer(_meter.Uploaded, _meter.Downloaded, Left));
        Publish();
        ConnectMore();
        CheckSeedRatio();
    }

    /// <summary>What the tracker hears as <c>left</c>: the wanted bytes still missing (libtorrent and
    /// Transmission report the same, so a partial download is not counted as a leecher of the rest).</summary>
    private long Left => _wantedBytes - _wantedVerifiedBytes;

    /// <summary>A new file selection: the scheduler and writer follow; a torrent that wants more than it has
    /// goes back to downloading, one that now has all it wants completes.</summary>
    private void OnSetFiles(FileSelection files)
    {
        if (files.FileCount != _context.Metainfo.Files.Count)
        {
            _log.Warning("Ignored a file selection of {Count} files for {Name} ({Files} files)", files.FileCount,
                _context.Metainfo.Name, _context.Metainfo.Files.Count);
            return;
        }
        _files = files;
        _piecePriorities = files.PiecePriorities(_context.Metainfo);
        CountWanted();
        _writer.Tell(new FileWriterActor.SetWantedFiles(files.Wanted));
        _scheduler.Tell(new PieceSchedulerActor.SetPiecePriorities(_piecePriorities));
        if (_state is TorrentState.Completed or TorrentState.Seeding && !WantedComplete)
        {
            // Transmission does the same: wanting a file again resumes the download.
            Become(Downloading);
            _completionReported = false;
            ConnectMore();
        }
        else if (_state == TorrentState.Downloading && WantedComplete)
        {
            OnComplete();
        }
        Publish();
    }

    private void OnSetLimits(SetLimits message)
    {
        if (message.DownloadLimit is { } down)
        {
            _downloadLimit.SetRate(down);
        }
        if (message.UploadLimit is { } up)
        {
            _uploadLimit.SetRate(up);
        }
    }

    private void OnComplete()
    {
        // BEP 3: 'completed' only when a download finishes here, not when the check finds the data already there.
        if (_state == TorrentState.Downloading)
        {
            AnnounceToTracker(AnnounceEvent.Completed);
        }
        _log.Info("Torrent {Name} complete: {Bytes} bytes verified in {Elapsed}", _context.Metainfo.Name,
            _context.Metainfo.TotalLength, _elapsed.Elapsed);
        if (_options.Seed)
        {
            // Peers stay: each one closes itself if it is a seed too (nothing to trade), the rest are served.
            Become(Seeding);
            _log.Info("Seeding {Name}", _context.Metainfo.Name);
            OnReportCompletion();
            OnRechoke();
            ConnectMore();
            CheckSeedRatio();
            return;
        }
        // Not seeding: the connections only cost the peers a slot.
        Become(Finished);
        StopAllPeers();
        if (_peers.Count == 0)
        {
            Self.Tell(ReportCompletion.Instance);
        }
    }

    private void OnReportCompletion()
    {
        if (_completionReported)
        {
            return;
        }
        _completionReported = true;
        _meter.Sample();
        Publish();
        _observer.Tell(new Completed(_context.Metainfo.TotalLength, _meter.Downloaded, _elapsed.Elapsed));
    }

    private void CheckSeedRatio()
    {
        if (_state != TorrentState.Seeding || _ratioReported || _seedRatio is not { } target)
        {
            return;
        }
        var ratio = _meter.Uploaded / (double)Math.Max(1, _context.Metainfo.TotalLength);
        if (ratio >= target)
        {
            _ratioReported = true;
            _log.Info("Seed ratio {Ratio:0.00} reached ({Uploaded} bytes uploaded)", ratio, _meter.Uploaded);
            _observer.Tell(new SeedRatioReached(_meter.Uploaded, ratio));
        }
    }

    private void Fail(string reason)
    {
        if (_state == TorrentState.Failed)
        {
            return;
        }
        Become(Halted);
        _log.Error("Torrent {Name} failed: {Reason}", _context.Metainfo.Name, reason);
        StopAllPeers();
        Publish();
        _observer.Tell(new Failed(reason));
    }

    private void BeginStop(IActorRef requester)
    {
        _stopRequester = requester;
        Become(Stopping);
        StopAllPeers();
        // The writer finishes the writes under way, saves resume data claiming them, and stops (a phase of its own).
        _writer.Tell(FileWriterActor.StopAfterSave.Instance);
        Timers.StartSingleTimer("stop", StopTimedOut.Instance, _context.Settings.Tracker.Timeout + TimeSpan.FromSeconds(1));
        if (_tracker is null)
        {
            FinishStop();
            return;
        }
        _tracker.Tell(new TrackerActor.UpdateTransfer(_meter.Uploaded, _meter.Downloaded, Left));
        _tracker.Tell(TrackerActor.AnnounceStopped.Instance);
    }

    /// <summary>Replies once the tracker heard <c>stopped</c> (or is gone) and every peer has stopped, so their
    /// last transfer reports are in the totals; the stop timer forces it.</summary>
    private void FinishStop(bool force = false)
    {
        if (_stopRequester is null)
        {
            return;
        }
        if (!force && (_peers.Count > 0 || (_tracker is not null && !_trackerStopped) || !_writerStopped))
        {
            return;
        }
        _meter.Sample();
        _stopRequester.Tell(new Stopped(_meter.Uploaded, _meter.Downloaded));
        _stopRequester = null;
        Context.Stop(Self);
    }
}
