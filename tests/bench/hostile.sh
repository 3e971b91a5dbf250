#!/usr/bin/env bash
# bta against hostile trackers and peers, and seeding to real leechers (issue 17): one table row per case with what
# bta did (from its exit code, its log and the scripted side's counts), its peak RSS and its CPU seconds.
#
#   tests/bench/hostile.sh [--cases all|LIST] [--window 20] [--seed-size 512M] [--no-build] [--keep]
#
# Everything runs on 127.0.0.1 and is bounded in time; every process is started here and killed by PID.
# bta runs as `dotnet bta.dll` (Release build) under /usr/bin/time: peak RSS is its %M, CPU its user + system time.
# Cases (LIST is comma-separated):
#   tracker-silent tracker-100mb tracker-deep tracker-100k-peers tracker-dead-port tracker-redirect-loop
#   tracker-interval-0 tracker-interval-negative   bta download, no peers, the torrent's only tracker is hostile;
#                      stopped with SIGTERM after --window seconds (a script's background jobs ignore SIGINT);
#                      "announces" is what the tracker saw
#   have-flood request-flood useless-60 idle-50 prefix-4g garbage-peer
#                      download cases: 64 MiB from one real libtorrent seeder beside the hostile peers (--peer);
#                      seed cases (request-flood, idle-50): `bta seed` of 64 MiB to a real aria2 leecher beside them
#   seed-aria2 seed-libtorrent seed-both
#                      `bta seed` of --seed-size to one aria2, one libtorrent, or both leechers at once
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY=/usr/bin/python3
LIB="$HERE/lib/benchlib.py"
HOSTILE="$HERE/lib/hostile.py"
ALL="tracker-silent,tracker-100mb,tracker-deep,tracker-100k-peers,tracker-dead-port,tracker-redirect-loop,tracker-interval-0,tracker-interval-negative,have-flood,request-flood,useless-60,idle-50,prefix-4g,garbage-peer,seed-aria2,seed-libtorrent,seed-both"
CASES=all WINDOW=20 SEED_SIZE_TEXT=512M BUILD=1 KEEP=0
RUN_TIMEOUT=120

die() { echo "hostile.sh: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) CASES=${2:?}; shift 2 ;;
    --window) WINDOW=${2:?}; shift 2 ;;
    --seed-size) SEED_SIZE_TEXT=${2:?}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done
[ "$CASES" = all ] && CASES=$ALL
IFS=, read -r -a CASE_LIST <<<"$CASES"
for c in "${CASE_LIST[@]}"; do [[ ",$ALL," == *",$c,"* ]] || die "unknown case '$c' (see --help)"; done
[[ "$WINDOW" =~ ^[0-9]+$ ]] && [ "$WINDOW" -ge 5 ] && [ "$WINDOW" -le 600 ] || die "--window must be 5..600 seconds"
SEED_SIZE=$(numfmt --from=iec "$SEED_SIZE_TEXT") || die "bad --seed-size $SEED_SIZE_TEXT"
[ "$SEED_SIZE" -ge 1048576 ] && [ "$SEED_SIZE" -le $((8 << 30)) ] || die "--seed-size must be 1M..8G"

need() { [ -x "$1" ] || die "$1 is missing: apt-get install $2"; }
need /usr/bin/time time
need /usr/bin/opentracker opentracker
need /usr/bin/aria2c aria2
need /usr/bin/openssl openssl
"$PY" -c 'import libtorrent' 2>/dev/null || die "python3-libtorrent is not importable by $PY"
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# ---- process bookkeeping: every PID started here, killed by PID ---------------------------------------------------
PIDS=()
stop_pid() { # TERM, up to 5 s, then KILL
  local pid=$1
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  if [ -n "${WORK:-}" ]; then
    if [ "$KEEP" -eq 1 ]; then echo "work folder kept: $WORK"; else rm -rf "$WORK"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '==> %s\n' "$*" >&2; }

BTA_DLL="$ROOT/src/BitTorrentActors.Cli/bin/Release/net10.0/bta.dll"
if [ "$BUILD" -eq 1 ]; then
  log "building bta (Release)"
  timeout 900 dotnet build "$ROOT/src/BitTorrentActors.Cli/BitTorrentActors.Cli.csproj" -c Release -nologo -v q \
    >/dev/null || die "dotnet build failed"
