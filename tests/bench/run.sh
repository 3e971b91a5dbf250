#!/usr/bin/env bash
# Side-by-side loopback download benchmark (issue 6): bta against aria2c, libtorrent (python) and Transmission.
#
#   tests/bench/run.sh [--mode download|seed] [--size 1G] [--piece 1M] [--rounds 3] [--seeders 1|8]
#                      [--clients bta,aria2,libtorrent[,transmission]] [--timeout 600] [--workdir DIR] [--keep]
#                      [--no-build] [--bta-set KEY=VALUE]... [--scenarios 1,4] [--bta-alt DIR] [--strace]
#
# Generates deterministic content (AES-128-CTR keystream of /dev/zero under a fixed key), makes a v1 torrent with
# libtorrent, starts opentracker and N libtorrent seeders on 127.0.0.1, then times full downloads into an empty
# folder by each client, alternating A B C A B C ... for the given rounds. Each run is wrapped in /usr/bin/time -v
# (wall, peak RSS, user+sys CPU of the client and its children) and compared byte for byte with the source: a failed
# or mismatched download fails the benchmark (exit 1). Before every run the page cache is dropped (when permitted)
# and the source file read back in, so the seeders always serve from a warm cache and the leecher writes into a
# cold one. Every process it starts is killed by PID on exit.
#
# --mode seed (issue 14) turns it around: the clients (default bta,libtorrent) are the seeders, one at a time with a
# fresh opentracker each run, and the leechers are fixed: scenario 1 is one libtorrent leecher, scenario 4 is four
# at once (2 libtorrent, 2 aria2). Seeders and scenarios are interleaved per round. It reports the time until every
# leecher has the whole file, and the seeder's user/sys CPU while they download (from /proc, the start-up check
# excluded) per GiB uploaded, and its peak RSS; ratio lines compare bta with libtorrent.
#
# A/B runs: --bta-alt DIR adds client "bta-alt", another published bta (dotnet publish -o DIR, e.g. of main), run
# interleaved with the others (--bta-alt . for the same build), with --bta-alt-env KEY=VALUE and --bta-alt-set
# KEY=VALUE (both repeatable) for it only: its environment and its --set overrides, e.g. DOTNET_ knobs; BTA_PUBLISH=DIR with --no-build replaces the default artifacts/bench/bta.
# A self-contained publish (e.g. --self-contained true -p:PublishReadyToRunComposite=true) or a Native AOT one runs as
# its own executable.
# --strace (download mode) runs every client under strace -f -c and prints its syscall counts per MiB; the timings
# of such a run mean nothing, the counts are the point.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY=/usr/bin/python3
LIB="$HERE/lib/benchlib.py"

SIZE_TEXT=1G PIECE_TEXT=1M ROUNDS=3 SEEDERS=1 CLIENTS="" RUN_TIMEOUT=600 WORKDIR="" KEEP=0 BUILD=1 MODE=download
SCENARIOS=1,4 BTA_ALT="" STRACE=0
BTA_SETS=() BTA_ALT_ENV=() BTA_ALT_SETS=()

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "run.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE_TEXT=${2:?}; shift 2 ;;
    --piece) PIECE_TEXT=${2:?}; shift 2 ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --seeders) SEEDERS=${2:?}; shift 2 ;;
    --clients) CLIENTS=${2:?}; shift 2 ;;
    --mode) MODE=${2:?}; shift 2 ;;
    --scenarios) SCENARIOS=${2:?}; shift 2 ;;
    --bta-alt) BTA_ALT=${2:?}; shift 2 ;;
    --bta-alt-env) BTA_ALT_ENV+=("${2:?}"); shift 2 ;;
    --bta-alt-set) BTA_ALT_SETS+=(--set "${2:?}"); shift 2 ;;
    --strace) STRACE=1; shift ;;
    --timeout) RUN_TIMEOUT=${2:?}; shift 2 ;;
    --workdir) WORKDIR=${2:?}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --bta-set) BTA_SETS+=(--set "${2:?}"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

bytes() { # 1G, 512M, 64K, 1000 -> bytes (binary units)
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
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
[[ "$SEEDERS" =~ ^[1-9][0-9]*$ ]] && [ "$SEEDERS" -le 32 ] || die "--seeders must be 1..32"
[[ "$RUN_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be seconds"
case "$MODE" in
  download) [ -n "$CLIENTS" ] || CLIENTS=bta,aria2,libtorrent ;;
  seed) [ -n "$CLIENTS" ] || CLIENTS=bta,libtorrent ;;
  *) die "--mode must be download or seed" ;;
esac
IFS=, read -r -a CLIENT_LIST <<<"$CLIENTS"
for c in "${CLIENT_LIST[@]}"; do
  if [ "$MODE" = seed ]; then
    case "$c" in bta|libtorrent) ;; *) die "unknown seeder '$c' (bta, libtorrent)" ;; esac
  else
    case "$c" in bta|aria2|libtorrent|transmission) ;; bta-alt) [ -n "$BTA_ALT" ] || die "bta-alt needs --bta-alt DIR" ;;
      *) die "unknown client '$c' (bta, bta-alt, aria2, libtorrent, transmission)" ;; esac
  fi
