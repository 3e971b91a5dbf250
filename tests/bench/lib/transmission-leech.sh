#!/usr/bin/env bash
# One Transmission 3.00 download, run to completion, for run.sh (which wraps this whole script in /usr/bin/time -v,
# so the daemon's CPU and peak RSS are counted as this script's child).
# Transmission never dials 127.0.0.0/8 peers, so it only gets data when the seeder dials it: this script appends
# "127.0.0.1:PEERPORT" to DIALFILE, which the libtorrent seeders watch.
# Usage: transmission-leech.sh TORRENT OUTDIR WORKDIR PEERPORT RPCPORT DIALFILE TIMEOUT_S
set -euo pipefail

torrent=$1 out=$2 work=$3 peerport=$4 rpcport=$5 dialfile=$6 timeout_s=$7
config="$work/transmission-$peerport"
mkdir -p "$config" "$out"
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$daemon_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

transmission-daemon --foreground --config-dir "$config" --port "$rpcport" --rpc-bind-address 127.0.0.1 \
  --allowed 127.0.0.1 --no-auth --peerport "$peerport" --bind-address-ipv4 127.0.0.1 --bind-address-ipv6 ::1 \
  --no-dht --no-lpd --no-portmap --no-utp --encryption-tolerated --no-incomplete-dir --download-dir "$out" \
  --no-global-seedratio >"$work/transmission-$peerport.log" 2>&1 &
daemon_pid=$!

remote() { timeout 10 transmission-remote "127.0.0.1:$rpcport" "$@"; }

deadline=$((SECONDS + 15))
until remote -l >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || { echo "transmission RPC not up on 127.0.0.1:$rpcport" >&2; exit 1; }
  sleep 0.1
done
remote --add "$torrent" >/dev/null
echo "127.0.0.1:$peerport" >>"$dialfile"

deadline=$((SECONDS + timeout_s))
while :; do
  done_pct=$(remote -t all -i 2>/dev/null | sed -n 's/^ *Percent Done: *//p' | head -n1)
  [ "$done_pct" = "100%" ] && break
  [ "$SECONDS" -lt "$deadline" ] || { echo "transmission did not finish in ${timeout_s}s (at ${done_pct:-?})" >&2; exit 1; }
  sleep 0.1
done
# Stop the daemon cleanly so every write reaches the file (and the .part name is gone) before run.sh compares it.
kill "$daemon_pid"
wait "$daemon_pid" || true
daemon_pid=""
