using Akka.Actor;
using Akka.Event;

namespace BitTorrentActors.Engine.Storage;

// Stopping. Asked with StopAfterSave, it is a phase of the actor (a Become): no more blocks, the running writes
// finish, the resume file is saved claiming them, then the actor stops itself; no thread waits for anything, the
// disk's answers come back as messages. Stopped outright (its parent going away), PostStop saves at once when no
// write runs, else hands the save to a continuation of the running writes: it cannot wait for them there without
// blocking a dispatcher thread.
public sealed partial class FileWriterActor
{
    // Long enough for the last few piece writes and a save to finish at stop, short enough not to hold up shutdown.
    private static readonly TimeSpan _stopWait = TimeSpan.FromSeconds(2);

    private bool _stopRequested;
    private bool _finalSaveStarted;
    // The resume file needs nothing more at PostStop: saved by the phase, or deliberately left as it is.
    private bool _finalSaveDone;

    private void BeginStopping()
    {
        if (_stopRequested)
        {
            return;
        }
        _stopRequested = true;
        Timers.Cancel("save-resume");
        ReleaseWaitingPieces();
        _checkWaiters.Clear();
        Become(Stopping);
        if (_checking)
        {
            // What the check would have found is unknown: the resume file on disk stays as it is.
            _stopping.Cancel();
            _finalSaveDone = true;
            Context.Stop(Self);
            return;
        }
        Timers.StartSingleTimer("stop-wait", StopWaitElapsed.Instance, _stopWait);
        TryFinishStopping();
    }

    private void Stopping()
    {
        Receive<PieceWritten>(m =>
        {
            OnPieceWritten(m);
            TryFinishStopping();
        });
        Receive<PieceWriteFailed>(m =>
        {
            OnPieceDone(m.Piece, () => FailDisk(m.Reason));
            TryFinishStopping();
        });
        Receive<ResumeSaved>(m =>
        {
            OnResumeSaved(m);
            TryFinishStopping();
        });
        Receive<StopWaitElapsed>(_ =>
        {
            if (!_finalSaveStarted)
            {
                _log.Warning("{Count} piece writes still running after {Seconds} s at stop; they are not claimed",
                    _inFlight.Count, _stopWait.TotalSeconds);
                StartFinalSave();
            }
        });
        Receive<FinalSaved>(OnFinalSaved);
        Receive<WriteBlock>(m => m.Data.Release());
        Receive<WriteBlocks>(m => Array.ForEach(m.Blocks, b => b.Release()));
        Receive<ReadBlock>(m => m.ReplyTo.Tell(new BlockReadFailed(m.Block, "the torrent is stopping")));
        // A check finishing now was cancelled; selections, saves and stop requests have nothing left to change.
        ReceiveAny(_ => { });
    }

    private void TryFinishStopping()
    {
        if (!_finalSaveStarted && _inFlight.Count == 0 && _saveTask is not { IsCompleted: false })
        {
            StartFinalSave();
        }
    }

    private void StartFinalSave()
    {
        _finalSaveStarted = true;
        if (!_resumeDirty)
        {
            _finalSaveDone = true;
            Context.Stop(Self);
            return;
        }
        var (data, files) = TakeSnapshot();
        var storage = _storage;
        var store = _resumeStore;
        var save = Task.Run(() => Save(storage, store, data, files));
        // A save still running (the stop-wait elapsed) may land after this one: it claims less, never more.
        _saveTask = save;
        var pieces = data.Verified.Count;
        save.PipeTo(Self, success: _ => new FinalSaved(pieces, null), failure: ex => new FinalSaved(pieces, ex));
    }

    private void OnFinalSaved(FinalSaved message)
    {
        _finalSaveDone = true;
        if (message.Error is null)
        {
            _log.Debug("Resume file saved at stop: {Count} pieces verified", message.Pieces);
        }
        else
        {
            WarnSaveFailed(" at stop", message.Error);
        }
        Context.Stop(Self);
    }

    private void WarnSaveFailed(string when, Exception error)
    {
        // Once per run: a folder that refuses one save refuses them all, and the data itself is fine.
        if (!_saveWarned)
        {
            _saveWarned = true;
            _log.Warning("Could not save the resume file {Path}{When}: {Reason}", _resumeStore.FilePath, when, error.Message);
        }
    }

    /// <summary>
    /// PostStop's save. At once when no write or save runs; otherwise as a continuation of them, on the pool, that
    /// also claims the writes that succeed and closes the files after. It never waits, so it never blocks a thread.
    /// </summary>
    private void SaveResumeOnStop()
    {
        if (_finalSaveDone || _checking)
        {
            // Saved by the stopping phase, or a check was running: what it would have found is unknown, so the
            // resume file on disk stays as it is.
            if (_saveTask is { IsCompleted: false } saving)
            {
                var storageToClose = _storage;
                saving.ContinueWith(_ => storageToClose.Dispose(), TaskScheduler.Default);
            }
            else
            {
                _storage.Dispose();
            }
            return;
        }
        var running = new List<(int Piece, Task<object> Task)>();
        foreach (var (piece, task) in _writeTasks)
        {
            if (task is { IsCompletedSuccessfully: true, Result: PieceWritten })
            {
                MarkWritten(piece);
            }
            else if (!task.IsCompleted)
            {
                running.Add((piece, task));
            }
        }
        _writeTasks.Clear();
        var pendingSave = _saveTask is { IsCompleted: false } save ? save : null;
        if (running.Count == 0 && pendingSave is null)
        {
            try
            {
                if (_resumeDirty)
                {
                    var (data, files) = TakeSnapshot();
                    Save(_storage, _resumeStore, data, files);
                    _log.Debug("Resume file saved at stop: {Count} pieces verified", data.Verified.Count);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                WarnSaveFailed(" at stop", ex);
            }
            finally
            {
                _storage.Dispose();
            }
            return;
        }
        var snapshot = TakeSnapshot();
        var storage = _storage;
        var store = _resumeStore;
        var log = _log;
        var path = _resumeStore.FilePath;
        var pending = running.Select(r => (Task)r.Task).Append(pendingSave ?? Task.CompletedTask).ToArray();
        Task.WhenAll(pending).ContinueWith(_ =>
        {
            try
            {
                var verified = snapshot.Data.Verified;
                var files = new HashSet<int>(snapshot.Files);
                foreach (var (piece, task) in running)
                {
                    if (task is { IsCompletedSuccessfully: true, Result: PieceWritten })
                    {
                        verified.Set(piece);
                        files.UnionWith(storage.FilesOfPiece(piece));
                    }
                }
                Save(storage, store, snapshot.Data with { Verified = verified }, [.. files]);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                log.Warning("Could not save the resume file {Path} at stop: {Reason}", path, ex.Message);
            }
            finally
            {
                storage.Dispose();
            }
        }, TaskScheduler.Default);
    }
}
