using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Storage;

// The resume check and block reads, and the code that runs on worker tasks. Nothing here that runs off the actor
// touches actor fields: the tasks get what they need as arguments and answer with messages.
public sealed partial class FileWriterActor
{
    private void OnCheckRequested()
    {
        _checkWaiters.Add(Sender);
        TryStartCheck();
    }

    private void TryStartCheck()
    {
        // Only once no piece is being written, so the check never reads a half-written piece.
        if (_checking || _checkWaiters.Count == 0 || _inFlight.Count > 0)
        {
            return;
        }
        _checking = true;
        var storage = _storage;
        var store = _resumeStore;
        var metainfo = _metainfo;
        var wantedPieces = _wantedPieces;
        var cancellation = _stopping.Token;
        Task.Run(() =>
            {
                var outcome = ResumeCheck.Run(storage, store, metainfo, cancellation);
                var complete = true;
                foreach (var piece in Enumerable.Range(0, metainfo.PieceCount))
                {
                    if (outcome.Verified[piece])
                    {
                        storage.NoteVerified(piece);
                    }
                    else if (wantedPieces?[piece] ?? true)
                    {
                        complete = false;
                    }
                }
                // A complete torrent is seeded as it is, so its wanted zero-length files must exist too; one that
                // cannot be created (a read-only folder) is worth a warning, not the pieces found.
                var problems = complete ? storage.EnsureEmptyFiles() : [];
                return (outcome, problems);
            }, cancellation)
            .PipeTo(Self,
                success: r => new CheckFinished(r.outcome, r.problems, null),
                failure: ex => new CheckFinished(null, [], ex));
    }

    private void OnCheckFinished(CheckFinished message)
    {
        _checking = false;
        if (message.Outcome is { } outcome)
        {
            // The disk is the truth: a piece written earlier but since removed is missing again.
            _verified = outcome.Verified;
            RecountWantedLeft();
            DropAssembliesOfVerifiedPieces();
            TakeCheckOutcome(outcome);
            foreach (var problem in message.Problems)
            {
                _log.Warning("Could not create an empty file of the torrent: {Problem}", problem);
            }
        }
        else
        {
            _log.Error(message.Error, "Checking existing data failed; keeping {Count} known pieces", _verified.Count);
        }
        var bytes = 0L;
        foreach (var piece in _verified.GetSetIndices())
        {
            bytes += _metainfo.GetPieceSize(piece);
        }
        _log.Info("Checked existing data: {Count} of {PieceCount} pieces ({Bytes} bytes) verified",
            _verified.Count, _metainfo.PieceCount, bytes);
        var reply = new CheckCompleted(_verified.AsSpan().ToArray(), _verified.Count, bytes);
        foreach (var waiter in _checkWaiters)
        {
            waiter.Tell(reply);
        }
        _checkWaiters.Clear();
        StartReadyPieces();
    }

    // Blocks that arrived during the check for pieces it found on disk are not needed any more.
    private void DropAssembliesOfVerifiedPieces()
    {
        foreach (var assembly in _assembling.Values.Where(a => _verified[a.Piece]).ToList())
        {
            assembly.ReleaseAll();
            _assembling.Remove(assembly.Piece);
        }
        var ready = _ready.ToList();
        _ready.Clear();
        foreach (var assembly in ready)
        {
            if (_verified[assembly.Piece])
            {
                assembly.ReleaseAll();
            }
            else
            {
                _ready.Enqueue(assembly);
            }
        }
    }

    private void OnReadBlock(ReadBlock message)
    {
        if (RefuseRead(message.Block) is { } refused)
        {
            message.ReplyTo.Tell(refused);
            return;
        }
        var (storage, block, replyTo, self) = (_storage, message.Block, message.ReplyTo, Self);
        var offset = (long)block.Piece * _metainfo.PieceLength + block.Begin;
        // Replies straight from the task: the actor has nothing to update for a read.
        _ = Task.Run(() => replyTo.Tell(ReadBlockFromDisk(storage, block, offset), self));
    }