done
[ "$BTA_ALT" != . ] || BTA_ALT="${BTA_PUBLISH:-$ROOT/artifacts/bench/bta}"
if [ -n "$BTA_ALT" ]; then
  [ -f "$BTA_ALT/bta.dll" ] || [ -x "$BTA_ALT/bta" ] || die "--bta-alt: neither $BTA_ALT/bta.dll nor $BTA_ALT/bta found"
  BTA_ALT=$(cd "$BTA_ALT" && pwd)   # the runs start in other folders
  [[ " ${CLIENT_LIST[*]} " == *" bta-alt "* ]] || CLIENT_LIST+=(bta-alt)
fi
[ "$STRACE" -eq 0 ] || [ -x /usr/bin/strace ] || die "--strace needs /usr/bin/strace (apt-get install strace)"
IFS=, read -r -a SCENARIO_LIST <<<"$SCENARIOS"
for n in "${SCENARIO_LIST[@]}"; do
  case "$n" in 1|4) ;; *) die "unknown scenario '$n' (1: one libtorrent leecher, 4: 2 libtorrent + 2 aria2)" ;; esac
done

# ---- tools ----------------------------------------------------------------------------------------------------
need() { [ -x "$1" ] || die "$1 is missing: apt-get install $2 (or run .ci/run once)"; }
if [ ! -x /usr/bin/time ]; then
  echo "==> /usr/bin/time missing, installing the 'time' package"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1; } \
    || die "/usr/bin/time is missing and could not be installed (apt-get install time)"
fi
need /usr/bin/opentracker opentracker
need "$PY" python3-libtorrent
"$PY" -c 'import libtorrent' 2>/dev/null || die "python3-libtorrent is not importable by $PY"
need /usr/bin/openssl openssl
[ "$MODE" = seed ] && need /usr/bin/aria2c aria2
for c in "${CLIENT_LIST[@]}"; do
  case "$c" in
    aria2) need /usr/bin/aria2c aria2 ;;
    transmission) need /usr/bin/transmission-daemon transmission-daemon; need /usr/bin/transmission-remote transmission-cli ;;
  esac
done

# ---- process bookkeeping ----------------------------------------------------------------------------------------
. "$HERE/lib/procs.sh"

log() { printf '==> %s\n' "$*"; }

