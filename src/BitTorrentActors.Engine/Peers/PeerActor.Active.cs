using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Engine.Torrent.PieceSchedulerActor;

namespace BitTorrentActors.Engine.Peers;

/// <summary>The Active state: choke/interest, the request pipeline, timers and transfer accounting.</summary>
public sealed partial class PeerActor
{
    /// <summary>Blocks we never asked for that we tolerate before calling it a flood.</summary>
    internal const int MaxUnrequestedBlocks = 8;

    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(1);

    // The scheduler keeps every ask until it can serve it, so this is only a safety net: when nothing was
    // assigned for this long while blocks are still asked for, the ask is restated whole (Resync).
    private static readonly TimeSpan ReaskInterval = TimeSpan.FromSeconds(2);

    private readonly RequestPipeline _pipeline;
    private readonly RateMeter _downloadRate;
    private bool _peerChoking = true;
    private bool _amInterested;
    private int _asked;
    private TimeSpan _askedAt;
    private TimeSpan _lastSent;
    private TimeSpan? _firstBlockAt;
    private long _downloadedUnreported;
    private int _unrequestedBlocks;
    private bool _reportedRates;
    private long _havesReceived;
    private bool _dhtPortTaken;

    /// <summary>Have messages one peer may send: each piece a few times over, plus slack for a small torrent.</summary>
    private int MaxHaves => (4 * _context.PieceCount) + 64;

