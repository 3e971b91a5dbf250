using System.Net;
using System.Net.Sockets;
using BitTorrentActors.Engine.Hosting;

namespace BitTorrentActors.Engine.Dht;

/// <summary>
/// bta.dht.bootstrap-nodes to endpoints: IP literals as they are, names through DNS (each bounded in time), for the
/// session (piped to it, never awaited on its thread) and <c>bta dht</c>. With loopback-only on a name is not
/// even looked up: the lookup itself would be traffic beyond loopback (the shipped default names public routers).
/// </summary>
public static class DhtBootstrap
{
    /// <summary>A name lookup never holds the bootstrap longer than this (a dead resolver).</summary>
    public static readonly TimeSpan ResolveBudget = TimeSpan.FromSeconds(10);

    /// <summary>The endpoints, and one line per entry that gave none.</summary>
    public sealed record Resolved(IReadOnlyList<IPEndPoint> Nodes, IReadOnlyList<string> Failures);

    /// <summary>True when every entry is an IP literal or refused without a lookup, so no await is needed.</summary>
    public static Resolved? TryWithoutLookup(IReadOnlyList<string> entries, bool loopbackOnly)
    {
        var (nodes, names, failures) = Split(entries, loopbackOnly);
        return names.Count == 0 ? new Resolved(nodes, failures) : null;
    }

    public static async Task<Resolved> ResolveAsync(IReadOnlyList<string> entries, bool loopbackOnly, AddressFamily family,
        CancellationToken cancellationToken = default)
    {
        var (nodes, names, failures) = Split(entries, loopbackOnly);
        foreach (var (host, port) in names)
        {
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            budget.CancelAfter(ResolveBudget);
            try
            {
                var addresses = await Dns.GetHostAddressesAsync(host, family, budget.Token).ConfigureAwait(false);
                nodes.AddRange(addresses.Take(4).Select(a => new IPEndPoint(a, port)));
                if (addresses.Length == 0)
                {
                    failures.Add($"{host}: no {family} address");
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ArgumentException)
            {
                failures.Add($"{host}: {(e is OperationCanceledException ? $"no answer in {ResolveBudget.TotalSeconds:0} s" : e.Message)}");
            }
        }
        return new Resolved(nodes, failures);
    }

    private static (List<IPEndPoint> Nodes, List<(string Host, int Port)> Names, List<string> Failures) Split(
        IReadOnlyList<string> entries, bool loopbackOnly)
    {
        var nodes = new List<IPEndPoint>();
        var names = new List<(string Host, int Port)>();
        var failures = new List<string>();
        foreach (var entry in entries)
        {
            if (!DhtSettings.TryParseNode(entry, out var host, out var port, out var error))
            {
                failures.Add(error!);
            }
            else if (IPAddress.TryParse(host, out var address))
            {
                nodes.Add(new IPEndPoint(address, port));
            }
            else if (loopbackOnly)
            {
                failures.Add($"{entry} not looked up: bta.session.loopback-only takes IP addresses only");
            }
            else
            {
                names.Add((host, port));
            }
        }
        return (nodes, names, failures);
    }
}
