#!/usr/bin/python3 -u
"""Scripted hostile trackers and peers on 127.0.0.1, for tests/bench/hostile.sh. Every mode exits after LIFETIME_S.

  tracker MODE PORT LIFETIME_S
      HTTP tracker on 127.0.0.1:PORT; prints "listening", then "request N" for every request it reads.
      silent      reads the request, never answers
      body100m    200 with no Content-Length, then 100 MB of zeros; prints "sent BYTES" per connection
      deep        a reply nested 1,000,000 lists deep
      peers100k   a valid reply (interval 1800) listing 100,000 peers 127.0.x.y on ports nothing listens on
      redirect    302 to itself, forever
      interval0   a valid reply with interval 0 and min interval 0 (no peers)
      intervalneg a valid reply with interval -1 and min interval -1 (no peers)
  peers MODE COUNT INFOHASH PIECES PORTSFILE LIFETIME_S
      COUNT peers listening on free loopback ports (written to PORTSFILE), for bta to dial with --peer; each answers
      the handshake, then: haveflood (empty bitfield, unchoke, then `have` messages as fast as bta reads them),
      useless (claims every piece, never unchokes), bigprefix (a 4 GB length prefix), garbage (no bitfield, no
      extension handshake, no metadata: random bytes). Prints "listening", "connected N" and "closed N".
  dial MODE COUNT PORT INFOHASH PIECES LIFETIME_S
      COUNT connections to 127.0.0.1:PORT (bta seed): handshake, empty bitfield, interested, then
      idle (nothing more, a keep-alive every 30 s) or reqflood (requests for random blocks as fast as the socket
      takes them, whatever comes back read and dropped). Prints "connected N" and "closed N".
"""
import asyncio
import os
import random
import socket
import struct
import sys

PROTOCOL = b'\x13BitTorrent protocol'
BLOCK = 16384


def reply(status, body, extra=b''):
    head = b'HTTP/1.1 %d Hostile\r\nContent-Type: text/plain\r\n' % status
    if body is not None:
        head += b'Content-Length: %d\r\n' % len(body)
    return head + extra + b'Connection: close\r\n\r\n' + (body or b'')


def peers100k():
    out = bytearray()
    for i in range(100000):
        n = i + 1
        out += bytes([127, (n >> 16) & 255, (n >> 8) & 255, n & 255]) + struct.pack('>H', 10000 + i % 50000)
    return bytes(out)


async def tracker(mode, port, lifetime):
    state = {'requests': 0}
    canned = {
        'deep': reply(200, b'l' * 1000000 + b'e' * 1000000),
        'peers100k': reply(200, b'd8:intervali1800e5:peers600000:' + peers100k() + b'e') if mode == 'peers100k' else b'',
        'interval0': reply(200, b'd8:intervali0e12:min intervali0e5:peers0:e'),
        'intervalneg': reply(200, b'd8:intervali-1e12:min intervali-1e5:peers0:e'),
    }

    async def serve(reader, writer):
        try:
            head = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), 30)
            state['requests'] += 1
            print('request %d' % state['requests'], flush=True)
            target = head.split(b' ')[1]
            if mode == 'silent':
                await asyncio.sleep(lifetime)
            elif mode == 'redirect':
                writer.write(reply(302, b'', b'Location: http://127.0.0.1:%d%s\r\n' % (port, target)))
            elif mode == 'body100m':
                writer.write(reply(200, None))
                sent, chunk = 0, bytes(65536)
                try:
                    while sent < 100 * 1000 * 1000:
                        writer.write(chunk)
                        await writer.drain()
                        sent += len(chunk)
                finally:
                    print('sent %d' % sent, flush=True)
            else:
                writer.write(canned[mode])
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, '127.0.0.1', port)
    print('listening', flush=True)
    async with server:
        await asyncio.sleep(lifetime)


def handshake(info, extensions=False):
    reserved = bytes([0, 0, 0, 0, 0, 0x10, 0, 0]) if extensions else bytes(8)
    return PROTOCOL + reserved + info + b'-HS0001-' + os.urandom(12)


def message(kind, payload=b''):
    return struct.pack('>IB', 1 + len(payload), kind) + payload


class Counter:
    def __init__(self):
        self.live = 0
        self.closed = 0

    def up(self):
        self.live += 1
        print('connected %d' % self.live, flush=True)

    def down(self):
        self.live -= 1
        self.closed += 1
        print('closed %d' % self.closed, flush=True)


async def drain_reader(reader):
    while await reader.read(65536):
        pass


