using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Peers;

/// <summary>
/// The uploading half of the Active state: our choke of the peer, its interest in us, its requests (validated,
/// queued, read through the writer off the routing threads, sent as piece messages) and the seed-to-seed check.
/// </summary>
public sealed partial class PeerActor
{
    /// <summary>Blocks read from the disk by one message to the writer (one task, one scatter read per run): the
    /// reads of a burst go out as several such batches, so the first comes back and is sent while the next are
    /// read. In the seed bench (1 GiB, 4 leechers) a 512 KiB send bound (bta.upload.max-unsent-per-peer) with 8
    /// blocks a batch was as fast as 1 MiB with 16 (0.99x against 1.00x the libtorrent seeder's time, 5 rounds)
    /// and faster than 256 KiB with 8 (0.97x against 1.19x, 3 rounds).</summary>
    internal const int ReadBatchBlocks = 8;

    /// <summary>Unsent bytes (pieces and rejects) beyond which a peer that still sends requests is closed: it
    /// does not read what we send. Twice the send bound, which only pieces count against.</summary>
    private long MaxOwedBytes => 2 * _settings.Upload.MaxUnsentPerPeer;

    /// <summary>Requests refused while choked or for pieces we lack, in multiples of the queue limit, that make a
    /// flood (counted from the last unchoke): requests already on the way when we choke stay well under it.</summary>
    internal const int RequestFloodFactor = 4;

    private const string UploadWaitTimerKey = "upload-wait";

    private readonly UploadQueue _uploads;
    private readonly RateMeter _uploadRate;
    private readonly RateLimiter _uploadLimit;
    private readonly Bitfield _ourPieces;
    private readonly Bitfield _peerPieces;
    private bool _amChoking = true;
    private bool _peerInterested;
    private bool _uploadWaiting;
    private long _drainWakeups;
    private long _uploadedUnreported;
    private int _refusedRequests;

