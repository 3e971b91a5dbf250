#!/usr/bin/python3 -u
"""Helpers for tests/bench/run.sh, driving python3-libtorrent 2.0 (Debian's /usr/bin/python3 only).

Subcommands (all bound to 127.0.0.1, all bounded in time):
  freeport N                          print N free TCP+UDP loopback ports in 20000-32000 (below the ephemeral range)
  maketorrent SRC OUT PIECE ANNOUNCE  v1-only torrent of SRC; prints the v1 info-hash (40 hex)
  seeder TORRENT SAVE PORT LIFETIME DIALFILE
                                      libtorrent seeder; prints "ready" once seeding; dials every host:port line
                                      that appears in DIALFILE (for leechers that never dial loopback peers)
  leecher TORRENT SAVE PORT TIMEOUT   libtorrent leecher; exits 0 when complete, 1 on timeout
  scrapewait URL HEX N TIMEOUT        waits until the tracker's scrape shows >= N seeders of HEX
  summary RESULTS SIZE                prints the result table from the TSV run.sh wrote
  maketorrents PIECE ANNOUNCE OUTDIR SRC...
                                      one v1 torrent per SRC into OUTDIR (NAME.torrent); prints their info-hashes
  multiseeder TORRENTDIR SAVE PORT LIFETIME
                                      one libtorrent session seeding every *.torrent in TORRENTDIR; prints "ready"
  rpcadd URL TORRENT...               adds the torrents through a Transmission RPC (bta daemon), all in a row
  rpcwait URL COUNT TIMEOUT           waits until COUNT torrents are complete; prints errors; exit 1 on any error
  seedsummary RESULTS SIZE            the same for run.sh --mode seed (per seeder and number of leechers)
  stracesummary LOGDIR SIZE           syscalls per MiB from the CLIENT-ROUND.strace files (strace -c -f output)
"""
import os
import random
import socket
import statistics
import sys
import time
import urllib.request


def freeport(count):
    found = []
    rnd = random.Random()
    for _ in range(2000):
        port = rnd.randint(20000, 32000)
        if port in found:
            continue
        try:
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind(('127.0.0.1', port))
            t.close()
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(('127.0.0.1', port))
            u.close()
        except OSError:
            continue
        found.append(port)
        if len(found) == count:
            print(' '.join(str(p) for p in found))
            return 0
    print('no free loopback ports in 20000-32000', file=sys.stderr)
    return 1


def session(lt, port, extra=None):
    settings = {
        'listen_interfaces': '127.0.0.1:%d' % port, 'outgoing_interfaces': '127.0.0.1',
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'allow_multiple_connections_per_ip': True,
        # TCP only: libtorrent prefers uTP between two libtorrent sessions, and uTP's delay-based congestion
        # control crawls on a busy loopback (a 1 GiB download went at 4 MB/s). Every other client here uses TCP.
        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
        'alert_mask': lt.alert.category_t.error_notification,
    }
    settings.update(extra or {})
    return lt.session(settings)


def add(lt, s, torrent, save):
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(torrent)
    p.save_path = save
    p.flags &= ~lt.torrent_flags.auto_managed
    p.flags &= ~lt.torrent_flags.paused
    return s.add_torrent(p)


def maketorrent(src, out, piece, announce):
    import libtorrent as lt
    fs = lt.file_storage()
    lt.add_files(fs, src)
    t = lt.create_torrent(fs, int(piece), flags=lt.create_torrent.v1_only)
    t.add_tracker(announce)
    t.set_creator('bta benchmark')
    lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(src)))
    with open(out, 'wb') as f:
        f.write(lt.bencode(t.generate()))
    print(str(lt.torrent_info(out).info_hashes().v1))
    return 0


def maketorrents(piece, announce, outdir, *sources):
    import libtorrent as lt
    for src in sources:
        fs = lt.file_storage()
        lt.add_files(fs, src)
        t = lt.create_torrent(fs, int(piece), flags=lt.create_torrent.v1_only)
        t.add_tracker(announce)
        t.set_creator('bta benchmark')
        lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(src)))
        out = os.path.join(outdir, os.path.basename(src) + '.torrent')
        with open(out, 'wb') as f:
            f.write(lt.bencode(t.generate()))
        print(str(lt.torrent_info(out).info_hashes().v1))
    return 0


