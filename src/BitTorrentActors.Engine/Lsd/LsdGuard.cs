using System.Net.NetworkInformation;

namespace BitTorrentActors.Engine.Lsd;

/// <summary>
/// Whether the session may open the multicast socket. A multicast group is not loopback, so under
/// bta.session.loopback-only (every test host) announces could reach a real network: LSD then runs only when the
/// process is in a network namespace whose only interface up is loopback (a test's <c>unshare -n</c>), where
/// nothing can leave. Pure over the interface list so a test proves the refusal.
/// </summary>
public static class LsdGuard
{
    /// <summary>One interface as the guard sees it.</summary>
    public sealed record Interface(string Name, bool IsLoopback, OperationalStatus Status);

    /// <summary>Null when LSD may run; else why not (one line for the log).</summary>
    public static string? Refusal(bool loopbackOnly, IEnumerable<Interface> interfaces)
    {
        ArgumentNullException.ThrowIfNull(interfaces);
        if (!loopbackOnly)
        {
            return null;
        }
        // Anything not known to be down counts as up (a tunnel reports Unknown): refusing is the safe mistake.
        var up = interfaces.Where(i => !i.IsLoopback && i.Status is not (OperationalStatus.Down
            or OperationalStatus.NotPresent or OperationalStatus.LowerLayerDown)).Select(i => i.Name).ToList();
        return up.Count == 0 ? null
            : $"LSD off: bta.session.loopback-only is on and multicast could leave through {string.Join(", ", up)}"
              + " (it runs only in a network namespace with nothing but loopback up)";
    }

    /// <summary>The machine's interfaces now; an error reading them refuses (as an interface up would).</summary>
    public static string? Refusal(bool loopbackOnly)
    {
        if (!loopbackOnly)
        {
            return null;
        }
        try
        {
            return Refusal(true, NetworkInterface.GetAllNetworkInterfaces().Select(i =>
                new Interface(i.Name, i.NetworkInterfaceType == NetworkInterfaceType.Loopback, i.OperationalStatus)));
        }
        catch (NetworkInformationException e)
        {
            return $"LSD off: bta.session.loopback-only is on and the network interfaces could not be read ({e.Message})";
        }
    }
}