fi
[ -f "$BTA_DLL" ] || die "$BTA_DLL not found"
export DOTNET_EnableDiagnostics=0   # bta is killed here: no dotnet-diagnostic-* sockets left in /tmp

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bta-hostile.XXXXXX")
chmod 755 "$WORK"   # opentracker drops privileges before it reads the whitelist
mkdir -p "$WORK/seed" "$WORK/big" "$WORK/logs"
cp "$HERE/lib/loopback.conf" "$WORK/bta.conf"   # loopback only: no DHT routers, no LSD multicast
content() { # content SIZE FILE
  head -c "$1" /dev/zero \
    | openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 >"$2"
}
freeports() { "$PY" "$LIB" freeport "$1"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

log "content: 64 MiB for the peer cases, $SEED_SIZE_TEXT for the seeding cases"
content $((64 << 20)) "$WORK/seed/small.bin"
content 4194304 "$WORK/tiny.bin"
read -r TRACKER_PORT SEEDER_PORT <<<"$(freeports 2)"
ANNOUNCE="http://127.0.0.1:$TRACKER_PORT/announce"
# The same info-hash twice: the download cases' torrent names a dead tracker (peers come by --peer only), the seed
# cases' torrent names opentracker (the real leechers find bta there and dial it, as they would on the internet).
HASH=$(timeout 300 "$PY" "$LIB" maketorrent "$WORK/seed/small.bin" "$WORK/dead.torrent" 262144 http://127.0.0.1:1/announce)
timeout 300 "$PY" "$LIB" maketorrent "$WORK/seed/small.bin" "$WORK/tracked.torrent" 262144 "$ANNOUNCE" >/dev/null
PIECES=256
echo "$HASH" >"$WORK/whitelist"
NEED_BIG=0
for c in "${CASE_LIST[@]}"; do [[ "$c" == seed-* ]] && NEED_BIG=1; done
if [ "$NEED_BIG" -eq 1 ]; then
  content "$SEED_SIZE" "$WORK/big/big.bin"
  BIG_HASH=$(timeout 900 "$PY" "$LIB" maketorrent "$WORK/big/big.bin" "$WORK/big.torrent" 1048576 "$ANNOUNCE")
  echo "$BIG_HASH" >>"$WORK/whitelist"
fi

/usr/bin/opentracker -i 127.0.0.1 -p "$TRACKER_PORT" -P "$TRACKER_PORT" -w "$WORK/whitelist" \
  >"$WORK/logs/opentracker.log" 2>&1 &
PIDS+=($!)
"$PY" -u "$LIB" seeder "$WORK/dead.torrent" "$WORK/seed" "$SEEDER_PORT" 7200 /dev/null >"$WORK/logs/seeder.log" 2>&1 &
PIDS+=($!)
SEEDER_PID=$!
deadline=$((SECONDS + 120))
until grep -qx ready "$WORK/logs/seeder.log"; do
  [ "$SECONDS" -lt "$deadline" ] && kill -0 "$SEEDER_PID" 2>/dev/null || { cat "$WORK/logs/seeder.log" >&2; die "libtorrent seeder not ready"; }
  sleep 0.2
done

# ---- helpers ------------------------------------------------------------------------------------------------------
# start_helper NAME LOG CMD...: background process, PID in HELPER_PID, waits for "listening" when asked via WAIT_FOR
start_helper() {
  local name=$1 hlog=$2; shift 2
  "$@" >"$hlog" 2>&1 &
  HELPER_PID=$!
  PIDS+=("$HELPER_PID")
  if [ -n "${WAIT_FOR:-}" ]; then
    local deadline=$((SECONDS + 60))
    until grep -qx "$WAIT_FOR" "$hlog"; do
      [ "$SECONDS" -lt "$deadline" ] && kill -0 "$HELPER_PID" 2>/dev/null || { cat "$hlog" >&2; die "$name did not start"; }
      sleep 0.1
    done
  fi
}

# start_bta LOG ARGS...: bta under /usr/bin/time; TIME_PID (the wrapper) and BTA_PID (bta itself, to signal)
start_bta() {
  local blog=$1; shift
  /usr/bin/time -f '%M %U %S %e' -o "$blog.time" dotnet "$BTA_DLL" "$@" >"$blog" 2>&1 &
  TIME_PID=$!
  PIDS+=("$TIME_PID")
  BTA_PID=""
  for _ in $(seq 1 100); do
    BTA_PID=$(pgrep -P "$TIME_PID" || true)
    [ -n "$BTA_PID" ] && break
    sleep 0.05
  done
  [ -n "$BTA_PID" ] || die "bta did not start"
}

# finish_bta [SIGNAL]: optionally signals bta, waits up to 30 s for it, sets BTA_RC, BTA_RSS_KB, BTA_CPU, BTA_WALL
finish_bta() {
  local sig=${1:-}
  [ -n "$sig" ] && kill "-$sig" "$BTA_PID" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$BTA_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$BTA_PID" 2>/dev/null && { kill -9 "$BTA_PID" 2>/dev/null || true; }
  BTA_RC=0
  wait "$TIME_PID" || BTA_RC=$?
  read -r BTA_RSS_KB user sys BTA_WALL <<<"$(tail -n1 "$BTA_LOG.time")"
  BTA_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
}

# wait_bta TIMEOUT: waits for bta to exit by itself (SIGTERM at the timeout)
wait_bta() {
  local deadline=$((SECONDS + $1))
  while kill -0 "$BTA_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if kill -0 "$BTA_PID" 2>/dev/null; then finish_bta TERM; TIMED_OUT=1; else finish_bta; TIMED_OUT=0; fi
}

last_count() { sed -n "s/^$1 //p" "$2" | tail -n1; }
grep_count() { grep -c -E "$1" "$2" || true; }
# The first log line matching $1, shortened for the table.
first_line() { grep -m1 -E "$1" "$2" | sed -E 's/^\[[^]]*\] ?//' | cut -c1-90 || true; }

ROWS="$WORK/rows.tsv"
: >"$ROWS"
row() { # case, what bta did
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$BTA_RC" "$BTA_WALL" "$(mib "$BTA_RSS_KB")" "$BTA_CPU" >>"$ROWS"
  printf '    %-26s exit %-4s %6s s  RSS %5s MiB  CPU %6s s  %s\n' "$1" "$BTA_RC" "$BTA_WALL" "$(mib "$BTA_RSS_KB")" \
    "$BTA_CPU" "$2" >&2
}

# ---- cases --------------------------------------------------------------------------------------------------------
tracker_case() { # case, hostile.py tracker mode ('' = a dead port)
  local name=$1 mode=$2 port hlog="$WORK/logs/$1.tracker.log" url
  port=$(freeports 1)
  if [ -n "$mode" ]; then
    WAIT_FOR=listening start_helper "tracker $mode" "$hlog" "$PY" -u "$HOSTILE" tracker "$mode" "$port" $((WINDOW + 60))
    url="http://127.0.0.1:$port/announce"
  else
    : >"$hlog"; url="http://127.0.0.1:$port/announce"   # nothing listens there
  fi
  local torrent="$WORK/$name.torrent" out="$WORK/out-$name"
  timeout 120 "$PY" "$LIB" maketorrent "$WORK/tiny.bin" "$torrent" 262144 "$url" >/dev/null
  mkdir -p "$out"
  BTA_LOG="$WORK/logs/$name.bta.log"
  start_bta "$BTA_LOG" download "$torrent" -o "$out" --port "$(freeports 1)" --config "$WORK/bta.conf"
  sleep "$WINDOW"
  finish_bta TERM
  [ -n "$mode" ] && stop_pid "$HELPER_PID"
  local requests sent what
  requests=$(last_count request "$hlog"); requests=${requests:-0}
  what="$requests announces in ${WINDOW} s"
  [ -z "$mode" ] && what="dead port, $(grep_count 'connection failed|refused' "$BTA_LOG") failure lines in ${WINDOW} s"
  if [ "$mode" = body100m ]; then
    sent=$(sed -n 's/^sent //p' "$hlog" | sort -n | tail -n1)
    what="$what, at most $(mib $(( ${sent:-0} / 1024 ))) MiB of 100 MB sent before bta hung up"
  fi
  local said
  said=$(first_line '^\[.{8} (WRN|INF)\] Tracker ' "$BTA_LOG" | sed -E 's#^Tracker http://127.0.0.1:[0-9]+/announce ##')
  row "$name" "$what${said:+; log: $said}"
  rm -rf "$out"
}

download_case() { # case, hostile.py peers mode, count
  local name=$1 mode=$2 count=$3 hlog="$WORK/logs/$1.peers.log" out="$WORK/out-$1"
  WAIT_FOR=listening start_helper "$count $mode peers" "$hlog" \
    "$PY" -u "$HOSTILE" peers "$mode" "$count" "$HASH" "$PIECES" "$WORK/$name.ports" $((RUN_TIMEOUT + 60))
  local hpid=$HELPER_PID args=() p
  # The hostile peers first, the real seeder last: bta must not let them keep it from the seeder.
  while read -r p; do args+=(--peer "127.0.0.1:$p"); done <"$WORK/$name.ports"
  args+=(--peer "127.0.0.1:$SEEDER_PORT")
  mkdir -p "$out"
  BTA_LOG="$WORK/logs/$name.bta.log"
  start_bta "$BTA_LOG" download "$WORK/dead.torrent" -o "$out" --port "$(freeports 1)" --config "$WORK/bta.conf" \
    --set bta.max-peers-per-torrent=50 "${args[@]}"
  wait_bta "$RUN_TIMEOUT"
  local connected closed result
  connected=$(grep -c '^connected' "$hlog" || true); closed=$(last_count closed "$hlog")
  stop_pid "$hpid"
  if [ "$TIMED_OUT" -eq 1 ]; then result="no completion in ${RUN_TIMEOUT} s"
  elif [ "$BTA_RC" -eq 0 ] && cmp -s "$WORK/seed/small.bin" "$out/small.bin"; then result="64 MiB complete, byte-identical"
  else result="exit $BTA_RC, output differs or missing"; fi
  local bans said
  bans=$(grep_count 'Banned peer' "$BTA_LOG")
  said=$(first_line 'misbehaved|Banned|closed|dropped|evict' "$BTA_LOG" | sed -E 's#127.0.0.1:[0-9]+#peer#')
  row "$name" "$result; $count $mode peers: $connected handshakes, ${closed:-0} closed by bta, $bans bans${said:+; log: $said}"
  rm -rf "$out"
}

# leecher KIND OUT: starts a real leecher of TORRENT (set by the caller); LEECH_PID
leecher() {
  local kind=$1 out=$2 port
  port=$(freeports 1)
  mkdir -p "$out"
  case "$kind" in
    aria2)
      start_helper aria2 "$WORK/logs/$(basename "$out").log" timeout -k 5 "$RUN_TIMEOUT" /usr/bin/aria2c --no-conf \
        "--listen-port=$port" --interface=127.0.0.1 --disable-ipv6=true --enable-dht=false --bt-enable-lpd=false \
        --enable-peer-exchange=false --summary-interval=0 --file-allocation=none --seed-time=0 \
        "--bt-stop-timeout=$RUN_TIMEOUT" --console-log-level=warn -d "$out" "$TORRENT" ;;
    libtorrent)
      start_helper libtorrent "$WORK/logs/$(basename "$out").log" timeout -k 5 "$RUN_TIMEOUT" \
        "$PY" -u "$LIB" leecher "$TORRENT" "$out" "$port" "$RUN_TIMEOUT" ;;
  esac
  LEECH_PID=$HELPER_PID
}