# ---- build bta --------------------------------------------------------------------------------------------------
# Published as a user installs it (README, "Install"): Release, ReadyToRun, framework-dependent. Precompiled code
# saves the JIT about 0.2 CPU-s per run, most of it at start (a 16 MiB download: 0.53 against 0.76 CPU-s).
BTA_PUBLISH="${BTA_PUBLISH:-$ROOT/artifacts/bench/bta}"   # another published folder for A/B runs (with --no-build)
BTA_DLL="$BTA_PUBLISH/bta.dll"
# A self-contained publish (its runtimeconfig names includedFrameworks) cannot run under the shared `dotnet` host.
bta_exec() { # DIR -> the command words that start the bta published in DIR
  if { [ ! -f "$1/bta.dll" ] || grep -q includedFrameworks "$1/bta.runtimeconfig.json" 2>/dev/null; } && [ -x "$1/bta" ]; then
    printf '%s\n' "$1/bta"
  else
    printf '%s\n' dotnet "$1/bta.dll"
  fi
}
if [[ " ${CLIENT_LIST[*]} " == *" bta "* ]]; then
  if [ "$BUILD" -eq 1 ]; then
    log "publishing bta (Release, ReadyToRun) to $BTA_PUBLISH"
    timeout 900 dotnet publish "$ROOT/src/BitTorrentActors.Cli/BitTorrentActors.Cli.csproj" -c Release \
      --use-current-runtime --self-contained false \
      -o "$BTA_PUBLISH" -nologo -v q >/dev/null || die "dotnet publish failed (run it by hand to see why)"
  fi
  [ -f "$BTA_DLL" ] || [ -x "$BTA_PUBLISH/bta" ] || die "$BTA_DLL not found (build it or drop --no-build)"
fi
mapfile -t BTA_EXEC < <(bta_exec "$BTA_PUBLISH")
BTA_ALT_EXEC=()
[ -z "$BTA_ALT" ] || mapfile -t BTA_ALT_EXEC < <(bta_exec "$BTA_ALT")

# ---- work folder, content, torrent ------------------------------------------------------------------------------
WORK_CREATED=0
if [ -z "$WORKDIR" ]; then
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/bta-bench.XXXXXX"); WORK_CREATED=1
  chmod 755 "$WORK"   # opentracker drops privileges (to nobody) before it reads the whitelist
else
  mkdir -p "$WORKDIR"; WORK=$(cd "$WORKDIR" && pwd)
fi
mkdir -p "$WORK/seed" "$WORK/out" "$WORK/logs"
NAME="bench-$SIZE_TEXT.bin"
SRC="$WORK/seed/$NAME"
TORRENT="$WORK/bench.torrent"
RESULTS="$WORK/results.tsv"
DIALFILE="$WORK/dial.txt"
: >"$DIALFILE"

log "generating $SIZE bytes of deterministic content"
head -c "$SIZE" /dev/zero \
  | openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 >"$SRC"
[ "$(stat -c %s "$SRC")" -eq "$SIZE" ] || die "content generation wrote the wrong size"

read -r -a PORTS <<<"$("$PY" "$LIB" freeport $((SEEDERS + 1)))"
TRACKER_PORT=${PORTS[0]}
ANNOUNCE="http://127.0.0.1:$TRACKER_PORT/announce"
log "making the torrent (piece $PIECE)"
INFOHASH=$(timeout 600 "$PY" "$LIB" maketorrent "$SRC" "$TORRENT" "$PIECE" "$ANNOUNCE")
[[ "$INFOHASH" =~ ^[0-9a-f]{40}$ ]] || die "maketorrent printed '$INFOHASH'"

