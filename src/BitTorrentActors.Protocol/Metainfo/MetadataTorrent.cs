using System.Buffers;
using System.Text;
using BitTorrentActors.Protocol.Bencode;

namespace BitTorrentActors.Protocol.Metainfo;

/// <summary>
/// A <c>.torrent</c> file around an info dictionary fetched from peers (BEP 9), so a magnet's torrent is stored,
/// parsed and served exactly as an added file is. The info bytes are copied verbatim: re-encoding them could
/// change the info-hash.
/// <code>
///   d 8:announce &lt;first tracker&gt; 13:announce-list l l &lt;tier 1&gt; e ... e 4:info &lt;info dict as fetched&gt; e
/// </code>
/// </summary>
public static class MetadataTorrent
{
    /// <summary>The torrent file bytes; <paramref name="trackerTiers"/> may be empty (a trackerless magnet).</summary>
    public static byte[] Build(ReadOnlySpan<byte> info, IReadOnlyList<IReadOnlyList<string>> trackerTiers)
    {
        var output = new ArrayBufferWriter<byte>(info.Length + 256);
        Write(output, "d");
        var tiers = trackerTiers.Where(t => t.Count > 0).ToArray();
        if (tiers.Length > 0)
        {
            Write(output, "8:announce");
            BencodeEncoder.Encode(new BString(tiers[0][0]), output);
            Write(output, "13:announce-list");
            BencodeEncoder.Encode(new BList(tiers.Select(t => (BValue)new BList(t.Select(u => (BValue)new BString(u))))), output);
        }
        Write(output, "4:info");
        output.Write(info);
        Write(output, "e");
        return output.WrittenSpan.ToArray();
    }

    private static void Write(ArrayBufferWriter<byte> output, string ascii) => output.Write(Encoding.ASCII.GetBytes(ascii));
}