    private void Uploading()
    {
        Receive<RequestsArrived>(m => OnPeerRequests(m.Blocks));
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.Cancel, m => OnPeerCancel(BlockOf(m)));
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.Interested, _ => OnPeerInterest(true));
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.NotInterested, _ => OnPeerInterest(false));
        Receive<SetChoke>(m => OnSetChoke(m.Choke));
        Receive<FileWriterActor.BlockRead>(OnBlockRead);
        Receive<FileWriterActor.BlocksRead>(OnBlocksRead);
        Receive<FileWriterActor.BlockReadFailed>(OnBlockReadFailed);
        Receive<OutboxDrained>(_ =>
        {
            _drainWakeups++;
            PumpUploads();
        });
        Receive<UploadWaitOver>(m => OnUploadWaitOver(m.Block));
        Receive<GetUploadState>(_ => Sender.Tell(new UploadState(
            _uploads.Count - _uploads.Reading, _uploads.Reading, _connection!.UnsentBytes, _drainWakeups)));
    }

    /// <summary>Right after the handshake: what we have, as compactly as the peer understands.</summary>
    private void SendOurPieces()
    {
        if (_fastAgreed && _ourPieces.IsComplete)
        {
            _connection!.SendHaveAll();
        }
        else if (_fastAgreed && _ourPieces.IsEmpty)
        {
            _connection!.SendHaveNone();
        }
        else if (!_ourPieces.IsEmpty)
        {
            // Without BEP 6 an empty bitfield may be left out (BEP 3).
            _connection!.SendBitfield(_ourPieces);
        }
    }

    // A burst of requests from one read: all are queued (or refused) first, then one pump reads them in runs and
    // one flush sends the rejects.
    private void OnPeerRequests(BlockRequest[] blocks)
    {
        var rejected = false;
        foreach (var block in blocks)
        {
            switch (AdmitRequest(block))
            {
                case null:
                    // Closed: the rest of the burst is moot.
                    return;
                case true:
                    break;
                case false:
                    rejected = true;
                    break;
            }
        }

        if (rejected)
        {
            Flush();
        }

        PumpUploads();
    }

    // Queues one request or refuses it: true when queued, false when refused (a reject may be written, not yet
    // flushed), null when the peer was closed for it.
    private bool? AdmitRequest(BlockRequest block)
    {
        var (verdict, reason) = _uploads.Validate(block, _ourPieces, _context.Metainfo.GetPieceSize, _amChoking);
        switch (verdict)
        {
            case RequestVerdict.Close:
                Misbehave(reason);
                return null;
            case RequestVerdict.QueueFull:
                // Back-pressure, never a ban: a deep pipeliner gets the reject and asks again later, and one
                // without the fast extension times the request out. With BEP 6 the reject is owed (a request
                // neither served nor rejected stalls the peer for good, it waits for it), 17 bytes each: a peer
                // that keeps requesting but does not read what we send is closed before those pile up.
                if (_fastAgreed)
                {
                    if (_connection!.UnsentBytes > MaxOwedBytes)
                    {
                        Close($"{_connection.UnsentBytes} bytes unsent while the peer keeps requesting");
                        return null;
                    }

                    _connection.SendReject(block);
                }

                return false;
            case RequestVerdict.Refuse:
                // Refusals are cheap for us, but endless ones are a flood.
                var floodLimit = RequestFloodFactor * _settings.Upload.MaxRequestsPerPeer;
                if (++_refusedRequests > floodLimit)
                {
                    Misbehave($"more than {floodLimit} refused requests");
                    return null;
                }

                _log.Debug("Peer {EndPoint}: refused {Reason}", _remote, reason);
                if (_fastAgreed)
                {
                    _connection!.SendReject(block);
                }

                return false;
            default:
                _uploads.Enqueue(block);
                return true;
        }
    }

    private void OnPeerCancel(BlockRequest block)
    {
        // A cancelled read no longer counts against the send bound, so a queued request may now fit.
        if (_uploads.Cancel(block))
        {
            PumpUploads();
        }
    }

    private void OnPeerInterest(bool interested)
    {
        if (interested != _peerInterested)
        {
            _peerInterested = interested;
            _coordinator.Tell(new InterestChanged(Self, interested));
        }
    }

    private void OnSetChoke(bool choke)
    {
        if (choke == _amChoking)
        {
            return;
        }

        _amChoking = choke;
        _connection!.SendChoke(choke);
        if (choke)
        {
            // BEP 3: a choke discards the peer's queue; BEP 6 peers are told block by block. Reads under way
            // come back to a queue that no longer wants them and are dropped.
            foreach (var dropped in _uploads.Clear())
            {
                if (_fastAgreed)
                {
                    _connection.SendReject(dropped);
                }
            }
        }
        else
        {
            _refusedRequests = 0;
        }

        Flush();
    }

    /// <summary>Reads the next queued blocks while the send bound and the upload limit allow, up to
    /// <see cref="ReadBatchBlocks"/> of them with each message to the writer.</summary>
    private void PumpUploads()
    {
        List<BlockRequest>? reads = null;
        while (!_uploadWaiting && _uploads.HasQueued)
        {
            var unsent = _connection!.UnsentBytes;
            var reading = (long)_uploads.Reading * _settings.BlockSize;
            var bound = _settings.Upload.MaxUnsentPerPeer;
            if (unsent + reading >= bound)
            {
                // Wait on what holds the bound. Blocks being read are freed by OnBlock(s)Read, which pumps again;
                // bytes in the outbox by the send loop, which is asked to say when one more block fits. When the
                // reads alone hold the bound, no draining can help: asking then was answered at once, and again
                // after every pump, a self-message loop that burned a core until the reads came back.
                var lowWater = bound - reading - _settings.BlockSize;
                if (lowWater >= 0 && unsent > lowWater)
                {
                    _connection.NotifyWhenDrained(lowWater);
                }

                break;
            }

            _uploads.TryStartRead(out var block);
            var wait = _uploadLimit.Reserve(block.Length);
            if (wait > TimeSpan.Zero)
            {
                // The bytes are booked; the read waits for their turn without blocking the mailbox.
                _uploadWaiting = true;
                Timers.StartSingleTimer(UploadWaitTimerKey, new UploadWaitOver(block), wait);
                break;
            }

            (reads ??= new List<BlockRequest>(ReadBatchBlocks)).Add(block);
            if (reads.Count == ReadBatchBlocks)
            {
                _writer.Tell(new FileWriterActor.ReadBlocks([.. reads], Self));
                reads.Clear();
            }
        }

        if (reads is { Count: > 0 })
        {
            _writer.Tell(new FileWriterActor.ReadBlocks([.. reads], Self));
        }
    }

    private void OnUploadWaitOver(BlockRequest block)
    {
        _uploadWaiting = false;
        if (_uploads.IsReading(block))
        {
            _writer.Tell(new FileWriterActor.ReadBlock(block, Self));
        }

        PumpUploads();
    }

    private void OnBlockRead(FileWriterActor.BlockRead message)
    {
        SendRead(message);
        Flush();
        PumpUploads();
    }

    // One flush and one pump for the whole batch: the send loop wakes once for all its blocks.
    private void OnBlocksRead(FileWriterActor.BlocksRead message)
    {
        foreach (var read in message.Blocks)
        {
            SendRead(read);
        }

        Flush();
        PumpUploads();
    }

    // Sends the block unless it was cancelled or choked meanwhile; releases its buffer either way.
    private void SendRead(FileWriterActor.BlockRead message)
    {
        var data = message.Data;
        try
        {
            if (!_uploads.FinishRead(message.Block))
            {
                return;
            }

            _connection!.SendPiece(data);
        }
        finally
        {
            data.Release();
        }

        _uploadedUnreported += message.Block.Length;
        _uploadRate.Add(message.Block.Length, Now());
    }

    private void OnBlockReadFailed(FileWriterActor.BlockReadFailed message)
    {
        if (!_uploads.FinishRead(message.Block))
        {
            PumpUploads();
            return;
        }

        _log.Warning("Could not read block {Block} for peer {EndPoint}: {Reason}", message.Block, _remote, message.Reason);
        if (_fastAgreed)
        {
            _connection!.SendReject(message.Block);
            Flush();
        }

        PumpUploads();
    }

    private void OnPeerPieces(Bitfield? pieces)
    {
        if (pieces is null)
        {
            return;
        }

        foreach (var piece in pieces.GetSetIndices())
        {
            _peerPieces.Set(piece);
        }

        CloseIfBothSeeds();
    }

    /// <summary>Two seeds have nothing to trade: the connection only costs both a slot.</summary>
    private void CloseIfBothSeeds()
    {
        ReportIfSeed();
        if (_ourPieces.IsComplete && _peerPieces.IsComplete)
        {
            _coordinator.Tell(new BothSeeds(_remote));
            Close("both sides are seeds");
        }
    }

    private sealed record UploadWaitOver(BlockRequest Block);
}