async def act(mode, reader, writer, info, pieces, lifetime):
    """What one hostile connection does once both handshakes are through."""
    bitfield_len = (pieces + 7) // 8
    if mode == 'haveflood':
        writer.write(message(5, bytes(bitfield_len)) + message(1))
        rnd = random.Random()
        while True:
            writer.write(b''.join(message(4, struct.pack('>I', rnd.randrange(pieces))) for _ in range(4096)))
            await writer.drain()
    elif mode == 'useless':
        full = bytearray(b'\xff' * bitfield_len)
        if pieces % 8:
            full[-1] = (0xff << (8 - pieces % 8)) & 0xff
        writer.write(message(5, bytes(full)))
    elif mode == 'bigprefix':
        writer.write(b'\xff\xff\xff\xf0' + bytes(4096))
    elif mode == 'garbage':
        while True:
            writer.write(os.urandom(65536))
            await writer.drain()
            await asyncio.sleep(0.01)
    elif mode in ('idle', 'reqflood'):
        writer.write(message(5, bytes(bitfield_len)) + message(2))
        if mode == 'reqflood':
            rnd = random.Random()
            while True:
                batch = b''.join(message(6, struct.pack('>III', rnd.randrange(pieces), 0, BLOCK)) for _ in range(256))
                writer.write(batch)
                await writer.drain()
    else:
        raise SystemExit('unknown mode ' + mode)
    await writer.drain()


async def hold(writer, drain):
    """Keeps a connection open (keep-alive every 30 s) until the other side closes it."""
    while not drain.done():
        await asyncio.wait([drain], timeout=30)
        if not drain.done():
            writer.write(b'\x00\x00\x00\x00')
            await writer.drain()


async def peers(mode, count, infohash, pieces, portsfile, lifetime):
    info = bytes.fromhex(infohash)
    counter = Counter()

    async def serve(reader, writer):
        try:
            hs = await asyncio.wait_for(reader.readexactly(68), 30)
            if hs[:20] != PROTOCOL or hs[28:48] != info:
                return
            writer.write(handshake(info, extensions=(mode == 'garbage')))
            await play(mode, reader, writer, info, pieces, lifetime, counter)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()

    servers, ports = [], []
    rnd = random.Random()
    while len(servers) < count:
        port = rnd.randint(20000, 32000)
        try:
            servers.append(await asyncio.start_server(serve, '127.0.0.1', port, reuse_address=True))
            ports.append(port)
        except OSError:
            continue
    with open(portsfile, 'w') as f:
        f.write(''.join('%d\n' % p for p in ports))
    print('listening', flush=True)
    await asyncio.sleep(lifetime)


async def play(mode, reader, writer, info, pieces, lifetime, counter):
    """After the handshake, accepted or dialled alike: counted as up, the other side's bytes drained, the mode's
    misbehaviour acted out, then the connection held until the lifetime ends or the other side closes."""
    counter.up()
    drain = asyncio.ensure_future(drain_reader(reader))
    try:
        await act(mode, reader, writer, info, pieces, lifetime)
        await hold(writer, drain)
    finally:
        drain.cancel()
        counter.down()


async def dial(mode, count, port, infohash, pieces, lifetime):
    info = bytes.fromhex(infohash)
    counter = Counter()

    async def one():
        try:
            reader, writer = await asyncio.open_connection('127.0.0.1', port)
        except OSError:
            return
        try:
            writer.write(handshake(info))
            await writer.drain()
            hs = await asyncio.wait_for(reader.readexactly(68), 30)
            if hs[28:48] != info:
                return
            await play(mode, reader, writer, info, pieces, lifetime, counter)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()

    tasks = [asyncio.ensure_future(one()) for _ in range(count)]
    await asyncio.wait(tasks, timeout=lifetime)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if argv[1] == 'tracker' and len(argv) == 5:
            coro = tracker(argv[2], int(argv[3]), float(argv[4]))
        elif argv[1] == 'peers' and len(argv) == 8:
            coro = peers(argv[2], int(argv[3]), argv[4], int(argv[5]), argv[6], float(argv[7]))
        elif argv[1] == 'dial' and len(argv) == 8:
            coro = dial(argv[2], int(argv[3]), int(argv[4]), argv[5], int(argv[6]), float(argv[7]))
        else:
            print(__doc__, file=sys.stderr)
            return 2
        lifetime = float(argv[-1])
        asyncio.run(asyncio.wait_for(coro, lifetime + 5))
    except asyncio.TimeoutError:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
