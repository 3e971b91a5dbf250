using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Engine.Peers;

/// <summary>What an arriving block turned out to be.</summary>
internal enum Arrival
{
    /// <summary>We asked for exactly this block and were still waiting for it.</summary>
    Expected,

    /// <summary>We asked for it but forgot it since (choked, cancelled, timed out): in flight, not hostile.</summary>
    Late,

    /// <summary>Never asked for.</summary>
    Unrequested,

    /// <summary>Same piece and offset as a request, but a different length: a protocol violation.</summary>
    WrongLength,
}

/// <summary>
/// One peer's outstanding block requests and how many it should have: the depth follows the measured download
/// rate (about two seconds of data in flight), and a snubbed peer drops to one until it delivers again.
/// Single-threaded state owned by <see cref="PeerActor"/>; kept apart so the rules are unit-testable.
/// </summary>
internal sealed class RequestPipeline
{
    /// <summary>Data in flight we aim for: enough to cover a round trip plus the scheduler's reply.</summary>
    public static readonly TimeSpan TargetInFlight = TimeSpan.FromSeconds(2);

    private readonly Dictionary<(int Piece, int Begin), (BlockRequest Block, TimeSpan SentAt)> _outstanding = [];
    // Recently forgotten requests, bounded, so the blocks still in flight for them are not taken for a flood.
    private readonly HashSet<BlockRequest> _forgotten = [];
    private readonly Queue<BlockRequest> _forgottenOrder = new();
    private readonly RequestPipelineSettings _settings;
    private readonly int _blockSize;

    public RequestPipeline(RequestPipelineSettings settings, int blockSize)
    {
        _settings = settings;
        _blockSize = blockSize;
        Depth = settings.Initial;
    }

    /// <summary>Requests we want in flight.</summary>
    public int Depth { get; private set; }

    public bool IsSnubbed { get; private set; }

    public int Count => _outstanding.Count;

    /// <summary>The most requests the peer queues (its BEP 10 <c>reqq</c>), null when it did not say: requests
    /// beyond it would be dropped by the peer, and snub us for nothing.</summary>
    public int? PeerQueueLimit { get; set; }

    /// <summary>Room left for more requests: what to ask the scheduler for (never negative).</summary>
    public int Room => Math.Max(0, Math.Min(Depth, PeerQueueLimit ?? int.MaxValue) - _outstanding.Count);

    public bool Contains(BlockRequest block) =>
        _outstanding.TryGetValue((block.Piece, block.Begin), out var entry) && entry.Block == block;

    public bool TryAdd(BlockRequest block, TimeSpan now) => _outstanding.TryAdd((block.Piece, block.Begin), (block, now));

    /// <summary>Classifies an arriving block and, when expected, removes its request.</summary>
    public Arrival Arrive(BlockRequest block)
    {
        if (_outstanding.TryGetValue((block.Piece, block.Begin), out var entry))
        {
            if (entry.Block.Length != block.Length)
            {
                return Arrival.WrongLength;
            }

            _outstanding.Remove((block.Piece, block.Begin));
            if (IsSnubbed)
            {
                // It delivers again: back to the rate-driven depth, starting from the floor.
                IsSnubbed = false;
                Depth = _settings.Min;
            }

            return Arrival.Expected;
        }

        return _forgotten.Remove(block) ? Arrival.Late : Arrival.Unrequested;
    }

    /// <summary>Removes one request (rejected or cancelled); returns whether it was outstanding.</summary>
    public bool Forget(BlockRequest block)
    {
        if (!Contains(block))
        {
            return false;
        }

        _outstanding.Remove((block.Piece, block.Begin));
        Remember(block);
        return true;
    }

    /// <summary>Forgets every request (choked, snubbed) and returns them.</summary>
    public List<BlockRequest> ForgetAll()
    {
        var blocks = new List<BlockRequest>(_outstanding.Count);
        foreach (var (block, _) in _outstanding.Values)
        {
            blocks.Add(block);
            Remember(block);
        }

        _outstanding.Clear();
        return blocks;
    }

    /// <summary>True when the oldest outstanding request has waited longer than <paramref name="timeout"/>.</summary>
    public bool HasTimedOut(TimeSpan now, TimeSpan timeout)
    {
        foreach (var (_, sentAt) in _outstanding.Values)
        {
            if (now - sentAt > timeout)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The peer stopped answering: give everything back and keep a single request in flight.</summary>
    public List<BlockRequest> Snub()
    {
        IsSnubbed = true;
        Depth = 1;
        return ForgetAll();
    }

    /// <summary>
    /// Sets the depth from the measured rate: about <see cref="TargetInFlight"/> of data, clamped. Until the
    /// rate window has filled (<paramref name="settled"/> false) the depth only grows, so a young connection's
    /// partial measurement cannot drag it below the initial depth.
    /// </summary>
    public void Adapt(long bytesPerSecond, bool settled)
    {
        if (IsSnubbed)
        {
            return;
        }

        var blocks = bytesPerSecond * TargetInFlight.TotalSeconds / _blockSize;
        var depth = (int)Math.Clamp(Math.Ceiling(blocks), _settings.Min, _settings.Max);
        Depth = settled ? depth : Math.Max(Depth, depth);
    }

    private void Remember(BlockRequest block)
    {
        if (!_forgotten.Add(block))
        {
            return;
        }

        _forgottenOrder.Enqueue(block);
        // Blocks in flight when we forgot them arrive within a round trip; a bound of two full pipelines is ample.
        while (_forgottenOrder.Count > 2 * _settings.Max)
        {
            _forgotten.Remove(_forgottenOrder.Dequeue());
        }
    }
}
