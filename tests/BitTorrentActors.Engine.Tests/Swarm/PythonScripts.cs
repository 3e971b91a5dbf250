namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>
/// Python scripts driving python3-libtorrent 2.0, kept as constants (no project-file change needed) and written to a
/// test's folder before use. Run with Debian's /usr/bin/python3 -u (the only python that imports libtorrent).
/// </summary>
public static class PythonScripts
{
    /// <summary>argv: torrent save_path port upload_limit lifetime_s. Prints "ready" once seeding, then
    /// "uploaded N peers M" four times a second (N = payload bytes uploaded by this session).</summary>
    public const string Seeder = """
        import sys, time, libtorrent as lt
        torrent, save, port, limit, lifetime = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
        s = lt.session({'listen_interfaces': '127.0.0.1:%d' % port, 'outgoing_interfaces': '127.0.0.1',
            'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
            'allow_multiple_connections_per_ip': True, 'upload_rate_limit': limit,
            'alert_mask': lt.alert.category_t.error_notification})
        if limit > 0:
            f = lt.ip_filter()
            f.add_rule('0.0.0.0', '255.255.255.255', 1 << lt.session.global_peer_class_id)
            s.set_peer_class_filter(f)
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(torrent)
        p.save_path = save
        p.flags &= ~lt.torrent_flags.auto_managed
        p.flags &= ~lt.torrent_flags.paused
        h = s.add_torrent(p)
        if limit > 0:
            h.set_upload_limit(limit)
        ready = False
        end = time.time() + lifetime
        while time.time() < end:
            for a in s.pop_alerts():
                print('alert %s' % a.message(), flush=True)
            st = h.status()
            if not ready and st.is_seeding:
                print('ready', flush=True)
                ready = True
            if ready:
                print('uploaded %d peers %d' % (st.total_payload_upload, st.num_peers), flush=True)
            else:
                print('state %s progress %.3f' % (st.state, st.progress), flush=True)
            time.sleep(0.25)
        print('lifetime over', flush=True)
        """;

    /// <summary>The start of every libtorrent leecher script: argv torrent save_path port lifetime_s; a TCP-only
    /// session on 127.0.0.1 with the torrent added, started and not auto-managed (handle <c>h</c>, session <c>s</c>).</summary>
    public const string LeecherSession = """
        import sys, time, libtorrent as lt
        torrent, save, port, lifetime = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        s = lt.session({'listen_interfaces': '127.0.0.1:%d' % port, 'outgoing_interfaces': '127.0.0.1',
            'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
            'allow_multiple_connections_per_ip': True, 'alert_mask': lt.alert.category_t.error_notification})
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(torrent)
        p.save_path = save
        p.flags &= ~lt.torrent_flags.auto_managed
        p.flags &= ~lt.torrent_flags.paused
        h = s.add_torrent(p)
        """;

    /// <summary>argv: torrent save_path port lifetime_s [host:port ...]. Prints "progress P downloaded N peers M";
    /// exits 0 after "finished", 1 after "timeout".</summary>
    public const string Leecher = LeecherSession + "\n" + """
        for peer in sys.argv[5:]:
            host, _, pport = peer.rpartition(':')
            h.connect_peer((host, int(pport)))
        end = time.time() + lifetime
        while time.time() < end:
            for a in s.pop_alerts():
                print('alert %s' % a.message(), flush=True)
            st = h.status()
            print('progress %.3f downloaded %d peers %d' % (st.progress, st.total_payload_download, st.num_peers), flush=True)
            if st.is_seeding:
                print('finished', flush=True)
                sys.exit(0)
            time.sleep(0.25)
        print('timeout', flush=True)
        sys.exit(1)
        """;

