#!/usr/bin/env bash
# `berth serve` against a private dockerd, both driven by the docker CLI 28: `docker run --rm
# bb:1 true` N times each, in alternating order (medians and the ratio), then 200 concurrent
# `ps` requests on each socket (bench/api-ps.ts: median and p99), and each server's peak RSS
# (VmHWM) over the whole bench. Both servers are stopped by PID when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-15}
DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}
with_busybox # ROOT and BB; bb:1 in berth's root
SOCK="$BENCH_TMP/api/berth.sock"
mkdir -p "$BENCH_TMP/api"
rm -f "$SOCK"
./bin/berth --root "$ROOT" serve -H "unix://$SOCK" --log-level warn 2>"$BENCH_TMP/api/serve.log" &
SERVE_PID=$!
cleanup() {
  local dockerd_pid
  dockerd_pid=$(cat "$BENCH_TMP/d/pid" 2>/dev/null || true)
  kill "$SERVE_PID" 2>/dev/null || true
  stop_dockerd
  # Both gone before the next bench starts: a lingering daemon would share its CPUs.
  for pid in "$SERVE_PID" $dockerd_pid; do
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
}
trap cleanup EXIT
start_dockerd # exports DOCKER_HOST for dockerd
docker_busybox
DOCKERD_HOST=$DOCKER_HOST
BERTH_HOST=unix://$SOCK
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
at() { local host=$1; shift; DOCKER_HOST=$host "$DOCKER_CLI" "$@"; }

# run_pair ARGS...: `docker run --rm ARGS` through each engine, N times in alternating order;
# prints the medians and the ratio.
run_pair() {
  for h in "$BERTH_HOST" "$DOCKERD_HOST"; do at "$h" run --rm "$@" >/dev/null; done # untimed warm-up
  declare -A T=([berth]="" [dockerd]="")
  for i in $(seq "$N"); do
    order="berth dockerd"; [ $((i % 2)) = 0 ] && order="dockerd berth"
    for e in $order; do
      h=$BERTH_HOST; [ "$e" = dockerd ] && h=$DOCKERD_HOST
      T[$e]+=" $(time_ms at "$h" run --rm "$@")"
    done
  done
  local b d
  b=$(median ${T[berth]}); d=$(median ${T[dockerd]})
  echo "docker run --rm $* (docker CLI 28, median of $N, ms)"
  echo "  through berth serve:       $b (runs:${T[berth]})"
  echo "  through a private dockerd: $d (runs:${T[dockerd]})"
  echo "  berth/dockerd: $(ratio "$b" "$d")"
}
run_pair bb:1 true
run_pair --network none bb:1 true

# Some containers to list: ten created ones on each engine.
for h in "$BERTH_HOST" "$DOCKERD_HOST"; do
  for k in $(seq 10); do at "$h" create --name "bench-ps-$k" bb:1 true >/dev/null; done
done
echo "200 concurrent GET /containers/json?all=1 (10 containers; 3 rounds after a warm-up)"
echo "  berth serve: $(node --import tsx bench/api-ps.ts "$SOCK" 200 3)"
echo "  dockerd:     $(node --import tsx bench/api-ps.ts "${DOCKERD_HOST#unix://}" 200 3)"
for h in "$BERTH_HOST" "$DOCKERD_HOST"; do
  for k in $(seq 10); do at "$h" rm "bench-ps-$k" >/dev/null; done
done
peak() { awk '/^VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$1/status"; }
echo "peak RSS (VmHWM) over the whole bench"
echo "  berth serve: $(peak "$SERVE_PID")"
echo "  dockerd:     $(peak "$(cat "$BENCH_TMP/d/pid")")"
