#!/usr/bin/env bash
# Many torrents at once (issue 14): a bta daemon, N torrents of S each added through its Transmission RPC in one go,
# seeded by 4 libtorrent sessions (each seeding all N) on 127.0.0.1 behind one opentracker.
#
#   tests/bench/scale.sh [--torrents 50] [--size 20M] [--piece 256K] [--seeders 4] [--timeout 900] [--no-build]
#                        [--keep] [--bta-set KEY=VALUE]...
#
# Waits until the RPC reports every torrent complete (or any torrent's error, which fails the run), compares every
# file with its source byte for byte, and prints the total time from the first torrent-add, the daemon's user and
# sys CPU over that time (from /proc), its peak RSS (VmHWM) and the errors seen (must be none; exit 1 otherwise).
# bta's queue applies as configured (bta.session.max-active-downloads): the run measures the daemon as shipped.
# Every process it starts is killed by PID on exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY=/usr/bin/python3
LIB="$HERE/lib/benchlib.py"
TORRENTS=50 SIZE_TEXT=20M PIECE_TEXT=256K SEEDERS=4 RUN_TIMEOUT=900 BUILD=1 KEEP=0
BTA_SETS=()

die() { echo "scale.sh: $*" >&2; exit 1; }
log() { printf '==> %s\n' "$*"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --torrents) TORRENTS=${2:?}; shift 2 ;;
    --size) SIZE_TEXT=${2:?}; shift 2 ;;
    --piece) PIECE_TEXT=${2:?}; shift 2 ;;
    --seeders) SEEDERS=${2:?}; shift 2 ;;
    --timeout) RUN_TIMEOUT=${2:?}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --keep) KEEP=1; shift ;;
    --bta-set) BTA_SETS+=(--set "${2:?}"); shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done
