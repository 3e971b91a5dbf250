namespace BitTorrentActors.Engine.Tests.Dht;

/// <summary>The python that starts a DHT of python3-libtorrent nodes on loopback, shared by the DHT interop tests.</summary>
internal static class LibtorrentDhtMesh
{
    /// <summary>Needs <c>ports</c> (one per node) and <c>lifetime</c> (seconds) defined, and <c>sys</c>, <c>time</c> and
    /// <c>lt</c> imported. Node i listens on 127.0.(i+1).1 (each its own address, so libtorrent's per-IP limits keep
    /// their defaults), with no bootstrap, LSD, UPnP or NAT-PMP; every node is told of every other. Defines
    /// <c>nodes</c>, <c>mask</c> and <c>end</c> (the deadline).</summary>
    public const string Join = """
        mask = lt.alert.category_t.dht_operation_notification | lt.alert.category_t.error_notification
        nodes = []
        for i, port in enumerate(ports):
            ip = '127.0.%d.1' % (i + 1)
            nodes.append(lt.session({'listen_interfaces': '%s:%d' % (ip, port), 'outgoing_interfaces': ip,
                'enable_dht': True, 'dht_bootstrap_nodes': '', 'enable_lsd': False, 'enable_upnp': False,
                'enable_natpmp': False, 'alert_mask': mask}))
        end = time.time() + lifetime
        while not all(s.is_dht_running() for s in nodes) and time.time() < end:
            time.sleep(0.05)
        for i, s in enumerate(nodes):
            for j, port in enumerate(ports):
                if i != j:
                    s.add_dht_node(('127.0.%d.1' % (j + 1), port))
        """;
}