def multiseeder(torrentdir, save, port, lifetime):
    import libtorrent as lt
    s = session(lt, int(port), {'unchoke_slots_limit': -1, 'connections_limit': 5000,
                                'active_downloads': -1, 'active_seeds': -1, 'active_limit': -1})
    handles = [add(lt, s, os.path.join(torrentdir, name), save)
               for name in sorted(os.listdir(torrentdir)) if name.endswith('.torrent')]
    ready = False
    end = time.time() + float(lifetime)
    while time.time() < end:
        for a in s.pop_alerts():
            print('alert %s' % a.message(), flush=True)
        if not ready and all(h.status().is_seeding for h in handles):
            for h in handles:
                h.force_reannounce()
            print('ready', flush=True)
            ready = True
        time.sleep(0.25)
    print('lifetime over', flush=True)
    return 0


class Rpc:
    """A minimal Transmission RPC client (session id handshake, JSON), for bta daemon on loopback."""

    def __init__(self, url):
        self.url = url
        self.session = ''

    def call(self, method, arguments):
        import json
        body = json.dumps({'method': method, 'arguments': arguments}).encode()
        for _ in range(3):
            req = urllib.request.Request(self.url, data=body, headers={
                'X-Transmission-Session-Id': self.session, 'Content-Type': 'application/json'})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    answer = json.loads(r.read().decode())
                if answer.get('result') != 'success':
                    raise RuntimeError('%s: %s' % (method, answer.get('result')))
                return answer.get('arguments', {})
            except urllib.error.HTTPError as e:
                if e.code != 409:
                    raise
                self.session = e.headers.get('X-Transmission-Session-Id', '')
        raise RuntimeError('%s: no session id' % method)


def rpcadd(url, *torrents):
    import base64
    rpc = Rpc(url)
    for t in torrents:
        with open(t, 'rb') as f:
            metainfo = base64.b64encode(f.read()).decode()
        rpc.call('torrent-add', {'metainfo': metainfo})
    print('added %d' % len(torrents), flush=True)
    return 0


def rpcwait(url, count, timeout):
    rpc = Rpc(url)
    count = int(count)
    end = time.time() + float(timeout)
    last = ''
    while time.time() < end:
        ts = rpc.call('torrent-get', {'fields': ['id', 'name', 'percentDone', 'leftUntilDone', 'error',
                                                 'errorString']})['torrents']
        errors = [t for t in ts if t.get('error')]
        if errors:
            for t in errors:
                print('error: %s: %s' % (t['name'], t.get('errorString')), flush=True)
            return 1
        done = sum(1 for t in ts if t.get('leftUntilDone', 1) == 0 and t.get('percentDone', 0) >= 1)
        state = '%d of %d complete' % (done, len(ts))
        if state != last:
            print(state, flush=True)
            last = state
        if len(ts) >= count and done >= count:
            return 0
        time.sleep(0.5)
    print('timeout: %s' % last, flush=True)
    return 1


def seeder(torrent, save, port, lifetime, dialfile):
    import libtorrent as lt
    # A seeder must never be the bottleneck by configuration: no upload cap, generous unchoke slots.
    s = session(lt, int(port), {'unchoke_slots_limit': -1, 'connections_limit': 2000})
    h = add(lt, s, torrent, save)
    ready = False
    dialled = 0
    end = time.time() + float(lifetime)
    while time.time() < end:
        for a in s.pop_alerts():
            print('alert %s' % a.message(), flush=True)
        st = h.status()
        if not ready and st.is_seeding:
            # The first announce may have gone out while checking (left > 0): announce again as a seed.
            h.force_reannounce()
            print('ready', flush=True)
            ready = True
        if ready and os.path.exists(dialfile):
            with open(dialfile) as f:
                lines = [l.strip() for l in f if l.strip()]
            for peer in lines[dialled:]:
                host, _, pport = peer.rpartition(':')
                h.connect_peer((host, int(pport)))
                print('dialled %s' % peer, flush=True)
            dialled = len(lines)
        time.sleep(0.25)
    print('lifetime over', flush=True)
    return 0


def leecher(torrent, save, port, timeout):
    import libtorrent as lt
    s = session(lt, int(port))
    h = add(lt, s, torrent, save)
    end = time.time() + float(timeout)
    while time.time() < end:
        for a in s.pop_alerts():
            print('alert %s' % a.message(), flush=True)
        st = h.status()
        if st.is_seeding:
            print('finished', flush=True)
            # Flush and close the files before exiting, as the other clients do.
            s.remove_torrent(h)
            return 0
        time.sleep(0.05)
    print('timeout', flush=True)
    return 1