# ---- tracker and seeders ----------------------------------------------------------------------------------------
echo "$INFOHASH" >"$WORK/whitelist"
start_tracker() {
  log "opentracker on 127.0.0.1:$TRACKER_PORT"
  # No -d: with it opentracker chroots and cannot read the whitelist (absolute path).
  /usr/bin/opentracker -i 127.0.0.1 -p "$TRACKER_PORT" -P "$TRACKER_PORT" -w "$WORK/whitelist" \
    >>"$WORK/logs/opentracker.log" 2>&1 &
  TRACKER_PID=$!
  PIDS+=("$TRACKER_PID")
}
stop_pid() { # kill one process we started, by PID, and wait for it to go (SIGKILL after 5 s)
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
if [ "$MODE" = download ]; then
start_tracker

log "starting $SEEDERS libtorrent seeder(s)"
for i in $(seq 1 "$SEEDERS"); do
  "$PY" -u "$LIB" seeder "$TORRENT" "$WORK/seed" "${PORTS[$i]}" 14400 "$DIALFILE" \
    >"$WORK/logs/seeder-$i.log" 2>&1 &
  PIDS+=($!)
done
deadline=$((SECONDS + 120 + SIZE * SEEDERS / 50000000))
for i in $(seq 1 "$SEEDERS"); do
  until grep -qx ready "$WORK/logs/seeder-$i.log"; do
    [ "$SECONDS" -lt "$deadline" ] || { cat "$WORK/logs/seeder-$i.log" >&2; die "seeder $i not seeding in time"; }
    kill -0 "${PIDS[$i]}" 2>/dev/null || { cat "$WORK/logs/seeder-$i.log" >&2; die "seeder $i exited"; }
    sleep 0.2
  done
done
timeout 60 "$PY" "$LIB" scrapewait "$ANNOUNCE" "$INFOHASH" "$SEEDERS" 30 || die "tracker does not list the seeders"
log "seeding: $SEEDERS seeder(s) on 127.0.0.1 ports ${PORTS[*]:1}"
fi

# ---- one timed run ----------------------------------------------------------------------------------------------
drop_caches() {
  sync
  if echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then DROPPED=yes; else DROPPED=no; fi
  cat "$SRC" >/dev/null   # the seeders' copy is always warm; only the leecher's side starts cold
}

wall_seconds() { # "h:mm:ss" or "m:ss.ss" -> seconds
  awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$1"
}

cp "$HERE/lib/loopback.conf" "$WORK/bta.conf"   # loopback only: no DHT routers, no LSD multicast

leech_cmd() { # CLIENT OUT PORT RPCPORT -> cmd=(...) downloading the torrent into OUT
  local client=$1 out=$2 port=$3 rpc=$4
  case "$client" in
    bta)
      cmd=("${BTA_EXEC[@]}" download "$TORRENT" -o "$out" --port "$port" --config "$WORK/bta.conf" "${BTA_SETS[@]}") ;;
    bta-alt)
      cmd=(env "${BTA_ALT_ENV[@]}" "${BTA_ALT_EXEC[@]}" download "$TORRENT" -o "$out" --port "$port" --config "$WORK/bta.conf" "${BTA_SETS[@]}" "${BTA_ALT_SETS[@]}") ;;
    aria2)
      cmd=(/usr/bin/aria2c --no-conf "--listen-port=$port" --interface=127.0.0.1 --disable-ipv6=true
        --enable-dht=false --bt-enable-lpd=false --enable-peer-exchange=false --summary-interval=0
        --file-allocation=none --seed-time=0 "--bt-stop-timeout=$RUN_TIMEOUT" --console-log-level=warn
        -d "$out" "$TORRENT") ;;
    libtorrent)
      cmd=("$PY" -u "$LIB" leecher "$TORRENT" "$out" "$port" "$RUN_TIMEOUT") ;;
    transmission)
      cmd=(bash "$HERE/lib/transmission-leech.sh" "$TORRENT" "$out" "$WORK" "$port" "$rpc" "$DIALFILE" "$RUN_TIMEOUT") ;;
  esac
}

