#!/usr/bin/env bash
# `berth serve` against a private dockerd, both driven by the docker CLI 28: `docker run --rm
# bb:1 true` N times each, in alternating order (medians and the ratio), then 200 concurrent
# `ps` requests on each socket (bench/api-ps.ts: median and p99), and each server's peak RSS
# (VmHWM) over the whole bench. Both servers are stopped by PID when it ends. OLD=<checkout>
# (built) adds a third engine to the run rounds: `berth serve` of that checkout, on its own root.
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
OLD_PID=
if [ -n "${OLD:-}" ]; then
  OLD_SOCK="$BENCH_TMP/api/berth-old.sock"; rm -f "$OLD_SOCK"
  "$OLD/bin/berth" --root "$BENCH_TMP/berth-root-old" image inspect bb:1 >/dev/null 2>&1 || "$OLD/bin/berth" --root "$BENCH_TMP/berth-root-old" import "$BB" bb:1 >/dev/null
  "$OLD/bin/berth" --root "$BENCH_TMP/berth-root-old" serve -H "unix://$OLD_SOCK" --log-level warn 2>"$BENCH_TMP/api/serve-old.log" &
  OLD_PID=$!
fi
cleanup() {
  local dockerd_pid
  dockerd_pid=$(cat "$BENCH_TMP/d/pid" 2>/dev/null || true)
  kill "$SERVE_PID" 2>/dev/null || true
  [ -n "$OLD_PID" ] && kill "$OLD_PID" 2>/dev/null
  stop_dockerd
  # All gone before the next bench starts: a lingering daemon would share its CPUs.
  for pid in "$SERVE_PID" $OLD_PID $dockerd_pid; do
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
}
trap cleanup EXIT
start_dockerd # exports DOCKER_HOST for dockerd
docker_busybox
DOCKERD_HOST=$DOCKER_HOST
BERTH_HOST=unix://$SOCK
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -n "$OLD_PID" ] && for _ in $(seq 50); do [ -S "$OLD_SOCK" ] && break; sleep 0.1; done
ENGINES="berth dockerd${OLD_PID:+ old}"
host_of() { case $1 in berth) echo "$BERTH_HOST" ;; dockerd) echo "$DOCKERD_HOST" ;; old) echo "unix://$OLD_SOCK" ;; esac; }
at() { local host=$1; shift; DOCKER_HOST=$host "$DOCKER_CLI" "$@"; }

# run_pair ARGS...: `docker run --rm ARGS` through each engine, N times in alternating order;
# prints the medians and the ratio.
run_pair() {
  for e in $ENGINES; do at "$(host_of "$e")" run --rm "$@" >/dev/null; done # untimed warm-up
  declare -A T=([berth]="" [dockerd]="" [old]="")
  local E; read -ra E <<<"$ENGINES"
  for i in $(seq "$N"); do
    # The engines in turn, each round starting one further along, so none always runs first.
    local k=$(( i % ${#E[@]} ))
    for e in "${E[@]:k}" "${E[@]:0:k}"; do T[$e]+=" $(time_ms at "$(host_of "$e")" run --rm "$@")"; done
  done
  local b d
  b=$(median ${T[berth]}); d=$(median ${T[dockerd]})
  echo "docker run --rm $* (docker CLI 28, median of $N, ms; load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "  through berth serve:       $b (runs:${T[berth]})"
  echo "  through a private dockerd: $d (runs:${T[dockerd]})"
  echo "  berth/dockerd: $(ratio "$b" "$d")"
  if [ -n "$OLD_PID" ]; then
    echo "  through OLD's berth serve: $(median ${T[old]}) (runs:${T[old]})"
    echo "  berth/OLD: $(ratio "$b" "$(median ${T[old]})")"
  fi
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
