using BitTorrentActors.Protocol.Bencode;

namespace BitTorrentActors.Protocol.Metainfo;

/// <summary>Reads BEP 12 announce tiers and BEP 19 url-list, ignoring malformed entries rather than refusing.</summary>
internal static class TrackerLists
{
    public static IReadOnlyList<IReadOnlyList<string>> ReadAnnounceTiers(BDictionary root)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var tiers = new List<IReadOnlyList<string>>();
        if (root.GetList("announce-list") is { } list)
        {
            foreach (var tierValue in list)
            {
                if (tierValue is not BList tierList)
                {
                    continue;
                }
                var tier = new List<string>();
                foreach (var url in tierList)
                {
                    AddUrl(url, tier, seen);
                }
                if (tier.Count > 0)
                {
                    tiers.Add(tier);
                }
            }
        }
        // BEP 12: clients that understand announce-list ignore announce, unless the list gave nothing usable.
        if (tiers.Count == 0 && root["announce"] is { } announce)
        {
            var tier = new List<string>();
            AddUrl(announce, tier, seen);
            if (tier.Count > 0)
            {
                tiers.Add(tier);
            }
        }
        return tiers;
    }

    public static IReadOnlyList<string> ReadUrlList(BDictionary root)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var urls = new List<string>();
        switch (root["url-list"])
        {
            case BString single:
                AddUrl(single, urls, seen);
                break;
            case BList many:
                foreach (var url in many)
                {
                    AddUrl(url, urls, seen);
                }
                break;
        }
        return urls;
    }

    private static void AddUrl(BValue value, List<string> target, HashSet<string> seen)
    {
        if (value is BString text && !string.IsNullOrWhiteSpace(text.Text) && seen.Add(text.Text))
        {
            target.Add(text.Text);
        }
    }
}
