namespace BitTorrentActors.Engine.Trackers;

/// <summary>
/// The announce order of BEP 12: tiers in order, the trackers within a tier shuffled once when the torrent is
/// loaded (so clients spread over a tier's trackers), and a tracker that answers moves to the front of its tier so
/// the next announce asks it first.
/// </summary>
internal sealed class TrackerTiers
{
    private readonly List<List<string>> _tiers;

    /// <param name="shuffle">Shuffles each tier once; null keeps the torrent's order (tests, and callers that
    /// already shuffled).</param>
    public TrackerTiers(IEnumerable<IEnumerable<string>> tiers, Random? shuffle = null)
    {
        _tiers = tiers.Select(t => t.Distinct(StringComparer.Ordinal).ToList()).Where(t => t.Count > 0).ToList();
        if (shuffle is not null)
        {
            foreach (var tier in _tiers)
            {
                var shuffled = tier.ToArray();
                shuffle.Shuffle(shuffled);
                tier.Clear();
                tier.AddRange(shuffled);
            }
        }
    }

    /// <summary>The tiers in their current order (a copy).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Tiers => _tiers.Select(t => (IReadOnlyList<string>)t.ToList()).ToList();

    public bool IsEmpty => _tiers.Count == 0;

    /// <summary>A snapshot of the order one announce walks: the first that answers ends the walk.</summary>
    public IReadOnlyList<string> InOrder() => _tiers.SelectMany(t => t).ToList();

    /// <summary>Moves the tracker to the front of its tier; unknown URLs are ignored.</summary>
    public void Promote(string url)
    {
        foreach (var tier in _tiers)
        {
            var index = tier.IndexOf(url);
            if (index > 0)
            {
                tier.RemoveAt(index);
                tier.Insert(0, url);
                return;
            }
        }
    }
}