bytes() {
  local t=$1 n
  case "$t" in
    *[Gg]) n=${t%?}; echo $((n * 1024 * 1024 * 1024)) ;;
    *[Mm]) n=${t%?}; echo $((n * 1024 * 1024)) ;;
    *[Kk]) n=${t%?}; echo $((n * 1024)) ;;
    *[0-9]) echo "$t" ;;
    *) die "bad size '$t'" ;;
  esac
}
SIZE=$(bytes "$SIZE_TEXT")
PIECE=$(bytes "$PIECE_TEXT")
[[ "$TORRENTS" =~ ^[1-9][0-9]*$ ]] && [ "$TORRENTS" -le 500 ] || die "--torrents must be 1..500"
[[ "$SEEDERS" =~ ^[1-9][0-9]*$ ]] && [ "$SEEDERS" -le 16 ] || die "--seeders must be 1..16"
[[ "$RUN_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be seconds"
[ -x /usr/bin/opentracker ] || die "/usr/bin/opentracker missing (apt-get install opentracker)"
"$PY" -c 'import libtorrent' 2>/dev/null || die "python3-libtorrent is not importable by $PY"
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"

. "$HERE/lib/procs.sh"

# The same published build as run.sh (README, "Install"), shared with it.
BTA_PUBLISH="${BTA_PUBLISH:-$ROOT/artifacts/bench/bta}"
if [ "$BUILD" -eq 1 ]; then
  log "publishing bta (Release, ReadyToRun) to $BTA_PUBLISH"
  timeout 900 dotnet publish "$ROOT/src/BitTorrentActors.Cli/BitTorrentActors.Cli.csproj" -c Release \
    --use-current-runtime --self-contained false -o "$BTA_PUBLISH" -nologo -v q >/dev/null \
    || die "dotnet publish failed (run it by hand to see why)"
fi
BTA_DLL="$BTA_PUBLISH/bta.dll"
[ -f "$BTA_DLL" ] || die "$BTA_DLL not found (build it or drop --no-build)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bta-scale.XXXXXX")
chmod 755 "$WORK"   # opentracker drops privileges before it reads the whitelist
mkdir -p "$WORK/seed" "$WORK/torrents" "$WORK/state" "$WORK/downloads" "$WORK/logs"

log "generating $TORRENTS files of $SIZE bytes"
SOURCES=()
for i in $(seq 1 "$TORRENTS"); do
  src="$WORK/seed/scale-$i.bin"
  head -c "$SIZE" /dev/zero | openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f \
    -iv "$(printf '%032x' "$i")" >"$src"
  SOURCES+=("$src")
done
read -r -a PORTS <<<"$("$PY" "$LIB" freeport $((SEEDERS + 3)))"
TRACKER_PORT=${PORTS[0]} RPC_PORT=${PORTS[1]} BTA_PORT=${PORTS[2]}
ANNOUNCE="http://127.0.0.1:$TRACKER_PORT/announce"
log "making $TORRENTS torrents (piece $PIECE)"
timeout 900 "$PY" "$LIB" maketorrents "$PIECE" "$ANNOUNCE" "$WORK/torrents" "${SOURCES[@]}" >"$WORK/whitelist" \
  || die "maketorrents failed"
[ "$(grep -cE '^[0-9a-f]{40}$' "$WORK/whitelist")" -eq "$TORRENTS" ] || die "maketorrents printed $(cat "$WORK/whitelist")"

log "opentracker on 127.0.0.1:$TRACKER_PORT, $SEEDERS libtorrent seeders"
/usr/bin/opentracker -i 127.0.0.1 -p "$TRACKER_PORT" -P "$TRACKER_PORT" -w "$WORK/whitelist" \
  >"$WORK/logs/opentracker.log" 2>&1 &
PIDS+=($!)
SEEDER_PIDS=()
for i in $(seq 1 "$SEEDERS"); do
  "$PY" -u "$LIB" multiseeder "$WORK/torrents" "$WORK/seed" "${PORTS[$((i + 2))]}" 7200 >"$WORK/logs/seeder-$i.log" 2>&1 &
  PIDS+=($!); SEEDER_PIDS+=($!)
done
deadline=$((SECONDS + 300))
for i in $(seq 1 "$SEEDERS"); do
  until grep -qx ready "$WORK/logs/seeder-$i.log"; do
    [ "$SECONDS" -lt "$deadline" ] || { tail "$WORK/logs/seeder-$i.log" >&2; die "seeder $i not seeding in time"; }
    kill -0 "${SEEDER_PIDS[$((i - 1))]}" 2>/dev/null || { tail "$WORK/logs/seeder-$i.log" >&2; die "seeder $i exited"; }
    sleep 0.2
  done
done
# Every seeder listed for the last torrent (they announce in order) before the daemon starts.
timeout 60 "$PY" "$LIB" scrapewait "$ANNOUNCE" "$(tail -n1 "$WORK/whitelist")" "$SEEDERS" 50 \
  || die "tracker does not list the seeders"

log "bta daemon (RPC 127.0.0.1:$RPC_PORT, peers 127.0.0.1:$BTA_PORT)"
cp "$HERE/lib/loopback.conf" "$WORK/bta.conf"   # loopback only: no DHT routers, no LSD multicast
: >"$WORK/logs/daemon.log"
dotnet "$BTA_DLL" daemon --state-dir "$WORK/state" --download-dir "$WORK/downloads" --rpc-port "$RPC_PORT" \
  --port "$BTA_PORT" --config "$WORK/bta.conf" "${BTA_SETS[@]}" >"$WORK/logs/daemon.log" 2>&1 &
DAEMON=$!
PIDS+=("$DAEMON")
deadline=$((SECONDS + 60))
until grep -q 'RPC on http' "$WORK/logs/daemon.log"; do
  [ "$SECONDS" -lt "$deadline" ] && kill -0 "$DAEMON" 2>/dev/null || { tail "$WORK/logs/daemon.log" >&2; die "daemon not ready"; }
  sleep 0.2
done
URL="http://127.0.0.1:$RPC_PORT/transmission/rpc"

ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12, $13 }'; }
before=$(ticks "$DAEMON")
start=$(date +%s.%N)
log "adding $TORRENTS torrents at once"
timeout 300 "$PY" "$LIB" rpcadd "$URL" "$WORK"/torrents/*.torrent || die "torrent-add failed"
rc=0
timeout $((RUN_TIMEOUT + 30)) "$PY" "$LIB" rpcwait "$URL" "$TORRENTS" "$RUN_TIMEOUT" >"$WORK/logs/wait.log" 2>&1 || rc=$?
grep -v ' complete$' "$WORK/logs/wait.log" || true
wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
after=$(ticks "$DAEMON")
hwm=$(sed -n 's/^VmHWM:\s*\([0-9]*\) kB/\1/p' "/proc/$DAEMON/status")
threads=$(sed -n 's/^Threads:\s*//p' "/proc/$DAEMON/status")
errors=$(grep -c '^error' "$WORK/logs/wait.log" || true)
mismatched=0
for src in "${SOURCES[@]}"; do
  cmp -s "$src" "$WORK/downloads/$(basename "$src")" || mismatched=$((mismatched + 1))
done
read -r user sys <<<"$(awk -v b="$before" -v a="$after" -v t="$(getconf CLK_TCK)" 'BEGIN {
  split(b, x, " "); split(a, y, " "); printf "%.2f %.2f", (y[1] - x[1]) / t, (y[2] - x[2]) / t }')"
logerrors=$(grep -cE '\[(ERR|FTL)\]|Unhandled|Exception' "$WORK/logs/daemon.log" || true)

echo
echo "Scale benchmark: $TORRENTS torrents x $SIZE_TEXT (piece $PIECE_TEXT), $SEEDERS libtorrent seeders, bta daemon"
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), load before $(cut -d' ' -f1 /proc/loadavg)"
printf 'total time %s s (%.1f MB/s), daemon CPU %s user + %s sys = %.2f s (%.2f CPU-s per GiB), peak RSS %.1f MB, %s threads\n' \
  "$wall" "$(awk -v n="$TORRENTS" -v s="$SIZE" -v w="$wall" 'BEGIN { print n * s / w / 1e6 }')" "$user" "$sys" \
  "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" \
  "$(awk -v u="$user" -v s="$sys" -v n="$TORRENTS" -v b="$SIZE" 'BEGIN { print (u + s) / (n * b / 1073741824) }')" \
  "$(awk -v r="$hwm" 'BEGIN { print r / 1024 }')" "$threads"
echo "errors: $errors torrent error(s) over RPC, $mismatched file(s) differing from the source, $logerrors error line(s) in the daemon log"
[ "$rc" -eq 0 ] && [ "$errors" -eq 0 ] && [ "$mismatched" -eq 0 ] || { tail -n 20 "$WORK/logs/daemon.log" >&2; exit 1; }