# wait_leecher PID START FILE OUTFILE: LEECH_RESULT is the seconds it took, or why it failed (waits in this shell:
# a $(...) subshell cannot wait for our children)
wait_leecher() {
  local pid=$1 start=$2 src=$3 got=$4 rc=0
  wait "$pid" || rc=$?
  local took
  took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  if [ "$rc" -eq 0 ] && cmp -s "$src" "$got"; then LEECH_RESULT=$took; else LEECH_RESULT="failed (exit $rc after $took"; fi
}

start_seed() { # torrent, data folder
  BTA_LOG="$WORK/logs/$CASE.bta.log"
  SEED_PORT=$(freeports 1)
  start_bta "$BTA_LOG" seed "$1" --data "$2" --port "$SEED_PORT" --config "$WORK/bta.conf"
  timeout 90 "$PY" "$LIB" scrapewait "$ANNOUNCE" "$3" 1 60 >/dev/null 2>&1 || die "$CASE: bta seed not listed by the tracker"
}

seed_hostile_case() { # case, hostile.py dial mode, count
  local name=$1 mode=$2 count=$3 hlog="$WORK/logs/$1.dial.log"
  CASE=$name TORRENT="$WORK/tracked.torrent"
  start_seed "$TORRENT" "$WORK/seed" "$HASH"
  start_helper "$count $mode dialers" "$hlog" "$PY" -u "$HOSTILE" dial "$mode" "$count" "$SEED_PORT" "$HASH" "$PIECES" \
    $((RUN_TIMEOUT + 30))
  local hpid=$HELPER_PID deadline=$((SECONDS + 20))
  until [ "$(last_count connected "$hlog")" = "$count" ] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.2; done
  # The mob has been sitting there a while when the real leecher comes (as on the internet); a peer that just
  # connected keeps its slot for half a rechoke interval.
  sleep 10
  local before
  before=$(last_count connected "$hlog")
  local start
  start=$(date +%s.%N)
  leecher aria2 "$WORK/out-$name"
  wait_leecher "$LEECH_PID" "$start" "$WORK/seed/small.bin" "$WORK/out-$name/small.bin"
  local took=$LEECH_RESULT
  local closed
  closed=$(last_count closed "$hlog")
  finish_bta TERM
  stop_pid "$hpid"
  row "$name" "aria2 leecher: 64 MiB in $took s; $count $mode connections (${before:-0} up when aria2 started), ${closed:-0} closed by bta, $(grep_count 'Banned peer' "$BTA_LOG") bans"
  rm -rf "$WORK/out-$name"
}

