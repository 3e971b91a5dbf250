using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Akka.Actor;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Peers;

/// <summary>
/// One peer's transport. A read loop on the thread pool cuts the handshake and whole frames and tells the owning
/// actor one message per frame (the haves, the blocks and the requests of one read each batched into one); it never touches actor state. The actor
/// hands back one credit per message it processed (<see cref="Consumed"/>): with <see cref="MaxUnconsumed"/>
/// messages outstanding the loop stops reading, so a peer that floods us fills its own TCP window, not our
/// heap. Outgoing frames are written by the actor alone (see PeerConnection.Output.cs) into an unbounded outbox whose flush completes synchronously, and a send loop
/// hands the outbox to the transport (on a socket its segments in one gather write, <see cref="IGatherSend"/>), so
/// back-pressure from a slow socket never blocks the actor.
/// </summary>
public sealed partial class PeerConnection : IAsyncDisposable
{
    /// <summary>Credits (messages, and blocks for a message of blocks) told to the actor and not yet processed, at
    /// which the read loop stops reading: at most this many pooled blocks wait per peer.</summary>
    internal const int MaxUnconsumed = 128;

    /// <summary>Outstanding messages at or under which a stopped read loop resumes (not at once: fewer wake-ups).</summary>
    internal const int ResumeUnconsumed = MaxUnconsumed / 2;

    private readonly IDuplexPipe _transport;
    private readonly PeerWireReader _reader;
    private readonly Pipe _outbox;
    private readonly CancellationTokenSource _closing = new();
    private readonly RateLimiter? _downloadLimit;
    private readonly List<uint> _haves = [];
    private readonly List<BlockData> _blocks = [];
    private readonly List<BlockRequest> _requests = [];
    private IActorRef _owner = ActorRefs.Nobody;
    private Task _readLoop = Task.CompletedTask;
    private Task _sendLoop = Task.CompletedTask;
    private long _lastReceived = Stopwatch.GetTimestamp();
    private int _started;
    private int _disposed;
    private long _unsent;
    private int _drainWanted;
    private long _drainLowWater;
    private long _pieceBytesRead;
    private int _unconsumed;
    private TaskCompletionSource? _creditWanted;

    /// <param name="downloadLimit">The torrent's shared download limiter; the read loop waits on it (off the
    /// actor), so TCP back-pressure slows the peer down.</param>
    public PeerConnection(IDuplexPipe transport, int pieceCount, RateLimiter? downloadLimit = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        _transport = transport;
        _downloadLimit = downloadLimit;
        _reader = new PeerWireReader(pieceCount: pieceCount);
        // pauseWriterThreshold 0: FlushAsync never waits, so the actor can flush without awaiting. The outbox
        // only holds control frames while we are a leecher; the send loop applies the socket's back-pressure.
        _outbox = new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
    }