run_one() {
  local client=$1 round=$2 out="$WORK/out/$1-$2" timefile="$WORK/logs/$1-$2.time" clog="$WORK/logs/$1-$2.log"
  local port rpc cmd=()
  rm -rf "$out"; mkdir -p "$out"
  read -r port rpc <<<"$("$PY" "$LIB" freeport 2)"
  leech_cmd "$client" "$out" "$port" "$rpc"
  [ "$STRACE" -eq 0 ] || cmd=(/usr/bin/strace -f -c -o "$WORK/logs/$client-$round.strace" "${cmd[@]}")
  drop_caches
  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  local rc=0
  timeout -k 10 $((RUN_TIMEOUT + 30)) /usr/bin/time -v -o "$timefile" "${cmd[@]}" >"$clog" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait "$pid" || rc=$?
  if [ "$rc" -ne 0 ]; then
    tail -n 30 "$clog" >&2
    die "$client round $round failed with exit code $rc (log: $clog)"
  fi
  if ! cmp -s "$SRC" "$out/$NAME"; then
    ls -la "$out" >&2
    die "$client round $round: $out/$NAME differs from the source (or is missing)"
  fi
  local wall rss user sys
  wall=$(wall_seconds "$(sed -n 's/^\s*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$timefile")")
  rss=$(sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$timefile")
  user=$(sed -n 's/^\s*User time (seconds): //p' "$timefile")
  sys=$(sed -n 's/^\s*System time (seconds): //p' "$timefile")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$client" "$round" "$wall" "$rss" "$user" "$sys" >>"$RESULTS"
  printf '    %-12s round %d: %7.2f s  %7.1f MB/s  RSS %7.1f MB  CPU %6.2f s  (cache dropped: %s, load before: %s)\n' \
    "$client" "$round" "$wall" "$(awk -v s="$SIZE" -v w="$wall" 'BEGIN { print s / w / 1e6 }')" \
    "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$DROPPED" "$load"
  rm -rf "$out"
}

proc_cpu_ticks() { # PID -> "utime stime" in clock ticks (fields 14 and 15 of /proc/PID/stat)
  sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12, $13 }'
}

wait_tracker() { # until the fresh opentracker answers a scrape
  local deadline=$((SECONDS + 30))
  until (exec 3<>"/dev/tcp/127.0.0.1/$TRACKER_PORT") 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || die "opentracker does not answer on port $TRACKER_PORT"
    sleep 0.2
  done
}

# One seeding run: a fresh tracker, SEEDER (bta, bta-alt or libtorrent) serving $SRC, then SCENARIO leechers at once.
seed_one() {
  local seeder=$1 scenario=$2 round=$3 tag="seed-$1-$2-$3"
  local slog="$WORK/logs/$tag.seeder.log" port rpc seeder_pid
  local leechers=(libtorrent)
  [ "$scenario" -eq 4 ] && leechers=(libtorrent libtorrent aria2 aria2)
  drop_caches
  start_tracker
  wait_tracker
  read -r port <<<"$("$PY" "$LIB" freeport 1)"
  case "$seeder" in
    bta) "${BTA_EXEC[@]}" seed "$TORRENT" --data "$WORK/seed" --port "$port" --config "$WORK/bta.conf" \
           "${BTA_SETS[@]}" >"$slog" 2>&1 & ;;
    bta-alt) env "${BTA_ALT_ENV[@]}" "${BTA_ALT_EXEC[@]}" seed "$TORRENT" --data "$WORK/seed" --port "$port" \
           --config "$WORK/bta.conf" "${BTA_SETS[@]}" "${BTA_ALT_SETS[@]}" >"$slog" 2>&1 & ;;
    libtorrent) "$PY" -u "$LIB" seeder "$TORRENT" "$WORK/seed" "$port" 14400 "$DIALFILE" >"$slog" 2>&1 & ;;
  esac
  seeder_pid=$!
  PIDS+=("$seeder_pid")
  # Seeding once the tracker lists it as a seed (both announce left=0 only after checking the data).
  timeout $((120 + SIZE / 50000000)) "$PY" "$LIB" scrapewait "$ANNOUNCE" "$INFOHASH" 1 $((110 + SIZE / 50000000)) \
    || { tail -n 30 "$slog" >&2; die "$seeder seeder not listed as a seed in time (log: $slog)"; }
  kill -0 "$seeder_pid" 2>/dev/null || { tail -n 30 "$slog" >&2; die "$seeder seeder exited (log: $slog)"; }
  local before load
  before=$(proc_cpu_ticks "$seeder_pid")
  load=$(cut -d' ' -f1 /proc/loadavg)
  local start pids=() outs=() i=0 c cmd=()
  start=$(date +%s.%N)
  for c in "${leechers[@]}"; do
    i=$((i + 1))
    local out="$WORK/out/$tag-$i"
    rm -rf "$out"; mkdir -p "$out"
    read -r lport lrpc <<<"$("$PY" "$LIB" freeport 2)"
    leech_cmd "$c" "$out" "$lport" "$lrpc"
    timeout -k 10 $((RUN_TIMEOUT + 30)) /usr/bin/time -v -o "$WORK/logs/$tag-$i.time" "${cmd[@]}" \
      >"$WORK/logs/$tag-$i.log" 2>&1 &
    pids+=($!); outs+=("$out")
    PIDS+=($!)
  done
  local rc walls=()
  for i in "${!pids[@]}"; do
    rc=0; wait "${pids[$i]}" || rc=$?
    [ "$rc" -eq 0 ] || { tail -n 30 "$WORK/logs/$tag-$((i + 1)).log" >&2; die "$tag leecher $((i + 1)) (${leechers[$i]}) failed ($rc)"; }
    walls+=("$(wall_seconds "$(sed -n 's/^\s*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/logs/$tag-$((i + 1)).time")")")
  done
  local wall after hwm tck
  wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
  after=$(proc_cpu_ticks "$seeder_pid")
  hwm=$(sed -n 's/^VmHWM:\s*\([0-9]*\) kB/\1/p' "/proc/$seeder_pid/status")
  stop_pid "$seeder_pid"
  stop_pid "$TRACKER_PID"
  for i in "${!outs[@]}"; do
    cmp -s "$SRC" "${outs[$i]}/$NAME" || die "$tag leecher $((i + 1)) (${leechers[$i]}): download differs from the source"
    rm -rf "${outs[$i]}"
  done
  tck=$(getconf CLK_TCK)
  local user sys
  read -r user sys <<<"$(awk -v b="$before" -v a="$after" -v t="$tck" 'BEGIN {
    split(b, x, " "); split(a, y, " "); printf "%.2f %.2f", (y[1] - x[1]) / t, (y[2] - x[2]) / t }')"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$seeder" "$scenario" "$round" "$wall" "$hwm" "$user" "$sys" \
    "$(IFS=,; echo "${walls[*]}")" >>"$RESULTS"
  printf '    %-10s %d leecher(s) round %d: %7.2f s (each: %s)  seeder CPU %5.2f user %5.2f sys  RSS %6.1f MB  (load before: %s)\n' \
    "$seeder" "$scenario" "$round" "$wall" "$(IFS=' '; echo "${walls[*]}")" "$user" "$sys" \
    "$(awk -v r="$hwm" 'BEGIN { print r / 1024 }')" "$load"
}

