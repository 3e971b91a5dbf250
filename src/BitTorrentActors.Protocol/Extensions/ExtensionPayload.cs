using System.Buffers;

namespace BitTorrentActors.Protocol.Extensions;

/// <summary>The extension codecs decode from contiguous memory; the peer layer already hands them one copied segment.</summary>
internal static class ExtensionPayload
{
    /// <summary>The payload itself when it is one segment (the usual case: no second copy), else a copy. A result
    /// that is the caller's memory is valid as long as the caller's buffer is.</summary>
    public static ReadOnlyMemory<byte> Contiguous(in ReadOnlySequence<byte> payload) =>
        payload.IsSingleSegment ? payload.First : payload.ToArray();
}
