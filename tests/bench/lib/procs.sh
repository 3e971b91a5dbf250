# Process bookkeeping for the benchmark scripts (sourced, after KEEP is parsed): every process a script starts goes
# into PIDS; on exit each gets SIGTERM, up to 5 s to go, then SIGKILL, so nothing outlives a run, whatever ended it.
# The work folder WORK is removed unless KEEP=1, or unless the caller named it (a script that may be handed an
# existing folder sets WORK_CREATED=0 until it makes one itself).
PIDS=()
bench_cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ -n "${WORK:-}" ]; then
    if [ "${KEEP:-0}" -eq 1 ]; then echo "work folder kept: $WORK"
    elif [ "${WORK_CREATED:-1}" -eq 1 ]; then rm -rf "$WORK"; fi
  fi
  exit "$rc"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
