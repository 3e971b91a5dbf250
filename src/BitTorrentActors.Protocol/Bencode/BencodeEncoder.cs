using System.Buffers;
using System.Globalization;

namespace BitTorrentActors.Protocol.Bencode;

/// <summary>
/// Writes canonical bencode: dictionary keys sorted as raw bytes (BEP 3), integers without leading zeros.
/// Nesting is walked with an explicit stack, mirroring the decoder, so no input shape can overflow the stack.
/// </summary>
public static class BencodeEncoder
{
    public static byte[] Encode(BValue value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Encode(value, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    public static void Encode(BValue value, IBufferWriter<byte> output)
    {
        // Work items: a value to write, or a literal 'e' closing a container.
        var work = new Stack<BValue?>();
        work.Push(value);
        while (work.Count > 0)
        {
            var next = work.Pop();
            switch (next)
            {
                case null:
                    WriteByte(output, (byte)'e');
                    break;
                case BInteger integer:
                    WriteAscii(output, "i" + integer.Value.ToString(CultureInfo.InvariantCulture) + "e");
                    break;
                case BString text:
                    WriteString(output, text.Span);
                    break;
                case BList list:
                    WriteByte(output, (byte)'l');
                    work.Push(null);
                    for (var i = list.Count - 1; i >= 0; i--)
                    {
                        work.Push(list[i]);
                    }
                    break;
                case BDictionary dictionary:
                    WriteByte(output, (byte)'d');
                    work.Push(null);
                    // A stable sort by raw key bytes, so a repeated key keeps only its first occurrence.
                    var sorted = dictionary.OrderBy(e => e.Key, RawKeyComparer.Instance).ToArray();
                    for (var i = sorted.Length - 1; i >= 0; i--)
                    {
                        if (i > 0 && sorted[i - 1].Key.Span.SequenceEqual(sorted[i].Key.Span))
                        {
                            continue;
                        }
                        work.Push(sorted[i].Value);
                        work.Push(sorted[i].Key);
                    }
                    break;
                default:
                    throw new ArgumentException($"unknown bencode value {next.GetType().Name}", nameof(value));
            }
        }
    }

    private sealed class RawKeyComparer : IComparer<BString>
    {
        public static readonly RawKeyComparer Instance = new();

        public int Compare(BString? x, BString? y) => x!.Span.SequenceCompareTo(y!.Span);
    }

    private static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        WriteAscii(output, bytes.Length.ToString(CultureInfo.InvariantCulture) + ":");
        output.Write(bytes);
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static void WriteAscii(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            span[i] = (byte)text[i];
        }
        output.Advance(text.Length);
    }
}
