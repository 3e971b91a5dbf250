using System.Globalization;

namespace BitTorrentActors.Engine.Tests.Hostile;

/// <summary>
/// What happened on one connection our client made to a <see cref="ScriptedPeer"/>. Written by the peer's
/// session task, read by the test (under a lock); times are on the peer's own clock (<see cref="ScriptedPeer.Now"/>).
/// </summary>
public sealed class ScriptedConnection
{
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HashSet<int> _piecesServed = [];
    private readonly List<string> _notes = [];

    public ScriptedConnection(int number, TimeSpan acceptedAt)
    {
        Number = number;
        AcceptedAt = acceptedAt;
    }

    public int Number { get; }

    public TimeSpan AcceptedAt { get; }

    /// <summary>When the scripted misbehaviour went out (null for honest or before it happened).</summary>
    public TimeSpan? BadSentAt { get; private set; }

    /// <summary>When the connection ended; see <see cref="ClosedByClient"/>.</summary>
    public TimeSpan? ClosedAt { get; private set; }

    /// <summary>True when the client closed or reset the connection (rather than the peer's lifetime ending).</summary>
    public bool ClosedByClient { get; private set; }

    /// <summary>Completes when the connection is over, whoever ended it.</summary>
    public Task Closed => _closed.Task;

    /// <summary>How long the client took to close after the misbehaviour, when both happened.</summary>
    public TimeSpan? CloseDelay => BadSentAt is { } bad && ClosedAt is { } closed && ClosedByClient ? closed - bad : null;

    public long BytesReceived { get; private set; }

    /// <summary>Bytes the peer managed to write after the misbehaviour, before the client closed.</summary>
    public long BytesPushedAfterBad { get; private set; }

    public int RequestsReceived { get; private set; }

    public int BlocksServed { get; private set; }

    /// <summary>Distinct pieces this connection served at least one block of (corrupted ones for a corrupt peer).</summary>
    public IReadOnlyCollection<int> PiecesServed
    {
        get
        {
            lock (_gate)
            {
                return [.. _piecesServed];
            }
        }
    }

    public override string ToString()
    {
        lock (_gate)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"#{Number} accepted {AcceptedAt.TotalMilliseconds:0} ms, bad at {BadSentAt?.TotalMilliseconds:0}, "
                + $"closed at {ClosedAt?.TotalMilliseconds:0} ms (by client {ClosedByClient}), received {BytesReceived} B, "
                + $"pushed after bad {BytesPushedAfterBad} B, requests {RequestsReceived}, blocks served {BlocksServed} "
                + $"({_piecesServed.Count} pieces){(_notes.Count > 0 ? "; " + string.Join("; ", _notes) : "")}");
        }
    }

    internal void MarkBad(TimeSpan at)
    {
        lock (_gate)
        {
            BadSentAt ??= at;
        }
    }

    internal void Received(int bytes)
    {
        lock (_gate)
        {
            BytesReceived += bytes;
        }
    }

    internal void Pushed(int bytes)
    {
        lock (_gate)
        {
            if (BadSentAt is not null && !ClosedByClient)
            {
                BytesPushedAfterBad += bytes;
            }
        }
    }

    internal void Request()
    {
        lock (_gate)
        {
            RequestsReceived++;
        }
    }

    internal void Served(int piece)
    {
        lock (_gate)
        {
            BlocksServed++;
            _piecesServed.Add(piece);
        }
    }

    internal void Note(string note)
    {
        lock (_gate)
        {
            _notes.Add(note);
        }
    }

    internal void MarkClosed(TimeSpan at, bool byClient)
    {
        lock (_gate)
        {
            if (ClosedAt is null)
            {
                ClosedAt = at;
                ClosedByClient = byClient;
            }
        }
        _closed.TrySetResult();
    }
}
