using System.Buffers;

namespace BitTorrentActors.Protocol.Tests.Wire;

/// <summary>Helpers to build test inputs: hex vectors and multi-segment sequences.</summary>
internal static class WireTestData
{
    /// <summary>Parses hex with optional spaces, so vectors can be grouped by field.</summary>
    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    /// <summary>Formats bytes as upper-case hex without separators, for readable assertion failures.</summary>
    public static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);

    /// <summary>Formats a sequence as upper-case hex.</summary>
    public static string ToHex(ReadOnlySequence<byte> bytes) => Convert.ToHexString(bytes.ToArray());

    /// <summary>
    /// Builds a sequence from linked segments, cutting <paramref name="data"/> at the given offsets. Each segment
    /// gets its own array so nothing can accidentally read across a boundary through shared memory.
    /// </summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts)
    {
        var pieces = new List<byte[]>();
        var start = 0;
        foreach (var cut in cuts)
        {
            pieces.Add(data[start..cut]);
            start = cut;
        }

        pieces.Add(data[start..]);
        return Chain(pieces);
    }

    /// <summary>One segment per byte: every boundary is a segment boundary.</summary>
    public static ReadOnlySequence<byte> OneSegmentPerByte(byte[] data)
    {
        if (data.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var pieces = new List<byte[]>(data.Length);
        foreach (var b in data)
        {
            pieces.Add([b]);
        }

        return Chain(pieces);
    }

    /// <summary>Links the given arrays as segments of one sequence.</summary>
    public static ReadOnlySequence<byte> Chain(IReadOnlyList<byte[]> pieces)
    {
        var first = new Segment(pieces[0], 0);
        var last = first;
        for (var i = 1; i < pieces.Count; i++)
        {
            last = last.Append(pieces[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] data)
        {
            var next = new Segment(data, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