seed_leechers_case() { # case, leecher kinds...
  local name=$1; shift
  CASE=$name TORRENT="$WORK/big.torrent"
  start_seed "$TORRENT" "$WORK/big" "$BIG_HASH"
  local start pids=() kinds=("$@") k results=()
  start=$(date +%s.%N)
  for k in "${kinds[@]}"; do leecher "$k" "$WORK/out-$name-$k"; pids+=("$LEECH_PID"); done
  local i
  for i in "${!kinds[@]}"; do
    wait_leecher "${pids[$i]}" "$start" "$WORK/big/big.bin" "$WORK/out-$name-${kinds[$i]}/big.bin"
    results+=("${kinds[$i]} $LEECH_RESULT s")
  done
  finish_bta TERM
  local joined
  joined=$(printf '%s, ' "${results[@]}"); joined=${joined%, }
  row "$name" "$SEED_SIZE_TEXT seeded: $joined"
  for k in "${kinds[@]}"; do rm -rf "$WORK/out-$name-$k"; done
}

for c in "${CASE_LIST[@]}"; do
  log "case $c"
  case "$c" in
    tracker-silent) tracker_case "$c" silent ;;
    tracker-100mb) tracker_case "$c" body100m ;;
    tracker-deep) tracker_case "$c" deep ;;
    tracker-100k-peers) tracker_case "$c" peers100k ;;
    tracker-dead-port) tracker_case "$c" "" ;;
    tracker-redirect-loop) tracker_case "$c" redirect ;;
    tracker-interval-0) tracker_case "$c" interval0 ;;
    tracker-interval-negative) tracker_case "$c" intervalneg ;;
    have-flood) download_case "$c" haveflood 4 ;;
    useless-60) download_case "$c" useless 60 ;;
    prefix-4g) download_case "$c" bigprefix 1 ;;
    garbage-peer) download_case "$c" garbage 1 ;;
    request-flood) seed_hostile_case "$c" reqflood 4 ;;
    idle-50) seed_hostile_case "$c" idle 50 ;;
    seed-aria2) seed_leechers_case "$c" aria2 ;;
    seed-libtorrent) seed_leechers_case "$c" libtorrent ;;
    seed-both) seed_leechers_case "$c" aria2 libtorrent ;;
  esac
done

echo
echo "Hostile cases: bta (dotnet bta.dll, Release) on 127.0.0.1. Tracker runs are stopped with SIGTERM after ${WINDOW} s"
echo "(announces include the 'stopped' one at SIGTERM, sent only to a tracker that answered); seed runs with SIGTERM"
echo "once the leechers are done; wall s is bta's whole run, the leechers' times are in the text."
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
echo
echo "| case | what bta did | exit | wall s | peak RSS MiB | CPU s |"
echo "|---|---|---|---|---|---|"
while IFS=$'\t' read -r c what rc wall rss cpu; do
  printf '| %s | %s | %s | %s | %s | %s |\n' "$c" "$what" "$rc" "$wall" "$rss" "$cpu"
done <"$ROWS"
