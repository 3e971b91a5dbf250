using BitTorrentActors.Protocol.Magnet;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Session;

/// <summary>The name a torrent known only by its magnet shows (session, RPC and CLI alike).</summary>
public static class MagnetNames
{
    public const int MaxLength = 255;

    public static string DisplayName(MagnetLink link) => DisplayName(link.DisplayName, link.InfoHash);

    /// <summary>The link's <c>dn</c> as a one-line name: control characters and path separators become '_' (it
    /// is never used as a path, and never reaches a terminal raw), at most <see cref="MaxLength"/> characters;
    /// none, blank, "." or ".." give the info-hash in hex, as Transmission shows a magnet without a name.</summary>
    public static string DisplayName(string? displayName, InfoHash infoHash)
    {
        if (string.IsNullOrWhiteSpace(displayName))
        {
            return infoHash.ToHex();
        }
        var name = new string([.. displayName.Trim().Select(c => char.IsControl(c) || c is '/' or '\\' ? '_' : c)]);
        if (name.Length > MaxLength)
        {
            name = name[..MaxLength];
        }
        return name is "." or ".." ? infoHash.ToHex() : name;
    }
}
