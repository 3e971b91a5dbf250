#!/usr/bin/env bash
# Memory per idle peer connection (issue 6): bta downloading from N scripted peers on 127.0.0.1 that have nothing.
#
#   tests/bench/idle-peers.sh [--peers 500] [--settle 15] [--no-build] [--keep]
#
# Starts N scripted peers (lib/idlepeers.py: handshake, all-zero bitfield, keep-alives, nothing else) listening on
# N loopback ports, then runs `bta download` twice against a small torrent whose tracker is dead: once with --peer
# for 1 of them (baseline) and once with --peer for all N (bta.max-peers-per-torrent and bta.max-connections raised
# with --set). Once the peers report that many handshaken connections it waits --settle seconds, samples bta's
# VmRSS five times (median) and prints RSS at 1 and N peers and (RSS_N - RSS_1) / (N - 1) in KiB per idle peer.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY=/usr/bin/python3
PEERS=500 SETTLE=15 BUILD=1 KEEP=0

die() { echo "idle-peers.sh: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    --peers) PEERS=${2:?}; shift 2 ;;
    --settle) SETTLE=${2:?}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done
[[ "$PEERS" =~ ^[0-9]+$ ]] && [ "$PEERS" -ge 2 ] && [ "$PEERS" -le 5000 ] || die "--peers must be 2..5000"
[[ "$SETTLE" =~ ^[0-9]+$ ]] || die "--settle must be seconds"
"$PY" -c 'import libtorrent' 2>/dev/null || die "python3-libtorrent is not importable by $PY (it makes the torrent)"
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((PEERS * 2 + 100)) ] || die "open-file limit $(ulimit -n) too low for $PEERS peers"

. "$HERE/lib/procs.sh"
log() { printf '==> %s\n' "$*"; }

BTA_DLL="$ROOT/src/BitTorrentActors.Cli/bin/Release/net10.0/bta.dll"
if [ "$BUILD" -eq 1 ]; then
  log "building bta (Release)"
  timeout 600 dotnet build "$ROOT/src/BitTorrentActors.Cli/BitTorrentActors.Cli.csproj" -c Release -nologo -v q \
    >/dev/null || die "dotnet build failed"
fi
[ -f "$BTA_DLL" ] || die "$BTA_DLL not found"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bta-idle.XXXXXX")
mkdir -p "$WORK/seed" "$WORK/out"
head -c $((16 * 1024 * 1024)) /dev/zero \
  | openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 \
    >"$WORK/seed/idle.bin"
# Port 1 on loopback: nothing listens, so the tracker fails fast and the only peers are the scripted ones.
INFOHASH=$(timeout 120 "$PY" "$HERE/lib/benchlib.py" maketorrent "$WORK/seed/idle.bin" "$WORK/idle.torrent" 262144 \
  http://127.0.0.1:1/announce)
PIECES=64

log "starting $PEERS scripted idle peers"
"$PY" -u "$HERE/lib/idlepeers.py" "$PEERS" "$INFOHASH" "$PIECES" "$WORK/ports" 3600 >"$WORK/peers.log" 2>&1 &
PIDS+=($!)
PEERS_PID=$!
deadline=$((SECONDS + 60))
until grep -qx listening "$WORK/peers.log"; do
  [ "$SECONDS" -lt "$deadline" ] && kill -0 "$PEERS_PID" 2>/dev/null || { cat "$WORK/peers.log" >&2; die "peers not listening"; }
  sleep 0.2
done
mapfile -t PORTS <"$WORK/ports"

connected() { sed -n 's/^connected //p' "$WORK/peers.log" | tail -n1; }
rss_kib() { sed -n 's/^VmRSS:\s*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
threads() { sed -n 's/^Threads:\s*//p' "/proc/$1/status"; }

# measure N: runs bta with N --peer options, prints "RSS_KIB THREADS CONNECTED"
measure() {
  local n=$1 args=() i
  for ((i = 0; i < n; i++)); do args+=(--peer "127.0.0.1:${PORTS[$i]}"); done
  rm -rf "$WORK/out"; mkdir -p "$WORK/out"
  cp "$HERE/lib/loopback.conf" "$WORK/bta.conf"   # loopback only: no DHT routers, no LSD multicast
  dotnet "$BTA_DLL" download "$WORK/idle.torrent" -o "$WORK/out" --port 1 --config "$WORK/bta.conf" \
    --set bta.max-peers-per-torrent=$((PEERS + 100)) --set bta.max-connections=$((PEERS + 100)) "${args[@]}" \
    >"$WORK/bta-$n.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  local deadline=$((SECONDS + 120))
  until [ "$(connected)" = "$n" ]; do
    if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$WORK/bta-$n.log" >&2
      die "bta reached $(connected) of $n idle peers"
    fi
    sleep 0.2
  done
  sleep "$SETTLE"
  [ "$(connected)" = "$n" ] || die "bta dropped idle peers while settling ($(connected) of $n left)"
  local samples=() s
  for s in 1 2 3 4 5; do samples+=("$(rss_kib "$pid")"); sleep 1; done
  local median
  median=$(printf '%s\n' "${samples[@]}" | sort -n | sed -n 3p)
  echo "$median $(threads "$pid") $(connected)"
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 250); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 30))
  until [ "$(connected)" = "0" ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "scripted peers still see $(connected) connections after bta stopped"
    sleep 0.2
  done
}

log "baseline: bta with 1 idle peer"
read -r RSS1 THREADS1 C1 <<<"$(measure 1)"
log "bta with $PEERS idle peers"
read -r RSSN THREADSN CN <<<"$(measure "$PEERS")"

echo
echo "Idle peers: bta download with scripted peers that have nothing (settle ${SETTLE}s, median of 5 VmRSS samples)"
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
printf '%-8s %12s %8s\n' peers 'RSS MiB' threads
printf '%-8s %12.1f %8s\n' "$C1" "$(awk -v r="$RSS1" 'BEGIN { print r / 1024 }')" "$THREADS1"
printf '%-8s %12.1f %8s\n' "$CN" "$(awk -v r="$RSSN" 'BEGIN { print r / 1024 }')" "$THREADSN"
printf 'memory per idle peer: %.1f KiB ((RSS at %d - RSS at %d) / %d)\n' \
  "$(awk -v a="$RSSN" -v b="$RSS1" -v n="$((CN - C1))" 'BEGIN { print (a - b) / n }')" "$CN" "$C1" "$((CN - C1))"