    private void Active()
    {
        Receive<BlocksArrived>(m => OnBlocks(m.Blocks));
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.Choke, _ => OnChoke());
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.Unchoke, _ => OnUnchoke());
        Receive<HavesArrived>(m => OnHaves(m.Pieces));
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.Bitfield, m => OnBitfield(m.Payload ?? []));
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.HaveAll, m => IfFast(m, () =>
        {
            _scheduler.Tell(new PeerHaveAll(Self));
            OnPeerPieces(Bitfield.AllSet(_context.PieceCount));
        }));
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.HaveNone, m => IfFast(m, () => _scheduler.Tell(new PeerHaveNone(Self))));
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.Reject, m => IfFast(m, () => OnReject(BlockOf(m))));
        Receive<WireMessage>(m => m.Kind is PeerMessageKind.Suggest or PeerMessageKind.AllowedFast, m => IfFast(m, () => { }));
        Uploading();
        Extending();
        Receive<WireMessage>(m => m.Kind == PeerMessageKind.Port, m => OnPort(m.Index));
        // Unknown ids: BEP 3 says ignore.
        Receive<WireMessage>(m => _log.Debug("Peer {EndPoint} sent {Kind}, ignored", _remote, m.Kind));
        Receive<SetInterest>(m => OnSetInterest(m.Interested));
        Receive<AssignBlocks>(m => OnAssign(m.Blocks));
        Receive<CancelBlocks>(m => OnCancel(m.Blocks));
        Receive<AnnounceHave>(m => OnAnnounceHave(m.Piece));
        Receive<Tick>(_ => OnTick());
        Receive<Report>(_ => ReportTransfer());
        Receive<ConnectionFailed>(m => Misbehave(m.Reason));
        Receive<ConnectionClosed>(m => Close(m.Reason));
    }

    /// <summary>BEP 5: the peer's DHT node listens on its address and this UDP port; the first PORT of a
    /// connection is passed to our node to ping (one per connection, so a peer cannot make us ping at will).</summary>
    private void OnPort(uint port)
    {
        if (_context.Dht is not { } dht || _dhtPortTaken || port is 0 or > ushort.MaxValue)
        {
            _log.Debug("Peer {EndPoint} sent PORT {Port}, ignored", _remote, port);
            return;
        }
        _dhtPortTaken = true;
        dht.Node.Tell(new Dht.DhtNodeActor.PingNode(new System.Net.IPEndPoint(_remote.Address, (int)port)));
    }

    /// <summary>
    /// The blocks of one read: those we wait for go to the writer in one message and are reported to the scheduler
    /// in one, with one ask for as many new ones. Per block that was a writer, a scheduler and an ask message, and an
    /// assignment back (one flush and one send-loop wake-up each).
    /// </summary>
    private void OnBlocks(BlockData[] blocks)
    {
        var expected = 0;
        string? violation = null;
        for (var i = 0; i < blocks.Length; i++)
        {
            var data = blocks[i];
            if (violation is not null)
            {
                data.Release();
                continue;
            }

            var block = data.Block;
            _downloadedUnreported += block.Length;
            switch (_pipeline.Arrive(block))
            {
                case Arrival.Expected:
                    // Kept in place: the array's first `expected` entries are the blocks to write.
                    blocks[expected++] = data;
                    _downloadRate.Add(block.Length, Now());
                    break;
                case Arrival.Late:
                    data.Release();
                    break;
                case Arrival.WrongLength:
                    data.Release();
                    violation = $"block {block} does not match the length requested";
                    break;
                default:
                    data.Release();
                    if (++_unrequestedBlocks > MaxUnrequestedBlocks)
                    {
                        violation = $"more than {MaxUnrequestedBlocks} blocks we never requested";
                    }

                    break;
            }
        }

        if (expected > 0)
        {
            // Ownership of the buffers moves to the writer; the scheduler only hears which blocks they were.
            var written = expected == blocks.Length ? blocks : blocks[..expected];
            var received = new BlockRequest[expected];
            for (var i = 0; i < expected; i++)
            {
                received[i] = written[i].Block;
            }

            _writer.Tell(new FileWriterActor.WriteBlocks(Self, written));
            _scheduler.Tell(new BlocksReceived(Self, received));
            _firstBlockAt ??= Now();
        }

        if (violation is not null)
        {
            Misbehave(violation);
            return;
        }

        if (expected > 0)
        {
            TopUp();
        }
    }

    private void OnChoke()
    {
        if (_peerChoking)
        {
            return;
        }

        _peerChoking = true;
        // The peer drops our queue when it chokes (BEP 3); the scheduler releases the blocks on PeerChoked.
        _pipeline.ForgetAll();
        _asked = 0;
        _scheduler.Tell(new PeerChoked(Self));
    }

    private void OnUnchoke()
    {
        if (_peerChoking)
        {
            _peerChoking = false;
            _scheduler.Tell(new PeerUnchoked(Self));
        }

        TopUp();
    }

    private void OnHaves(uint[] pieces)
    {
        // An honest peer says have once per piece it gains; far more than that is a flood, not news.
        _havesReceived += pieces.Length;
        if (_havesReceived > MaxHaves)
        {
            Misbehave($"more than {MaxHaves} have messages for {_context.PieceCount} pieces");
            return;
        }

        foreach (var piece in pieces)
        {
            if (piece >= (uint)_context.PieceCount)
            {
                Misbehave($"have for piece {piece}, the torrent has {_context.PieceCount}");
                return;
            }

            // Only news reaches the scheduler: repeats cost one bit test here.
            if (_peerPieces.Set((int)piece))
            {
                _scheduler.Tell(new PeerHave(Self, (int)piece));
            }
        }

        CloseIfBothSeeds();
    }

    private void OnBitfield(byte[] payload)
    {
        _scheduler.Tell(new PeerBitfield(Self, payload));
        OnPeerPieces(Bitfield.FromWire(payload, _context.PieceCount));
    }

    private void OnReject(BlockRequest block)
    {
        // A reject for something we no longer wait for (cancelled meanwhile) needs nothing.
        if (_pipeline.Forget(block))
        {
            _scheduler.Tell(new BlocksReleased(Self, [block]));
        }
    }

    private void OnSetInterest(bool interested)
    {
        if (!interested)
        {
            // The scheduler dropped our asks with its interest: ask afresh if it comes back.
            _asked = 0;
        }

        if (interested == _amInterested)
        {
            return;
        }

        _amInterested = interested;
        _connection!.SendInterest(interested);
        Flush();
    }

    private void OnAssign(IReadOnlyList<BlockRequest> blocks)
    {
        _asked = Math.Max(0, _asked - blocks.Count);
        _askedAt = Now();
        if (_peerChoking)
        {
            // Choked while the scheduler was answering: the peer would ignore the requests.
            _scheduler.Tell(new BlocksReleased(Self, blocks));
            return;
        }

        var now = Now();
        var sent = false;
        foreach (var block in blocks)
        {
            // A block already outstanding is not requested twice; the peer would answer once.
            if (_pipeline.TryAdd(block, now))
            {
                _connection!.SendRequest(block);
                sent = true;
            }
        }

        if (sent)
        {
            Flush();
        }
    }

    private void OnCancel(IReadOnlyList<BlockRequest> blocks)
    {
        var sent = false;
        foreach (var block in blocks)
        {
            if (_pipeline.Forget(block))
            {
                _connection!.SendCancel(block);
                sent = true;
            }
        }

        if (sent)
        {
            Flush();
            TopUp();
        }
    }

    private void OnAnnounceHave(int piece)
    {
        if (!_ourPieces.Set(piece))
        {
            return;
        }

        _connection!.SendHave(piece);
        Flush();
        CloseIfBothSeeds();
    }

    private void OnTick()
    {
        var now = Now();
        if (_connection!.SinceLastReceived > _settings.Timeouts.Idle)
        {
            Close($"nothing received for {_settings.Timeouts.Idle}");
            return;
        }

        if (now - _lastSent >= _settings.KeepAliveInterval)
        {
            _connection.SendKeepAlive();
            Flush();
        }

        var resync = false;
        if (_pipeline.HasTimedOut(now, _settings.Timeouts.Request))
        {
            var released = _pipeline.Snub();
            // The pipeline shrank to one: what we asked for before no longer fits, so the ask is restated whole.
            _asked = 0;
            resync = true;
            _log.Debug("Peer {EndPoint} snubbed us: {Count} requests older than {Timeout} given back",
                _remote, released.Count, _settings.Timeouts.Request);
            _scheduler.Tell(new BlocksReleased(Self, released));
        }
        else if (_firstBlockAt is { } first)
        {
            _pipeline.Adapt(_downloadRate.BytesPerSecond(now), settled: now - first >= RateWindow);
        }

        if (_asked > 0 && now - _askedAt >= ReaskInterval)
        {
            _asked = 0;
            resync = true;
        }

        TopUp(resync);
    }

    /// <summary>Asks the scheduler for as many blocks as the pipeline has room for, minus those already asked for;
    /// with <paramref name="resync"/> the ask replaces all earlier ones (even when it is for none).</summary>
    private void TopUp(bool resync = false)
    {
        if (_peerChoking)
        {
            return;
        }

        var count = Math.Max(0, _pipeline.Room - _asked);
        if (count == 0 && !resync)
        {
            return;
        }

        _asked += count;
        _askedAt = Now();
        _scheduler.Tell(new RequestBlocks(Self, count, resync));
    }

    private void ReportTransfer()
    {
        // Batched once a second, and only when something moved or the rates the choker saw last must drop to 0.
        var now = Now();
        var downloadRate = _downloadRate.BytesPerSecond(now);
        var uploadRate = _uploadRate.BytesPerSecond(now);
        var moving = downloadRate > 0 || uploadRate > 0;
        if (_downloadedUnreported == 0 && _uploadedUnreported == 0 && !moving && !_reportedRates)
        {
            return;
        }

        _coordinator.Tell(new TransferReport(Self, _downloadedUnreported, _uploadedUnreported, downloadRate, uploadRate));
        _downloadedUnreported = 0;
        _uploadedUnreported = 0;
        _reportedRates = moving;
    }

    /// <summary>BEP 6 messages are a protocol violation unless both sides set the fast bit.</summary>
    private void IfFast(WireMessage message, Action handle)
    {
        if (_fastAgreed)
        {
            handle();
        }
        else
        {
            Misbehave($"{message.Kind} without the fast extension");
        }
    }

    private static BlockRequest BlockOf(WireMessage m) => new((int)m.Index, (int)m.Begin, (int)m.Length);
}
