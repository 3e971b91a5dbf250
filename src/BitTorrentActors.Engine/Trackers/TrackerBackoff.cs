namespace BitTorrentActors.Engine.Trackers;

/// <summary>Waits between failed announce rounds: exponential from the minimum, capped, with jitter.</summary>
internal static class TrackerBackoff
{
    /// <summary>±20 %: enough to keep many clients from retrying a recovering tracker in lock-step.</summary>
    public const double JitterFactor = 0.2;

    /// <summary>The wait after <paramref name="failures"/> failed rounds (1 = the first), always within [min, max].</summary>
    public static TimeSpan Delay(int failures, TimeSpan min, TimeSpan max, Random random)
    {
        // Doubling stops well before overflow: 2^30 times any sensible minimum is far past any maximum.
        var exponent = Math.Clamp(failures - 1, 0, 30);
        var ticks = Math.Min((double)max.Ticks, min.Ticks * Math.Pow(2, exponent));
        var jittered = ticks * (1 + JitterFactor * (2 * random.NextDouble() - 1));
        return TimeSpan.FromTicks((long)Math.Clamp(jittered, min.Ticks, max.Ticks));
    }
}