    /// <summary>argv: torrent_or_magnet save_path port lifetime_s upload_limit pex|nopex [host:port ...]. Seeds or leeches a
    /// .torrent, or starts from a magnet link; dials the peers given over TCP only (libtorrent tries uTP first, and
    /// waits about 4 s for it to time out against a peer without uTP); keeps seed-to-seed connections (libtorrent
    /// closes them by default). Prints "metadata T" and "finished T" (seconds since start) once, "uploaded N downloaded M
    /// peers K" four times a second and "peer IP:PORT source BITS client NAME" for each peer every second.</summary>
    public const string Peer = """
        import sys, time, libtorrent as lt
        source, save, port, lifetime, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
        start = time.time()
        s = lt.session({'listen_interfaces': '127.0.0.1:%d' % port, 'outgoing_interfaces': '127.0.0.1',
            'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
            'allow_multiple_connections_per_ip': True, 'close_redundant_connections': False,
            'enable_outgoing_utp': False, 'enable_incoming_utp': False,
            'upload_rate_limit': limit, 'alert_mask': lt.alert.category_t.error_notification})
        if limit > 0:
            f = lt.ip_filter()
            f.add_rule('0.0.0.0', '255.255.255.255', 1 << lt.session.global_peer_class_id)
            s.set_peer_class_filter(f)
        if source.startswith('magnet:'):
            p = lt.parse_magnet_uri(source)
        else:
            p = lt.add_torrent_params()
            p.ti = lt.torrent_info(source)
        p.save_path = save
        p.flags &= ~lt.torrent_flags.auto_managed
        p.flags &= ~lt.torrent_flags.paused
        if sys.argv[6] == 'nopex':
            p.flags |= lt.torrent_flags.disable_pex
        h = s.add_torrent(p)
        for peer in sys.argv[7:]:
            host, _, pport = peer.rpartition(':')
            h.connect_peer((host, int(pport)))
        print('started', flush=True)
        meta = done = False
        reported = listed = 0.0
        end = start + lifetime
        while time.time() < end:
            for a in s.pop_alerts():
                print('alert %s' % a.message(), flush=True)
            st = h.status()
            # Polled every 20 ms so the two times are that precise; the reports go out less often.
            if not meta and st.has_metadata:
                print('metadata %.3f' % (time.time() - start), flush=True)
                meta = True
            if not done and st.is_seeding:
                print('finished %.3f' % (time.time() - start), flush=True)
                done = True
            if time.time() - reported >= 0.25:
                reported = time.time()
                print('uploaded %d downloaded %d peers %d' % (st.total_payload_upload, st.total_payload_download, st.num_peers), flush=True)
            if time.time() - listed >= 1:
                listed = time.time()
                for pi in h.get_peer_info():
                    print('peer %s:%d source %d client %s' % (pi.ip[0], pi.ip[1], pi.source, pi.client), flush=True)
            time.sleep(0.02)
        print('lifetime over', flush=True)
        """;

    /// <summary>argv: source_path out_path piece_size announce mode ("v1" or "hybrid": v1+v2 with BEP 47 pad
    /// files). Prints "pads N" and "v1 HEX".</summary>
    public const string MakeTorrent = """
        import sys, os, libtorrent as lt
        src, out, piece, announce, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
        fs = lt.file_storage()
        lt.add_files(fs, src)
        flags = lt.create_torrent.v1_only if mode == 'v1' else 0
        t = lt.create_torrent(fs, piece, flags=flags)
        t.add_tracker(announce)
        t.set_creator('bta swarm harness')
        lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(src)))
        with open(out, 'wb') as f:
            f.write(lt.bencode(t.generate()))
        ti = lt.torrent_info(out)
        pads = sum(1 for i in range(ti.files().num_files()) if ti.files().file_flags(i) & lt.file_storage.flag_pad_file)
        print('pads %d' % pads, flush=True)
        print('v1 %s' % ti.info_hashes().v1, flush=True)
        """;

    /// <summary>Writes <paramref name="script"/> into <paramref name="folder"/> and returns its path.</summary>
    public static string WriteTo(string folder, string fileName, string script)
    {
        var path = Path.Combine(folder, fileName);
        File.WriteAllText(path, script);
        return path;
    }
}