machine_line() {
  echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
}

if [ "$MODE" = seed ]; then
  printf 'seeder\tleechers\tround\twall_s\tmax_rss_kb\tuser_s\tsys_s\tleecher_walls\n' >"$RESULTS"
  log "seeding ${CLIENT_LIST[*]} to ${SCENARIO_LIST[*]} leecher(s) x $ROUNDS rounds ($SIZE bytes)"
  for r in $(seq 1 "$ROUNDS"); do
    for n in "${SCENARIO_LIST[@]}"; do
      for c in "${CLIENT_LIST[@]}"; do seed_one "$c" "$n" "$r"; done
    done
  done
  echo
  echo "Loopback seeding benchmark: $SIZE_TEXT ($SIZE bytes), piece $PIECE_TEXT, $ROUNDS rounds"
  machine_line
  "$PY" "$LIB" seedsummary "$RESULTS" "$SIZE"
  exit 0
fi

printf 'client\tround\twall_s\tmax_rss_kb\tuser_s\tsys_s\n' >"$RESULTS"
log "timing ${CLIENT_LIST[*]} x $ROUNDS rounds ($SIZE bytes, $SEEDERS seeder(s))"
for r in $(seq 1 "$ROUNDS"); do
  for c in "${CLIENT_LIST[@]}"; do run_one "$c" "$r"; done
done

echo
echo "Loopback benchmark: $SIZE_TEXT ($SIZE bytes), piece $PIECE_TEXT, $SEEDERS libtorrent seeder(s), $ROUNDS rounds"
machine_line
"$PY" "$LIB" summary "$RESULTS" "$SIZE"
[ "$STRACE" -eq 0 ] || "$PY" "$LIB" stracesummary "$WORK/logs" "$SIZE"
