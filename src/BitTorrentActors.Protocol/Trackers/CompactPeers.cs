using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace BitTorrentActors.Protocol.Trackers;

/// <summary>
/// The compact peer format shared by HTTP trackers (BEP 23, BEP 7), UDP trackers (BEP 15) and PEX:
/// an address in network order followed by a big-endian port, 6 bytes for IPv4 and 18 for IPv6.
/// Entries with port 0 are dropped because nothing can be dialled there.
/// </summary>
public static class CompactPeers
{
    public const int IPv4EntryLength = 6;
    public const int IPv6EntryLength = 18;

    /// <summary>Parses whole IPv4 entries; a trailing partial entry is ignored (use <see cref="TryParseIPv4"/> to refuse it).</summary>
    public static IReadOnlyList<IPEndPoint> ParseIPv4(ReadOnlySpan<byte> data)
    {
        var peers = new List<IPEndPoint>(data.Length / IPv4EntryLength);
        Parse(data[..(data.Length - data.Length % IPv4EntryLength)], 4, peers);
        return peers;
    }

    /// <summary>Parses whole IPv6 entries; a trailing partial entry is ignored (use <see cref="TryParseIPv6"/> to refuse it).</summary>
    public static IReadOnlyList<IPEndPoint> ParseIPv6(ReadOnlySpan<byte> data)
    {
        var peers = new List<IPEndPoint>(data.Length / IPv6EntryLength);
        Parse(data[..(data.Length - data.Length % IPv6EntryLength)], 16, peers);
        return peers;
    }

    /// <summary>Adds the peers to <paramref name="peers"/>, or adds nothing and returns false when the length is not a multiple of 6.</summary>
    public static bool TryParseIPv4(ReadOnlySpan<byte> data, ICollection<IPEndPoint> peers)
    {
        if (data.Length % IPv4EntryLength != 0)
        {
            return false;
        }
        Parse(data, 4, peers);
        return true;
    }

    /// <summary>Adds the peers to <paramref name="peers"/>, or adds nothing and returns false when the length is not a multiple of 18.</summary>
    public static bool TryParseIPv6(ReadOnlySpan<byte> data, ICollection<IPEndPoint> peers)
    {
        if (data.Length % IPv6EntryLength != 0)
        {
            return false;
        }
        Parse(data, 16, peers);
        return true;
    }

    /// <summary>Writes one IPv4 entry (an IPv4-mapped IPv6 address is written as IPv4); returns the 6 bytes written.</summary>
    public static int WriteIPv4(Span<byte> destination, IPEndPoint peer)
    {
        var address = peer.Address.IsIPv4MappedToIPv6 ? peer.Address.MapToIPv4() : peer.Address;
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"{peer} is not an IPv4 endpoint", nameof(peer));
        }
        return Write(destination, address, peer.Port, IPv4EntryLength);
    }

    /// <summary>Writes one IPv6 entry; returns the 18 bytes written.</summary>
    public static int WriteIPv6(Span<byte> destination, IPEndPoint peer)
    {
        if (peer.Address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new ArgumentException($"{peer} is not an IPv6 endpoint", nameof(peer));
        }
        return Write(destination, peer.Address, peer.Port, IPv6EntryLength);
    }

    public static byte[] EncodeIPv4(IEnumerable<IPEndPoint> peers)
    {
        var list = peers.ToList();
        var bytes = new byte[list.Count * IPv4EntryLength];
        for (var i = 0; i < list.Count; i++)
        {
            WriteIPv4(bytes.AsSpan(i * IPv4EntryLength), list[i]);
        }
        return bytes;
    }

    public static byte[] EncodeIPv6(IEnumerable<IPEndPoint> peers)
    {
        var list = peers.ToList();
        var bytes = new byte[list.Count * IPv6EntryLength];
        for (var i = 0; i < list.Count; i++)
        {
            WriteIPv6(bytes.AsSpan(i * IPv6EntryLength), list[i]);
        }
        return bytes;
    }

    private static void Parse(ReadOnlySpan<byte> data, int addressLength, ICollection<IPEndPoint> peers)
    {
        var entryLength = addressLength + 2;
        for (var offset = 0; offset + entryLength <= data.Length; offset += entryLength)
        {
            var entry = data.Slice(offset, entryLength);
            var port = BinaryPrimitives.ReadUInt16BigEndian(entry[addressLength..]);
            if (port != 0)
            {
                peers.Add(new IPEndPoint(new IPAddress(entry[..addressLength]), port));
            }
        }
    }

    private static int Write(Span<byte> destination, IPAddress address, int port, int entryLength)
    {
        if (destination.Length < entryLength)
        {
            throw new ArgumentException($"a compact entry needs {entryLength} bytes", nameof(destination));
        }
        address.TryWriteBytes(destination, out var written);
        BinaryPrimitives.WriteUInt16BigEndian(destination[written..], (ushort)port);
        return entryLength;
    }
}
