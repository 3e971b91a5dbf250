using System.IO.Compression;
using System.Security.Cryptography;

namespace BitTorrentActors.Api.Web;

/// <summary>
/// One file of the web page, read once from the Api assembly's resources: its bytes, the same gzipped (computed at
/// start, so no request pays for compression and no CPU goes to it per request), and an ETag from its content (so a
/// browser revalidates with a 304 and a new build's file is never mistaken for the old one).
/// </summary>
public sealed record WebAsset(string Path, string ContentType, byte[] Bytes, byte[] Gzipped, string ETag)
{
    /// <summary>The prefix of every embedded web file's resource name (see the Api csproj's LogicalName).</summary>
    public const string ResourcePrefix = "bta.web/";

    public static WebAsset FromBytes(string path, string contentType, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var packed = new MemoryStream();
        using (var gzip = new GZipStream(packed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(bytes);
        }
        var etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 12))}\"";
        return new WebAsset(path, contentType, bytes, packed.ToArray(), etag);
    }

    /// <summary>The embedded file <paramref name="name"/> (as in Web/Assets), or an exception naming it: a missing
    /// asset is a build mistake, found at start and not at the first request.</summary>
    public static WebAsset Load(string name, string path, string contentType)
    {
        var assembly = typeof(WebAsset).Assembly;
        using var stream = assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"the web page's {name} is not embedded in {assembly.GetName().Name}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return FromBytes(path, contentType, copy.ToArray());
    }
}
