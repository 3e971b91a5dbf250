#!/usr/bin/env bash
# Cluster sharding simulation for docs/scale-out.md (issue 16): three Akka.NET cluster nodes as three processes on
# 127.0.0.1, N sharded stub torrents (remember-entities in plain DData, keep-majority SBR), one node taken away.
#
#   tests/bench/cluster-sim.sh [--runs "leave:1000 leave:10000 kill:100 kill:1000"] [--shards 100]
#                              [--stable-after-ms 5000] [--state-bytes 4096] [--rejoin] [--rebalance-limit 0]
#                              [--recovery all|constant] [--set akka.key=value]... [--timeout 300]
#                              [--base-port 25520] [--workdir DIR] [--no-build]
#
# Each run is "scenario:entities": leave = SIGTERM of node C (a clean leave, its shards handed off), kill = kill -9
# of node C (failure detector, then the split-brain resolver after stable-after). Node A (seed, oldest, coordinator)
# is the driver; it starts B and C and prints one RESULT line, collected in WORKDIR/results.jsonl and tabled at the
# end. Every process is bounded: the driver by `timeout`, the members by their own lifetime and by their parent's
# death; all PIDs (the driver's and the members' from the driver's pid file) are killed on exit. Exit 1 if a run
# failed an invariant (an entity lost, restarted without cause, or seen on two live nodes at once).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PROJ="$HERE/cluster-sim/BitTorrentActors.ClusterSim.csproj"
DLL="$HERE/cluster-sim/bin/Release/net10.0/BitTorrentActors.ClusterSim.dll"

RUNS="leave:1000 leave:10000 kill:100 kill:1000" SHARDS=100 STABLE=5000 STATE=4096 REJOIN="" LIMIT=0
RECOVERY=all RUN_TIMEOUT=300 BASE_PORT=25520 WORKDIR="" BUILD=1
SETS=()

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "cluster-sim.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=${2:?}; shift 2 ;;
    --shards) SHARDS=${2:?}; shift 2 ;;
    --stable-after-ms) STABLE=${2:?}; shift 2 ;;
    --state-bytes) STATE=${2:?}; shift 2 ;;
    --rejoin) REJOIN=--rejoin; shift ;;
    --rebalance-limit) LIMIT=${2:?}; shift 2 ;;
    --recovery) RECOVERY=${2:?}; shift 2 ;;
    --set) SETS+=(--set "${2:?}"); shift 2 ;;
    --timeout) RUN_TIMEOUT=${2:?}; shift 2 ;;
    --base-port) BASE_PORT=${2:?}; shift 2 ;;
    --workdir) WORKDIR=${2:?}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done
for n in "$SHARDS" "$STABLE" "$STATE" "$LIMIT" "$RUN_TIMEOUT" "$BASE_PORT"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "'$n' is not a number"
done
for r in $RUNS; do [[ "$r" =~ ^(leave|kill):[1-9][0-9]*$ ]] || die "bad run '$r' (leave:N or kill:N)"; done

[ -n "$WORKDIR" ] || WORKDIR="$(mktemp -d /tmp/bta-cluster-sim.XXXXXX)"
mkdir -p "$WORKDIR"
RESULTS="$WORKDIR/results.jsonl"
: >"$RESULTS"

DRIVER_PID=""
cleanup() {
  [ -n "$DRIVER_PID" ] && kill -9 "$DRIVER_PID" 2>/dev/null || true
  if [ -f "$WORKDIR/pids" ]; then
    while read -r pid; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; done <"$WORKDIR/pids"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$BUILD" = 1 ]; then
  echo "==> building the simulation"
  dotnet build "$PROJ" -c Release -v q -nologo >"$WORKDIR/build.log" 2>&1 || { cat "$WORKDIR/build.log" >&2; die "build failed"; }
fi
[ -f "$DLL" ] || die "$DLL is missing (run without --no-build)"

status=0 i=0
for r in $RUNS; do
  scenario=${r%%:*} entities=${r##*:}
  port=$((BASE_PORT + 10 * i)); i=$((i + 1))
  log="$WORKDIR/$scenario-$entities.log"
  echo "==> $scenario of node C with $entities entities, $SHARDS shards (log: $log)"
  rm -f "$WORKDIR/pids"
  # The members' output goes to stderr (the log); the driver's progress lines and Akka's warnings to stdout.
  ( cd "$WORKDIR" && exec timeout --kill-after=10s "$((RUN_TIMEOUT + 30))s" dotnet "$DLL" driver --scenario "$scenario" \
      --entities "$entities" --shards "$SHARDS" --stable-after-ms "$STABLE" --state-bytes "$STATE" \
      --rebalance-limit "$LIMIT" --recovery "$RECOVERY" --timeout "$RUN_TIMEOUT" --base-port "$port" \
      --pid-file "$WORKDIR/pids" $REJOIN "${SETS[@]}" ) >"$log.out" 2>"$log" &
  DRIVER_PID=$!
  rc=0; wait "$DRIVER_PID" || rc=$?
  DRIVER_PID=""
  cleanup
  # The driver's own progress lines (timestamped); Akka's warnings stay in the logs.
  grep -E '^[0-9]{2}:[0-9]{2}:[0-9]{2}' "$log.out" | cut -c1-400 | sed 's/^/    /' || true
  if grep -q '^RESULT ' "$log.out"; then
    grep '^RESULT ' "$log.out" | sed 's/^RESULT //' >>"$RESULTS"
  else
    echo "    no RESULT line (exit $rc); see $log" >&2
  fi
  [ "$rc" = 0 ] || { status=1; echo "    run failed (exit $rc)" >&2; }
done

/usr/bin/python3 - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
if not rows:
    sys.exit(0)
print()
print(f"{'run':<12} {'ok':<3} {'start s':>8} {'heap B/ent':>10} {'moved':>6} {'first s':>8} {'p50 s':>7} {'p90 s':>7} "
      f"{'max s':>7} {'unreach':>7} {'down':>6} {'removed':>7} {'restarts':>8} {'dups':>4} {'load':>5}")
for r in rows:
    p = r.get("moved_percentiles_s", {})
    g = lambda k: r.get(k, "-")
    print(f"{r['scenario'] + ':' + str(r['entities']):<12} {'yes' if r['ok'] else 'NO':<3} {g('start_s'):>8} "
          f"{g('heap_bytes_per_entity'):>10} {g('victim_entities'):>6} {g('moved_first_s'):>8} {p.get('p50', '-'):>7} "
          f"{p.get('p90', '-'):>7} {p.get('max', '-'):>7} {g('unreachable_after_s'):>7} {g('downed_after_s'):>6} "
          f"{g('removed_after_s'):>7} {g('restarted_entities'):>8} {g('duplicates'):>4} {g('loadavg_start'):>5}")
    if r.get("rejoin_balanced_s") is not None:
        print(f"{'':<12} rejoin: up {r['rejoin_up_s']} s, balanced {r['rejoin_balanced_s']} s, "
              f"{r['rejoin_moved_entities']} entities moved, shards {r['rejoin_shard_layout']}")
    for f in r.get("failures", []):
        print(f"{'':<12} FAILED: {f}")
PY
echo "results: $RESULTS"
exit $status