    /// <summary>Time since the last bytes arrived (any bytes, even part of a frame): the idle clock.</summary>
    public TimeSpan SinceLastReceived => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastReceived));

    /// <summary>Bytes written into the outbox that the send loop has not yet handed to the socket.</summary>
    public long UnsentBytes => Interlocked.Read(ref _unsent);

    /// <summary>Asks for one <see cref="PeerActor.OutboxDrained"/> once the unsent bytes fall to
    /// <paramref name="lowWater"/> or below (the actor stopped reading blocks because too much was unsent). A
    /// later call replaces the mark of one not yet answered.</summary>
    public void NotifyWhenDrained(long lowWater)
    {
        Volatile.Write(ref _drainLowWater, lowWater);
        Volatile.Write(ref _drainWanted, 1);
        // The loop may have drained everything before the flag was set: check once here too.
        if (UnsentBytes <= lowWater && Interlocked.Exchange(ref _drainWanted, 0) == 1)
        {
            _owner.Tell(PeerActor.OutboxDrained.Instance);
        }
    }

    /// <summary>The actor processed one message of the read loop's (an <see cref="PeerActor.IFromReadLoop"/>),
    /// which cost <paramref name="credits"/>.</summary>
    public void Consumed(int credits = 1)
    {
        if (Interlocked.Add(ref _unconsumed, -credits) <= ResumeUnconsumed)
        {
            Interlocked.Exchange(ref _creditWanted, null)?.TrySetResult();
        }
    }

    /// <summary>Messages told to the actor and not yet processed (tests).</summary>
    internal int Unconsumed => Volatile.Read(ref _unconsumed);

    /// <summary>Starts the read and send loops, once; every frame goes to <paramref name="owner"/>.</summary>
    public void Start(IActorRef owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The connection is already started.");
        }

        _owner = owner;
        _readLoop = Task.Run(() => ReadLoopAsync(owner));
        _sendLoop = Task.Run(() => SendLoopAsync(owner));
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        await _outbox.Writer.CompleteAsync().ConfigureAwait(false);
        try
        {
            // Wakes a read that is waiting for bytes; the loop completes the reader itself (thread-safe this way).
            _transport.Input.CancelPendingRead();
            await Task.WhenAll(_readLoop, _sendLoop).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The loops report their own failures to the actor; at disposal there is nobody left to tell.
        }

        try
        {
            if (_transport is IAsyncDisposable owned)
            {
                await owned.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // Closing an already broken socket can throw; disposal runs unobserved from PostStop, so swallow.
        }

        _closing.Dispose();
    }

    private async Task ReadLoopAsync(IActorRef owner)
    {
        var input = _transport.Input;
        var handshakeDone = false;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_closing.Token).ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    return;
                }

                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    Volatile.Write(ref _lastReceived, Stopwatch.GetTimestamp());
                }

                var failure = handshakeDone ? null : ReadHandshake(ref buffer, owner, out handshakeDone);
                // Frames often share a segment with the handshake (handshake + bitfield in one send).
                var behind = false;
                failure ??= handshakeDone ? ReadFrames(ref buffer, owner, out behind) : null;
                if (failure is not null)
                {
                    owner.Tell(new PeerActor.ConnectionFailed(failure));
                    return;
                }

                if (behind)
                {
                    // Whole frames are left: keep them unexamined, so the next read returns them at once, and
                    // read nothing more until the actor has caught up.
                    input.AdvanceTo(buffer.Start);
                    await WaitForCreditAsync().ConfigureAwait(false);
                    continue;
                }

                // Whatever was not consumed is an incomplete frame: keep it, and wait for more than we have seen.
                input.AdvanceTo(buffer.Start, buffer.End);

                // The download limit holds by not reading: the kernel buffer fills and TCP slows the peer.
                if (_downloadLimit is not null && _pieceBytesRead > 0)
                {
                    var bytes = _pieceBytesRead;
                    _pieceBytesRead = 0;
                    await _downloadLimit.WaitAsync(bytes, _closing.Token).ConfigureAwait(false);
                }

                if (result.IsCompleted)
                {
                    owner.Tell(new PeerActor.ConnectionClosed("end of stream"));
                    return;
                }
            }
        }
        catch (Exception) when (_closing.IsCancellationRequested)
        {
            // Closing: the socket may be closed under a pending read or send (see SocketTransport.SendAsync).
        }
        catch (Exception ex)
        {
            owner.Tell(new PeerActor.ConnectionClosed(ex.Message));
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
        }
    }

    private string? ReadHandshake(ref ReadOnlySequence<byte> buffer, IActorRef owner, out bool done)
    {
        done = false;
        switch (Handshake.TryRead(buffer, out var handshake, out var consumed))
        {
            case HandshakeReadStatus.Invalid:
                return "not a BitTorrent handshake";
            case HandshakeReadStatus.Complete:
                Interlocked.Increment(ref _unconsumed);
                owner.Tell(new PeerActor.HandshakeReceived(handshake!));
                buffer = buffer.Slice(consumed);
                done = true;
                return null;
            default:
                return null;
        }
    }

    /// <summary>Cuts every whole frame in <paramref name="buffer"/> while the actor keeps up (else sets
    /// <paramref name="behind"/> and leaves the rest); returns the reason on a protocol error.</summary>
    private string? ReadFrames(ref ReadOnlySequence<byte> buffer, IActorRef owner, out bool behind)
    {
        behind = false;
        try
        {
            while (true)
            {
                if (Volatile.Read(ref _unconsumed) + _blocks.Count >= MaxUnconsumed)
                {
                    behind = true;
                    return null;
                }

                switch (_reader.TryRead(ref buffer, out var frame, out var error))
                {
                    case PeerWireReadStatus.NeedMoreData:
                        return null;
                    case PeerWireReadStatus.ProtocolError:
                        return error.ToString();
                }

                // Frames reach the actor in wire order: a run of haves, of blocks or of requests is told before a
                // frame of another kind. At most one of the three runs is open at a time.
                if (frame.Kind == PeerMessageKind.Have)
                {
                    // A burst of haves (a flood, or a lazy bitfield) costs the actor one message, not one each.
                    TellBlocks(owner);
                    TellRequests(owner);
                    _haves.Add(frame.Index);
                    continue;
                }

                if (frame.Kind == PeerMessageKind.Request)
                {
                    TellHaves(owner);
                    TellBlocks(owner);
                    _requests.Add(new BlockRequest((int)frame.Index, (int)frame.Begin, (int)frame.Length));
                    continue;
                }

                if (frame.Kind == PeerMessageKind.Piece)
                {
                    TellHaves(owner);
                    TellRequests(owner);
                    _pieceBytesRead += frame.Length;
                    var data = BlockData.Rent(new BlockRequest((int)frame.Index, (int)frame.Begin, (int)frame.Length));
                    // The one and only copy of block bytes: off the socket buffer into the pooled block buffer
                    // (the payload slice is only valid until AdvanceTo).
                    frame.Payload.CopyTo(data.Memory.Span);
                    _blocks.Add(data);
                    continue;
                }

                var message = ToMessage(frame);
                if (message is not null)
                {
                    TellHaves(owner);
                    TellBlocks(owner);
                    TellRequests(owner);
                    Tell(owner, message, credits: 1);
                }
            }
        }
        finally
        {
            TellHaves(owner);
            TellBlocks(owner);
            TellRequests(owner);
        }
    }

    private void TellHaves(IActorRef owner)
    {
        if (_haves.Count > 0)
        {
            Tell(owner, new PeerActor.HavesArrived([.. _haves]), credits: 1);
            _haves.Clear();
        }
    }

    private void TellBlocks(IActorRef owner)
    {
        if (_blocks.Count > 0)
        {
            Tell(owner, new PeerActor.BlocksArrived([.. _blocks]), credits: _blocks.Count);
            _blocks.Clear();
        }
    }

    // A leecher sends its requests in bursts (libtorrent: hundreds in one segment). One message for the burst lets
    // the actor queue them all before it reads any, so the reads go to the disk in runs, not one 16 KiB read per
    // mailbox turn.
    private void TellRequests(IActorRef owner)
    {
        if (_requests.Count > 0)
        {
            Tell(owner, new PeerActor.RequestsArrived([.. _requests]), credits: 1);
            _requests.Clear();
        }
    }

    private void Tell(IActorRef owner, object message, int credits)
    {
        Interlocked.Add(ref _unconsumed, credits);
        owner.Tell(message);
    }

    /// <summary>Returns once the actor is down to <see cref="ResumeUnconsumed"/> outstanding messages.</summary>
    private async Task WaitForCreditAsync()
    {
        var wanted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _creditWanted, wanted);
        // The actor may have caught up before it could see the request: check once here too.
        if (Volatile.Read(ref _unconsumed) <= ResumeUnconsumed)
        {
            Interlocked.Exchange(ref _creditWanted, null)?.TrySetResult();
        }

        await wanted.Task.WaitAsync(_closing.Token).ConfigureAwait(false);
    }

    /// <summary>The frame as an immutable message; the payload slice is only valid until AdvanceTo, so it is copied.</summary>
    private static object? ToMessage(in PeerFrame frame)
    {
        switch (frame.Kind)
        {
            case PeerMessageKind.KeepAlive:
                // Only the idle clock cares, and the loop already moved it.
                return null;
            case PeerMessageKind.Extended:
                return new PeerActor.WireMessage(frame.Kind, Payload: frame.Payload.ToArray(), ExtendedId: frame.ExtendedId);
            case PeerMessageKind.Port:
                // BEP 5: the peer's DHT port, carried in Index (the message has no other field).
                return new PeerActor.WireMessage(frame.Kind, Index: frame.Port);
            case PeerMessageKind.Bitfield:
            case PeerMessageKind.Unknown:
                return new PeerActor.WireMessage(frame.Kind, frame.Index, frame.Begin, frame.Length, frame.Payload.ToArray());
            default:
                return new PeerActor.WireMessage(frame.Kind, frame.Index, frame.Begin, frame.Length);
        }
    }

    private async Task SendLoopAsync(IActorRef owner)
    {
        var outbox = _outbox.Reader;
        var output = _transport.Output;
        var send = _transport as IGatherSend ?? new PipeWriterSend(output);
        try
        {
            while (true)
            {
                var result = await outbox.ReadAsync().ConfigureAwait(false);
                var length = result.Buffer.Length;
                if (length > 0)
                {
                    // The outbox's segments return to its pool only once the transport has taken them.
                    var reading = await send.SendAsync(result.Buffer, _closing.Token).ConfigureAwait(false);
                    outbox.AdvanceTo(result.Buffer.End);
                    if (!reading)
                    {
                        owner.Tell(new PeerActor.ConnectionClosed("the peer stopped reading"));
                        return;
                    }

                    // Counted as sent once the transport took it (the socket's back-pressure is in that send).
                    if (Interlocked.Add(ref _unsent, -length) <= Volatile.Read(ref _drainLowWater) && Interlocked.Exchange(ref _drainWanted, 0) == 1)
                    {
                        owner.Tell(PeerActor.OutboxDrained.Instance);
                    }
                }
                else
                {
                    outbox.AdvanceTo(result.Buffer.End);
                }

                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception) when (_closing.IsCancellationRequested)
        {
            // Closing: the socket may be closed under a pending read or send (see SocketTransport.SendAsync).
        }
        catch (Exception ex)
        {
            owner.Tell(new PeerActor.ConnectionClosed("send failed: " + ex.Message));
        }
        finally
        {
            await outbox.CompleteAsync().ConfigureAwait(false);
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Any other transport (the tests' in-memory pipes): the outbox copied into its writer and flushed.</summary>
    private sealed class PipeWriterSend(PipeWriter output) : IGatherSend
    {
        public async ValueTask<bool> SendAsync(ReadOnlySequence<byte> buffers, CancellationToken cancellationToken)
        {
            foreach (var segment in buffers)
            {
                output.Write(segment.Span);
            }

            return !(await output.FlushAsync(cancellationToken).ConfigureAwait(false)).IsCompleted;
        }
    }
}