def scrapewait(url, hexhash, count, timeout):
    escaped = ''.join('%%%s' % hexhash[i:i + 2] for i in range(0, 40, 2))
    scrape = url.replace('/announce', '/scrape') + '?info_hash=' + escaped
    end = time.time() + float(timeout)
    last = ''
    while time.time() < end:
        try:
            body = urllib.request.urlopen(scrape, timeout=5).read().decode('latin-1')
            last = body
            marker = '8:completei'
            i = body.find(marker)
            if i >= 0 and int(body[i + len(marker):body.index('e', i + len(marker))]) >= int(count):
                return 0
        except OSError as e:
            last = str(e)
        time.sleep(0.2)
    print('tracker does not list %s seeders: %s' % (count, last), file=sys.stderr)
    return 1


def summary(results, size):
    size = int(size)
    rows = {}
    order = []
    with open(results) as f:
        for line in f:
            parts = line.rstrip('\n').split('\t')
            if len(parts) != 6 or parts[0] == 'client':
                continue
            client, _round, wall, rss_kb, user, sys_s = parts
            if client not in rows:
                rows[client] = []
                order.append(client)
            rows[client].append((float(wall), int(rss_kb), float(user) + float(sys_s), float(user), float(sys_s)))
    med = {}
    for c in order:
        r = rows[c]
        med[c] = (statistics.median(x[0] for x in r), statistics.median(x[1] for x in r),
                  statistics.median(x[2] for x in r), len(r),
                  statistics.median(x[3] for x in r), statistics.median(x[4] for x in r))
    gib = size / float(1 << 30)
    print('%-13s %5s %9s %9s %14s %10s %11s %8s %8s' % ('client', 'runs', 'median s', 'MB/s', 'peak RSS MB', 'CPU s',
                                                        'CPU-s/GiB', 'user s', 'sys s'))
    for c in order:
        wall, rss, cpu, n, user, sys_s = med[c]
        print('%-13s %5d %9.2f %9.1f %14.1f %10.2f %11.2f %8.2f %8.2f' % (
            c, n, wall, size / wall / 1e6, rss / 1024.0, cpu, cpu / gib, user, sys_s))
    # The other clients are the references; bta-alt is another bta build, compared with them as bta is.
    refs = [c for c in order if c not in ('bta', 'bta-alt')]
    for b in [c for c in ('bta', 'bta-alt') if c in med]:
        if not refs:
            break
        fastest = min(refs, key=lambda c: med[c][0])
        print('%s median time / fastest reference (%s): %.2fx' % (b, fastest, med[b][0] / med[fastest][0]))
        cheapest = min(refs, key=lambda c: med[c][2])
        print('%s CPU-s per GiB / lowest reference (%s): %.2fx' % (b, cheapest, med[b][2] / med[cheapest][2]))
        # Issue 14's targets: time against libtorrent's, CPU against aria2's, in the same run.
        if 'libtorrent' in med and fastest != 'libtorrent':
            print('%s median time / libtorrent: %.2fx' % (b, med[b][0] / med['libtorrent'][0]))
        if 'aria2' in med and cheapest != 'aria2':
            print('%s CPU-s per GiB / aria2: %.2fx' % (b, med[b][2] / med['aria2'][2]))
    if 'bta' in med and 'bta-alt' in med:
        print('bta median time / bta-alt: %.2fx, CPU-s per GiB: %.2fx' % (
            med['bta'][0] / med['bta-alt'][0], med['bta'][2] / med['bta-alt'][2]))
    return 0


