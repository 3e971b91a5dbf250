using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Storage;

public sealed partial class FileWriterActor
{
    private readonly TorrentMetainfo _metainfo;
    private readonly IActorRef _coordinator;
    private readonly TorrentStorage _storage;
    private readonly int _blockSize;
    private readonly int _maxInFlight;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<int, PieceAssembly> _assembling = [];
    // The assemblies' SHA-1 hashers, reused piece after piece.
    private readonly Sha1Pool _hashers = new();
    // Verified pieces waiting for a write slot, and the contributors of those being written now.
    private readonly ReadyPieces _ready = new();
    private readonly Dictionary<int, IReadOnlyList<IActorRef>> _inFlight = [];
    private readonly List<IActorRef> _checkWaiters = [];
    private readonly CancellationTokenSource _stopping = new();
    // Every running write task by piece, so a stop can wait for them and still claim what they wrote.
    private readonly Dictionary<int, Task<object>> _writeTasks = [];
    // The newest write task: the next piece's write waits for it, so one write runs at a time.
    private Task _lastWrite = Task.CompletedTask;
    private Bitfield _verified;
    // Per piece: wanted by the file selection (SetWantedFiles); null while every file is wanted. Replaced, never
    // changed in place, so a task may keep the one it was given.
    private bool[]? _wantedPieces;
    // Wanted pieces not verified yet: the writes of the last ones check every file is still there.
    private int _wantedLeft;
    private bool _checking;
    private bool _diskFailed;

    public FileWriterActor(TorrentContext context, IActorRef coordinator)
    {
        _metainfo = context.Metainfo;
        _coordinator = coordinator;
        _blockSize = context.Settings.BlockSize;
        _storage = new TorrentStorage(_metainfo.Layout, context.DownloadDirectory,
            directWrites: context.Settings.Download.DirectWrites, staging: context.Services?.Staging);
        _resumeStore = new ResumeStore(context.DownloadDirectory, _metainfo);
        _saveInterval = context.Settings.Resume.SaveInterval;
        _verified = new Bitfield(_metainfo.PieceCount);
        _wantedLeft = _metainfo.PieceCount;
        // A few verified pieces queued on the disk (their writes run one after another), few enough that
        // complete pieces hold little pooled memory.
        _maxInFlight = Math.Clamp(Environment.ProcessorCount, 2, 4);

        Receive<WriteBlock>(m => OnWriteBlock(m.Peer, m.Data));
        Receive<WriteBlocks>(m => Array.ForEach(m.Blocks, data => OnWriteBlock(m.Peer, data)));
        Receive<SetWantedFiles>(OnSetWantedFiles);
        Receive<StopAfterSave>(_ => BeginStopping());
        Receive<CheckExistingData>(_ => OnCheckRequested());
        Receive<CheckFinished>(OnCheckFinished);
        Receive<PieceWritten>(OnPieceWritten);
        Receive<PieceWriteFailed>(m => OnPieceDone(m.Piece, () => FailDisk(m.Reason)));
        Receive<ReadBlock>(OnReadBlock);
        Receive<ReadBlocks>(OnReadBlocks);
        Receive<SaveResume>(_ => OnSaveResume());
        Receive<ResumeSaved>(OnResumeSaved);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// On the I/O dispatcher: this mailbox carries every block of the download, so its bookkeeping gets its own
    /// threads instead of taking turns from the peers' routing; the writing itself runs as tasks.
    /// Closing (and flushing) the files in PostStop also lands there rather than on a routing thread.
    /// </summary>
    public static Akka.Actor.Props Props(TorrentContext context, IActorRef coordinator) =>
        Akka.Actor.Props.Create(() => new FileWriterActor(context, coordinator))
            .WithDispatcher(BtaSettings.IoDispatcherId);

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("save-resume", SaveResume.Instance, _saveInterval);
        base.PreStart();
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
        ReleaseWaitingPieces();
        _hashers.Dispose();
        // Saves the pieces verified so far and closes the files: at once when nothing runs (or the stopping phase
        // saved already), else after the running writes, on the pool; write tasks own their buffers.
        SaveResumeOnStop();
        base.PostStop();
    }

    private bool IsPieceWanted(int piece) => _wantedPieces?[piece] ?? true;

    private void OnSetWantedFiles(SetWantedFiles message)
    {
        if (message.Wanted is not { } wanted || wanted.Count != _metainfo.Files.Count)
        {
            _log.Warning("Ignoring a file selection of {Count} files: the torrent has {FileCount}",
                message.Wanted?.Count ?? 0, _metainfo.Files.Count);
            return;
        }
        _storage.SetWantedFiles(wanted);
        _wantedPieces = wanted.All(w => w)
            ? null
            : Array.ConvertAll(
                new FileSelection(wanted, new FilePriority[wanted.Count]).PiecePriorities(_metainfo),
                priority => priority != FileSelection.Skip);
        RecountWantedLeft();
        // Blocks waiting for pieces nobody wants any more are dropped; a piece already writing finishes.
        foreach (var assembly in _assembling.Values.Where(a => !IsPieceWanted(a.Piece)).ToList())
        {
            assembly.ReleaseAll();
            _assembling.Remove(assembly.Piece);
        }
        var ready = _ready.ToList();
        _ready.Clear();
        foreach (var assembly in ready)
        {
            if (IsPieceWanted(assembly.Piece))
            {
                _ready.Enqueue(assembly);
            }
            else
            {
                assembly.ReleaseAll();
            }
        }
        _log.Debug("Files wanted: {Wanted} of {Files}; {Left} wanted pieces missing",
            wanted.Count(w => w), wanted.Count, _wantedLeft);
    }

