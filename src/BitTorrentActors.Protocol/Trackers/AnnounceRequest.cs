using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Protocol.Trackers;

/// <summary>
/// The announce event. The numeric values are ours; each transport maps them to its own encoding
/// (HTTP sends a word, BEP 15 uses 0 none, 1 completed, 2 started, 3 stopped).
/// </summary>
public enum AnnounceEvent
{
    None,
    Started,
    Completed,
    Stopped,
}

/// <summary>
/// One announce, independent of transport. <see cref="NumWant"/> below zero means "the tracker's default"
/// (omitted over HTTP, -1 over UDP, as BEP 15 specifies).
/// </summary>
public sealed record AnnounceRequest(
    InfoHash InfoHash,
    ReadOnlyMemory<byte> PeerId,
    int Port,
    long Uploaded,
    long Downloaded,
    long Left,
    AnnounceEvent Event,
    int NumWant,
    uint Key,
    string? TrackerId,
    bool Compact = true)
{
    public const int PeerIdLength = 20;

    // Building a request from bad arguments is a bug in the caller, not hostile input, so it throws.
    internal void Validate()
    {
        if (PeerId.Length != PeerIdLength)
        {
            throw new ArgumentException($"a peer id is {PeerIdLength} bytes, not {PeerId.Length}", nameof(PeerId));
        }
        if (Port is < 0 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(Port), Port, "port must be 0..65535");
        }
    }
}
