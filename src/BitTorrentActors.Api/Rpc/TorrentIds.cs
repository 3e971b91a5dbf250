using System.Text.Json;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Api.Rpc;

/// <summary>
/// Transmission's <c>ids</c>: absent (every torrent), one id, one info-hash string, an array of ids and hashes, or
/// <c>"recently-active"</c> (torrents active in the last minute, as Transmission's RECENTLY_ACTIVE_SECONDS).
/// Ids or hashes that name no torrent are skipped, as Transmission does.
/// </summary>
public sealed class TorrentIds
{
    public static readonly TimeSpan RecentWindow = TimeSpan.FromSeconds(60);

    private readonly HashSet<int>? _ids;
    private readonly HashSet<InfoHash>? _hashes;

    private TorrentIds(bool all, bool recent, HashSet<int>? ids, HashSet<InfoHash>? hashes)
    {
        All = all;
        RecentlyActive = recent;
        _ids = ids;
        _hashes = hashes;
    }

    public bool All { get; }

    public bool RecentlyActive { get; }

    public static TorrentIds Parse(RpcArguments arguments)
    {
        if (!arguments.TryGet("ids", out var value))
        {
            return new TorrentIds(true, false, null, null);
        }
        if (value.ValueKind == JsonValueKind.String && value.GetString() == "recently-active")
        {
            return new TorrentIds(false, true, null, null);
        }
        var ids = new HashSet<int>();
        var hashes = new HashSet<InfoHash>();
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray())
            {
                Add(item, ids, hashes);
            }
        }
        else
        {
            Add(value, ids, hashes);
        }
        return new TorrentIds(false, false, ids, hashes);
    }

    public IReadOnlyList<TorrentStatus> Select(IEnumerable<TorrentStatus> torrents, DateTimeOffset now) =>
    [
        .. torrents.Where(t => All
            || (RecentlyActive && IsRecent(t, now))
            || (_ids?.Contains(t.Id) ?? false)
            || (_hashes?.Contains(t.InfoHash) ?? false)),
    ];

    private static bool IsRecent(TorrentStatus t, DateTimeOffset now) =>
        t.Activity.IsRunning() || (t.ActivityAt is { } at && now - at <= RecentWindow) || now - t.AddedAt <= RecentWindow;

    private static void Add(JsonElement item, HashSet<int> ids, HashSet<InfoHash> hashes)
    {
        switch (item.ValueKind)
        {
            case JsonValueKind.Number when item.TryGetInt32(out var id):
                ids.Add(id);
                break;
            case JsonValueKind.String when InfoHash.TryParseHex(item.GetString()!, out var hash):
                hashes.Add(hash);
                break;
            case JsonValueKind.String when int.TryParse(item.GetString(), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var id):
                ids.Add(id);
                break;
            default:
                throw new RpcArgumentException("argument 'ids' must be torrent ids, info-hash strings or \"recently-active\"");
        }
    }
}