    private void RecountWantedLeft()
    {
        _wantedLeft = 0;
        for (var piece = 0; piece < _metainfo.PieceCount; piece++)
        {
            if (IsPieceWanted(piece) && !_verified[piece])
            {
                _wantedLeft++;
            }
        }
    }

    private void OnWriteBlock(IActorRef peer, BlockData data)
    {
        var block = data.Block;
        if (_diskFailed)
        {
            data.Release();
            return;
        }
        if (!TryGetBlockIndex(block, out var index))
        {
            _log.Debug("Ignoring block {Block} from {Peer}: not a block of this torrent's layout", block, peer);
            data.Release();
            return;
        }
        if (_verified[block.Piece] || _inFlight.ContainsKey(block.Piece) || IsReady(block.Piece))
        {
            data.Release();
            return;
        }
        if (!IsPieceWanted(block.Piece))
        {
            // Requested before its files were deselected: writing it would create files nobody wants.
            _log.Debug("Dropping block {Block} from {Peer}: its piece is not wanted", block, peer);
            data.Release();
            return;
        }
        if (!_assembling.TryGetValue(block.Piece, out var assembly))
        {
            var pieceSize = _metainfo.GetPieceSize(block.Piece);
            assembly = new PieceAssembly(block.Piece, (pieceSize + _blockSize - 1) / _blockSize, _hashers);
            _assembling.Add(block.Piece, assembly);
        }
        if (!assembly.TryAdd(index, data, peer))
        {
            _log.Debug("Duplicate block {Block} from {Peer} released", block, peer);
            data.Release();
            return;
        }
        if (assembly.IsComplete)
        {
            _assembling.Remove(block.Piece);
            // Hashed block by block as it came in: only the digest is left to take.
            if (!assembly.HashMatches(_metainfo.GetPieceHash(block.Piece)))
            {
                var contributors = assembly.Contributors.ToArray();
                assembly.ReleaseAll();
                _log.Warning("Piece {Piece} failed its hash check (from {PeerCount} peers); nothing written",
                    block.Piece, contributors.Length);
                _coordinator.Tell(new PieceFailed(block.Piece, contributors));
                return;
            }
            _ready.Enqueue(assembly);
            StartReadyPieces();
        }
    }

    // The scheduler's geometry: blocks of BlockSize at multiples of BlockSize, the piece's last one shorter.
    private bool TryGetBlockIndex(BlockRequest block, out int index)
    {
        index = -1;
        if ((uint)block.Piece >= (uint)_metainfo.PieceCount || block.Begin < 0 || block.Begin % _blockSize != 0)
        {
            return false;
        }
        var pieceSize = _metainfo.GetPieceSize(block.Piece);
        if (block.Begin >= pieceSize || block.Length != Math.Min(_blockSize, pieceSize - block.Begin))
        {
            return false;
        }
        index = block.Begin / _blockSize;
        return true;
    }

    private bool IsReady(int piece) => _ready.Contains(piece);

    private void StartReadyPieces()
    {
        // A requested check waits for the disk to be quiet, so no piece starts while one is pending or running.
        while (!_diskFailed && !_checking && _checkWaiters.Count == 0
            && _inFlight.Count < _maxInFlight && _ready.TryDequeue(out var assembly))
        {
            var piece = assembly.Piece;
            _inFlight.Add(piece, assembly.Contributors.ToArray());
            var blocks = assembly.TakeBlocks();
            var storage = _storage;
            // Pieces come here verified (hashed as their blocks arrived); writes queue behind each other.
            // Concurrent writes to one file only contend for its inode lock in the kernel (measured: 7% of all CPU spinning there).
            var previousWrite = _lastWrite;
            // The last wanted pieces check that every file written to is still there: no completion over a hole.
            var finishing = _wantedLeft <= _inFlight.Count;
            var task = Task.Run(() => WriteVerifiedAsync(storage, piece, blocks, previousWrite, finishing));
            _lastWrite = task;
            _writeTasks[piece] = task;
            task.PipeTo(Self, failure: ex => new PieceWriteFailed(piece, $"piece {piece}: {ex.Message}"));
        }
    }

    private void OnPieceWritten(PieceWritten message) => OnPieceDone(message.Piece, contributors =>
    {
        // Only now, with its bytes written, is the piece verified, in memory and in the next resume file.
        MarkWritten(message.Piece);
        _log.Debug("Piece {Piece} verified and written", message.Piece);
        _coordinator.Tell(new PieceVerified(message.Piece, contributors));
    });

    private void OnPieceDone(int piece, Action then) => OnPieceDone(piece, _ => then());

    private void OnPieceDone(int piece, Action<IReadOnlyList<IActorRef>> then)
    {
        _inFlight.Remove(piece, out var contributors);
        _writeTasks.Remove(piece);
        then(contributors ?? []);
        StartReadyPieces();
        TryStartCheck();
    }

    private void FailDisk(string reason)
    {
        if (_diskFailed)
        {
            return;
        }
        _diskFailed = true;
        _log.Error("Disk failed, no more blocks accepted: {Reason}", reason);
        _coordinator.Tell(new DiskFailed(reason));
        ReleaseWaitingPieces();
    }

    private void ReleaseWaitingPieces()
    {
        foreach (var assembly in _assembling.Values.Concat(_ready))
        {
            assembly.ReleaseAll();
        }
        _assembling.Clear();
        _ready.Clear();
    }
}
