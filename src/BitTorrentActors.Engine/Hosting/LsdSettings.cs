using Akka.Configuration;

namespace BitTorrentActors.Engine.Hosting;

/// <summary>Local service discovery (<c>bta.lsd</c>, BEP 14).</summary>
public sealed record LsdSettings(bool Enabled, TimeSpan AnnounceInterval)
{
    /// <summary>libtorrent's <c>local_service_announce_interval</c>: 5 minutes.</summary>
    public static readonly LsdSettings Default = new(true, TimeSpan.FromMinutes(5));

    /// <summary>BEP 14: a client announces a torrent no more than once a minute.</summary>
    public static readonly TimeSpan MinAnnounceInterval = TimeSpan.FromMinutes(1);

    internal static LsdSettings Read(ConfigReader r, Config config)
    {
        if (!config.HasPath("bta.lsd"))
        {
            return Default;
        }
        var interval = r.GetDuration("bta.lsd.announce-interval");
        if (interval < MinAnnounceInterval)
        {
            throw new BtaConfigException("bta.lsd.announce-interval",
                $"must be at least 1m (BEP 14 allows one announce a minute), got {interval}");
        }
        return new LsdSettings(SessionSettings.ReadBool(r, "bta.lsd.enabled"), interval);
    }
}
