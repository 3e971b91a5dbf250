using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using BitTorrentActors.Protocol.Bencode;

namespace BitTorrentActors.Protocol.Extensions;

/// <summary>
/// The BEP 10 extension handshake: extended message id 0, a bencoded dictionary.
/// <code>
///   d
///     1:m d 11:ut_metadata i1e 6:ut_pex i2e e   extension name -> the id the SENDER wants to receive it as
///     1:p i6881e                               the sender's listen port
///     1:v 14:BitTorrentActors                  client name and version
///     4:reqq i500e                             how many requests the sender queues
///     13:metadata_size i31235e                 BEP 9: the info dictionary's length, when the sender has it
///     6:yourip 4:\x7f\x00\x00\x01              the receiver's address as the sender sees it (4 or 16 bytes)
///   e
/// </code>
/// Parsing is as lenient as libtorrent: unknown keys are ignored, a value of the wrong type or out of range is
/// dropped as if absent; only a payload that is not a dictionary is an error. An id of 0 in <c>m</c> means the
/// sender disables that extension (BEP 10), so it is not listed.
/// </summary>
public sealed record ExtensionHandshake
{
    /// <summary>Handshakes carry a few small keys; 64 KiB is far beyond any client's (libtorrent's are ~200 bytes).</summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>Extension name to the id the sender of this handshake wants it sent as (1..255).</summary>
    public IReadOnlyDictionary<string, byte> Extensions { get; init; } = new Dictionary<string, byte>();

    /// <summary><c>p</c>: the sender's listen port (1..65535), or null.</summary>
    public int? ListenPort { get; init; }

    /// <summary><c>v</c>: the client's name, as sent (sanitise before display).</summary>
    public string? Client { get; init; }

    /// <summary><c>reqq</c>: how many outstanding requests the sender queues without dropping.</summary>
    public int? RequestQueueLength { get; init; }

    /// <summary><c>metadata_size</c> (BEP 9): positive, or null when the sender did not say.</summary>
    public long? MetadataSize { get; init; }

    /// <summary><c>yourip</c>: our address as the sender sees it.</summary>
    public IPAddress? YourIp { get; init; }

    /// <summary><c>upload_only</c>: the sender will not download (a seed, or share mode).</summary>
    public bool UploadOnly { get; init; }

    /// <summary>The id under which the sender wants <paramref name="extension"/>, or 0 if it does not support it.</summary>
    public byte IdOf(string extension) => Extensions.TryGetValue(extension, out var id) ? id : (byte)0;

    public static bool TryParse(
        in ReadOnlySequence<byte> payload,
        [NotNullWhen(true)] out ExtensionHandshake? handshake,
        [NotNullWhen(false)] out string? error)
    {
        handshake = null;
        if (payload.Length > MaxLength)
        {
            error = $"extension handshake of {payload.Length} bytes (at most {MaxLength})";
            return false;
        }
        var decoded = BencodeDecoder.Decode(ExtensionPayload.Contiguous(payload), new BencodeLimits(MaxDepth: 8, MaxTokens: 4096));
        if (!decoded.Success)
        {
            error = $"extension handshake is not bencode: {decoded.Error}";
            return false;
        }
        if (decoded.Value is not BDictionary dictionary)
        {
            error = "extension handshake is not a dictionary";
            return false;
        }

        var extensions = new Dictionary<string, byte>(StringComparer.Ordinal);
        if (dictionary.GetDictionary("m") is { } m)
        {
            foreach (var (name, value) in m)
            {
                // An id outside 1..255 cannot be framed; 0 disables the extension (BEP 10).
                if (value is BInteger { Value: > 0 and <= 255 } id)
                {
                    extensions[name.Text] = (byte)id.Value;
                }
            }
        }
        handshake = new ExtensionHandshake
        {
            Extensions = extensions,
            ListenPort = dictionary.GetInteger("p") is { Value: > 0 and <= 65535 } p ? (int)p.Value : null,
            Client = dictionary.GetString("v") is { Bytes.Length: <= 256 } v ? v.Text : null,
            RequestQueueLength = dictionary.GetInteger("reqq") is { Value: > 0 and <= int.MaxValue } q ? (int)q.Value : null,
            MetadataSize = dictionary.GetInteger("metadata_size") is { Value: > 0 } size ? size.Value : null,
            YourIp = dictionary.GetString("yourip") is { Bytes.Length: 4 or 16 } ip ? new IPAddress(ip.Span) : null,
            UploadOnly = dictionary.GetInteger("upload_only") is { Value: not 0 },
        };
        error = null;
        return true;
    }

    /// <summary>The payload (after the extended id byte), keys in canonical order.</summary>
    public byte[] Encode()
    {
        var entries = new List<(string, BValue)>
        {
            ("m", BDictionary.From(Extensions.Select(e => (e.Key, (BValue)new BInteger(e.Value))).ToArray())),
        };
        if (MetadataSize is { } size)
        {
            entries.Add(("metadata_size", new BInteger(size)));
        }
        if (ListenPort is { } port)
        {
            entries.Add(("p", new BInteger(port)));
        }
        if (RequestQueueLength is { } reqq)
        {
            entries.Add(("reqq", new BInteger(reqq)));
        }
        if (UploadOnly)
        {
            entries.Add(("upload_only", new BInteger(1)));
        }
        if (Client is not null)
        {
            entries.Add(("v", new BString(Client)));
        }
        if (YourIp is not null)
        {
            var address = YourIp.IsIPv4MappedToIPv6 ? YourIp.MapToIPv4() : YourIp;
            entries.Add(("yourip", new BString(address.GetAddressBytes())));
        }
        return BencodeEncoder.Encode(BDictionary.From(entries.ToArray()));
    }
}