    // A peer's queued requests read in one task and answered in one message, not a task and two messages per 16 KiB
    // (65,536 of each per GiB seeded).
    private void OnReadBlocks(ReadBlocks message)
    {
        var replyTo = message.ReplyTo;
        var reads = new List<(BlockRequest Block, long Offset)>(message.Blocks.Length);
        foreach (var block in message.Blocks)
        {
            if (RefuseRead(block) is { } refused)
            {
                replyTo.Tell(refused);
            }
            else
            {
                reads.Add((block, (long)block.Piece * _metainfo.PieceLength + block.Begin));
            }
        }
        if (reads.Count == 0)
        {
            return;
        }
        var (storage, self) = (_storage, Self);
        _ = Task.Run(() =>
        {
            var done = new List<BlockRead>(reads.Count);
            var runStart = 0;
            for (var i = 1; i <= reads.Count; i++)
            {
                // A run of requests that follow each other on disk (a peer asks a piece's blocks in order) is one read.
                if (i < reads.Count && reads[i].Offset == reads[i - 1].Offset + reads[i - 1].Block.Length
                    && reads[i].Offset - reads[runStart].Offset < MaxReadRunBytes)
                {
                    continue;
                }
                if (!TryReadRun(storage, reads.GetRange(runStart, i - runStart), done))
                {
                    // Something in the run failed: each block on its own, so the good ones still go and each bad
                    // one gets its own reason.
                    foreach (var (block, offset) in reads.Skip(runStart).Take(i - runStart))
                    {
                        switch (ReadBlockFromDisk(storage, block, offset))
                        {
                            case BlockRead read:
                                done.Add(read);
                                break;
                            case var failed:
                                replyTo.Tell(failed, self);
                                break;
                        }
                    }
                }
                runStart = i;
            }
            if (done.Count > 0)
            {
                replyTo.Tell(new BlocksRead([.. done]), self);
            }
        });
    }

    /// <summary>The most one scatter read of consecutive requests covers.</summary>
    private const int MaxReadRunBytes = 1024 * 1024;

    // Reads consecutive blocks with one scatter read into their own buffers; false (nothing added) on any failure.
    private static bool TryReadRun(TorrentStorage storage, List<(BlockRequest Block, long Offset)> run, List<BlockRead> done)
    {
        var data = run.Select(r => BlockData.Rent(r.Block)).ToList();
        var ok = false;
        try
        {
            ok = storage.ReadRange(run[0].Offset, data.Select(d => d.Memory).ToList());
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
        if (!ok)
        {
            data.ForEach(d => d.Release());
            return false;
        }
        done.AddRange(run.Select((r, i) => new BlockRead(r.Block, data[i])));
        return true;
    }

    // Why the block may not be read, or null: only verified pieces, only ranges inside them.
    private BlockReadFailed? RefuseRead(BlockRequest block)
    {
        if ((uint)block.Piece >= (uint)_metainfo.PieceCount || !_verified[block.Piece])
        {
            return new BlockReadFailed(block, "piece not verified");
        }
        var pieceSize = _metainfo.GetPieceSize(block.Piece);
        if (block.Begin < 0 || block.Length <= 0 || block.Length > BtaSettings.MaxBlockSize
            || block.Begin > pieceSize - block.Length)
        {
            return new BlockReadFailed(block, "outside the piece");
        }
        return null;
    }

    private static object ReadBlockFromDisk(TorrentStorage storage, BlockRequest block, long offset)
    {
        var data = BlockData.Rent(block);
        try
        {
            if (storage.ReadRange(offset, data.Memory))
            {
                return new BlockRead(block, data);
            }
            data.Release();
            return new BlockReadFailed(block, "file missing or shorter than the torrent says");
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            data.Release();
            return new BlockReadFailed(block, ex.Message);
        }
    }

    // Runs on a worker task and owns the blocks of a piece whose hash matched: every buffer goes back to the pool
    // here, whatever happens. The write starts only after the previous piece's task finished, whatever its outcome.
    private static async Task<object> WriteVerifiedAsync(
        TorrentStorage storage, int piece, BlockData[] blocks, Task previousWrite, bool finishing)
    {
        try
        {
            await previousWrite.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            storage.WritePiece(piece, blocks.Select(b => (ReadOnlyMemory<byte>)b.Memory).ToArray());
            if (finishing)
            {
                storage.EnsureAllIntact();
            }
            // No piece covers a zero-length file: the first write creates them (a no-op afterwards).
            if (storage.EnsureEmptyFiles() is [var problem, ..])
            {
                return new PieceWriteFailed(piece, problem);
            }
            return new PieceWritten(piece);
        }
        catch (IOException ex)
        {
            // StorageIOException's message is already "<file>: <reason>".
            return new PieceWriteFailed(piece, ex.Message);
        }
        finally
        {
            foreach (var block in blocks)
            {
                block.Release();
            }
        }
    }
}
