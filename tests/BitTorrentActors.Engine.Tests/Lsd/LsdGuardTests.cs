using System.Net.NetworkInformation;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Lsd;
using BitTorrentActors.Engine.Tests.TestSupport;
using Guard = BitTorrentActors.Engine.Lsd.LsdGuard;

namespace BitTorrentActors.Engine.Tests.Lsd;

/// <summary>The loopback guard for LSD, and its settings: multicast is not loopback, so under loopback-only LSD
/// runs only where nothing but lo is up.</summary>
public sealed class LsdGuardTests
{
    private static readonly Guard.Interface Lo = new("lo", IsLoopback: true, OperationalStatus.Unknown);

    [Fact]
    public void Under_loopback_only_an_interface_up_besides_lo_keeps_lsd_off_and_says_which()
    {
        var refusal = Guard.Refusal(true, [Lo, new("eth0", false, OperationalStatus.Up), new("ifb0", false, OperationalStatus.Down)]);

        Assert.NotNull(refusal);
        Assert.Contains("loopback-only", refusal);
        Assert.Contains("eth0", refusal);
        Assert.DoesNotContain("ifb0", refusal);
        Assert.DoesNotContain("\n", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void An_interface_in_an_unknown_state_counts_as_up()
    {
        Assert.Contains("tun0", Guard.Refusal(true, [Lo, new("tun0", false, OperationalStatus.Unknown)]));
    }

    [Fact]
    public void With_nothing_but_loopback_up_or_without_loopback_only_lsd_may_run()
    {
        Assert.Null(Guard.Refusal(true, [Lo, new("eth0", false, OperationalStatus.Down)]));
        Assert.Null(Guard.Refusal(true, [Lo]));
        Assert.Null(Guard.Refusal(false, [Lo, new("eth0", false, OperationalStatus.Up)]));
    }

    [Fact]
    public void The_machines_own_interfaces_decide_under_loopback_only()
    {
        // This host (and CI) has eth0 up: the guard must refuse here; inside `unshare -n` it allows (the interop test).
        var up = NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.NetworkInterfaceType != NetworkInterfaceType.Loopback
                && i.OperationalStatus is not (OperationalStatus.Down or OperationalStatus.NotPresent or OperationalStatus.LowerLayerDown))
            .Select(i => i.Name).ToList();

        var refusal = Guard.Refusal(true);

        Assert.Equal(up.Count > 0, refusal is not null);
    }

    [Fact]
    public void The_shipped_settings_turn_lsd_on_every_five_minutes_and_refuse_a_shorter_interval_than_bep_14_allows()
    {
        var shipped = TestTorrents.Settings();
        Assert.True(shipped.Lsd.Enabled);
        Assert.Equal(TimeSpan.FromMinutes(5), shipped.Lsd.AnnounceInterval);
        Assert.False(TestTorrents.Settings("bta.lsd.enabled = false").Lsd.Enabled);
        Assert.Equal(TimeSpan.FromMinutes(2), TestTorrents.Settings("bta.lsd.announce-interval = 2m").Lsd.AnnounceInterval);

        var error = Assert.Throws<BtaConfigException>(() => TestTorrents.Settings("bta.lsd.announce-interval = 30s"));
        Assert.Contains("bta.lsd.announce-interval", error.Message);
    }
}
