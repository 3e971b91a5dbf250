#!/usr/bin/python3 -u
"""N scripted BitTorrent peers on 127.0.0.1 that do nothing, for tests/bench/idle-peers.sh.

Usage: idlepeers.py COUNT INFOHASH_HEX PIECES PORTSFILE LIFETIME_S

Listens on COUNT free loopback ports in 20000-32000 (written to PORTSFILE, one per line), then prints "listening".
Every connection that arrives gets: our handshake (same info-hash, no extension bits), an all-zero bitfield (we have
nothing, so nobody wants anything from us), then a keep-alive every 30 s; whatever the client sends is read and
dropped. Prints "connected N" whenever the number of handshaken connections changes. Exits after LIFETIME_S.
"""
import asyncio
import os
import random
import socket
import struct
import sys

PROTOCOL = b'\x13BitTorrent protocol'


async def main(count, infohash, pieces, portsfile, lifetime):
    info = bytes.fromhex(infohash)
    bitfield_len = (pieces + 7) // 8
    bitfield = struct.pack('>IB', 1 + bitfield_len, 5) + bytes(bitfield_len)
    live = set()
    state = {'reported': -1}

    def report():
        if len(live) != state['reported']:
            state['reported'] = len(live)
            print('connected %d' % len(live), flush=True)

    async def serve(reader, writer):
        key = object()
        try:
            hs = await asyncio.wait_for(reader.readexactly(68), 30)
            if hs[:20] != PROTOCOL or hs[28:48] != info:
                return
            peer_id = b'-IP0001-' + os.urandom(12)
            writer.write(PROTOCOL + bytes(8) + info + peer_id + bitfield)
            await writer.drain()
            live.add(key)
            report()

            async def keepalive():
                while True:
                    await asyncio.sleep(30)
                    writer.write(b'\x00\x00\x00\x00')
                    await writer.drain()

            ka = asyncio.ensure_future(keepalive())
            try:
                while await reader.read(65536):
                    pass
            finally:
                ka.cancel()
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass
        finally:
            live.discard(key)
            report()
            writer.close()

    servers = []
    ports = []
    rnd = random.Random()
    attempts = 0
    while len(ports) < count:
        attempts += 1
        if attempts > count * 20:
            print('could not find %d free loopback ports' % count, file=sys.stderr)
            return 1
        port = rnd.randint(20000, 32000)
        if port in ports:
            continue
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(('127.0.0.1', port))
        except OSError:
            sock.close()
            continue
        servers.append(await asyncio.start_server(serve, sock=sock, backlog=16))
        ports.append(port)
    with open(portsfile, 'w') as f:
        f.write('\n'.join(str(p) for p in ports) + '\n')
    print('listening', flush=True)
    await asyncio.sleep(lifetime)
    for s in servers:
        s.close()
    return 0


if __name__ == '__main__':
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))))
