using BitTorrentActors.Protocol.Extensions;

namespace BitTorrentActors.Engine.Peers.Extensions;

/// <summary>
/// BEP 11 for one connection, receiving side, with libtorrent's limits: a message over 500 KiB, or a seventh
/// message within 60 s, ends the connection; at most <see cref="PexMessage.MaxPeersPerMessage"/> added peers are
/// taken from one message (the rest are not even decoded). Plain state owned by <see cref="PeerActor"/>.
/// </summary>
internal sealed class PexExchange
{
    /// <summary>Messages one peer may send within <see cref="Window"/> (libtorrent's <c>max_pex_messages</c>).</summary>
    public const int MaxMessagesPerWindow = 6;

    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    // The arrival times of the last MaxMessagesPerWindow messages, oldest first.
    private readonly Queue<TimeSpan> _arrivals = new();

    /// <summary>Parses one ut_pex payload that arrived at <paramref name="now"/>; false with a one-line reason when
    /// the peer must be closed.</summary>
    public bool TryReceive(byte[] payload, TimeSpan now, out PexMessage? message, out string? error)
    {
        message = null;
        if (_arrivals.Count == MaxMessagesPerWindow && now - _arrivals.Peek() < Window)
        {
            error = $"more than {MaxMessagesPerWindow} ut_pex messages within {Window.TotalSeconds:0} s";
            return false;
        }

        if (_arrivals.Count == MaxMessagesPerWindow)
        {
            _arrivals.Dequeue();
        }

        _arrivals.Enqueue(now);
        return PexMessage.TryParse(new(payload), PexMessage.MaxPeersPerMessage, out message, out error);
    }
}
