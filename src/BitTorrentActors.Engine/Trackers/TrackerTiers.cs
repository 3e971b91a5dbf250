namespace BitTorrentActors.Engine.Trackers;

/// <summary>
/// The announce order of BEP 12: tiers in order, trackers within a tier in order, and a tracker that answers
/// moves to the front of its tier so the next announce asks it first. Shuffling each tier once (the rest of
/// BEP 12) is a later change to the constructor; callers only see <see cref="InOrder"/> and <see cref="Promote"/>.
/// </summary>
internal sealed class TrackerTiers
{
    private readonly List<List<string>> _tiers;

    public TrackerTiers(IEnumerable<IEnumerable<string>> tiers)
    {
        _tiers = tiers.Select(t => t.Distinct(StringComparer.Ordinal).ToList()).Where(t => t.Count > 0).ToList();
    }

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