def seedsummary(results, size):
    """Medians per (seeder, leechers): time until every leecher is done, seeder CPU per GiB uploaded, peak RSS."""
    size = int(size)
    rows = {}
    order = []
    with open(results) as f:
        for line in f:
            parts = line.rstrip('\n').split('\t')
            if len(parts) != 8 or parts[0] == 'seeder':
                continue
            seeder, leechers, _round, wall, rss_kb, user, sys_s, _walls = parts
            key = (seeder, int(leechers))
            if key not in rows:
                rows[key] = []
                order.append(key)
            rows[key].append((float(wall), int(rss_kb or 0), float(user), float(sys_s)))
    med = {}
    for key in order:
        r = rows[key]
        med[key] = tuple(statistics.median(x[i] for x in r) for i in range(4)) + (len(r),)
    print('%-11s %8s %5s %9s %9s %14s %13s %13s %11s' % (
        'seeder', 'leechers', 'runs', 'median s', 'MB/s up', 'peak RSS MB', 'user s/GiB up', 'sys s/GiB up',
        'CPU-s/GiB'))
    for key in order:
        wall, rss, user, sys_s, n = med[key]
        up_gib = size * key[1] / float(1 << 30)
        print('%-11s %8d %5d %9.2f %9.1f %14.1f %13.2f %13.2f %11.2f' % (
            key[0], key[1], n, wall, size * key[1] / wall / 1e6, rss / 1024.0, user / up_gib, sys_s / up_gib,
            (user + sys_s) / up_gib))
    for leechers in sorted({k[1] for k in order}):
        ref = med.get(('libtorrent', leechers))
        for build in ('bta', 'bta-alt'):
            bta = med.get((build, leechers))
            if bta and ref:
                print('%d leecher(s): %s median time / libtorrent seeder: %.2fx' % (leechers, build, bta[0] / ref[0]))
                if ref[2] + ref[3] > 0:
                    print('%d leecher(s): %s seeder CPU-s per GiB / libtorrent seeder: %.2fx' % (
                        leechers, build, (bta[2] + bta[3]) / (ref[2] + ref[3])))
    return 0


STRACE_CALLS = ('recvfrom', 'read', 'recvmsg', 'sendto', 'sendmsg', 'write', 'pwrite64', 'pwritev', 'pwritev2',
                'pread64', 'futex', 'sched_yield', 'epoll_wait', 'epoll_pwait', 'poll', 'ppoll', 'fsync', 'fdatasync',
                'mmap', 'munmap', 'madvise', 'mprotect')


def stracesummary(logdir, size):
    """Median per client of the calls per MiB that strace -c counted, and of all syscalls per MiB."""
    mib = int(size) / float(1 << 20)
    per = {}
    order = []
    for name in sorted(os.listdir(logdir)):
        if not name.endswith('.strace'):
            continue
        client = name[:-len('.strace')].rsplit('-', 1)[0]
        counts = {}
        with open(os.path.join(logdir, name)) as f:
            for line in f:
                parts = line.split()
                # "% time  seconds  usecs/call  calls  [errors]  syscall"; the total line ends in "total".
                if len(parts) >= 5 and parts[0][0].isdigit() and parts[3].isdigit():
                    counts[parts[-1]] = int(parts[3])
        if client not in per:
            per[client] = []
            order.append(client)
        per[client].append(counts)
    if not order:
        return 0
    shown = [c for c in STRACE_CALLS if any(c in r for rows in per.values() for r in rows)]
    print()
    print('syscalls per MiB (strace -c -f, median of runs):')
    print('%-13s' % 'client' + ''.join(' %11s' % c for c in shown) + ' %11s' % 'all')
    for client in order:
        rows = per[client]
        line = '%-13s' % client
        for c in shown:
            line += ' %11.1f' % (statistics.median(r.get(c, 0) for r in rows) / mib)
        line += ' %11.1f' % (statistics.median(r.get('total', 0) for r in rows) / mib)
        print(line)
    return 0


def main(argv):
    commands = {
        'freeport': (freeport, 1), 'maketorrent': (maketorrent, 4), 'seeder': (seeder, 5),
        'leecher': (leecher, 4), 'scrapewait': (scrapewait, 4), 'summary': (summary, 2),
        'seedsummary': (seedsummary, 2), 'stracesummary': (stracesummary, 2),
    }
    variadic = {'maketorrents': (maketorrents, 4), 'rpcadd': (rpcadd, 2)}
    if len(argv) >= 2 and argv[1] in variadic and len(argv) - 2 >= variadic[argv[1]][1]:
        return variadic[argv[1]][0](*argv[2:])
    commands['multiseeder'] = (multiseeder, 4)
    commands['rpcwait'] = (rpcwait, 3)
    if len(argv) < 2 or argv[1] not in commands or len(argv) - 2 != commands[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    fn, _ = commands[argv[1]]
    args = argv[2:]
    if argv[1] == 'freeport':
        return fn(int(args[0]))
    return fn(*args)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
