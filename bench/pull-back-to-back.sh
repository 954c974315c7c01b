#!/usr/bin/env bash
# Pulls as users meet them (issue 24): the ~600 MB bench image (bench/registry.sh's, pushed by
# docker, so gzip layers) pulled N times per engine back to back, berth and docker taking
# turns, with no pause: berth into a fresh state root each time (the last one deleted just
# before), docker after `docker system prune -af` (its engine and build cache emptied). So
# each pull meets the deletes and the unwritten data of the pull before it, as a user's
# repeated pulls do. Prints each time, the medians and their ratio, the load, and what
# /proc/meminfo said was dirty or under writeback as each pull began. BERTH_TIMING's lines of
# each berth pull go to $BENCH_TMP/b2b/berth-N.log.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-3}
PORT=${PORT:-15996}
W="$BENCH_TMP/b2b"
REG="$W/registry"
rm -rf "$W"; mkdir -p "$REG"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\n' "$REG" "$PORT" > "$REG/config.yml"
docker-registry serve "$REG/config.yml" >>"$REG/log" 2>&1 & RPID=$!
trap 'kill $RPID 2>/dev/null || true; stop_dockerd' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
with_busybox
big_context
start_dockerd
docker_busybox
IMAGE=127.0.0.1:$PORT/docker/big:1
DOCKER_BUILDKIT=1 /usr/bin/docker build -q --network none -t "$IMAGE" "$BENCH_TMP/big" >/dev/null
docker push "$IMAGE" >/dev/null
dirty() { awk '/^Dirty:|^Writeback:/ { printf "%s%d MB ", $1, $2 / 1024 }' /proc/meminfo; }
bt=(); dt=()
for i in $(seq "$N"); do
  echo "round $i: load $(cut -d' ' -f1-3 /proc/loadavg)"
  rm -rf "$W/berth-root"
  echo "  berth: $(dirty)"
  s=$(date +%s%N)
  BERTH_TIMING=1 ./bin/berth --root "$W/berth-root" pull -q "$IMAGE" >"$W/berth-$i.log" 2>&1 || { cat "$W/berth-$i.log" >&2; exit 1; }
  bt+=($(( ($(date +%s%N) - s) / 1000000 )))
  docker system prune -af >/dev/null 2>&1 || true
  echo "  docker: $(dirty)"
  dt+=("$(time_ms docker pull "$IMAGE")")
  echo "  berth ${bt[-1]} ms, docker ${dt[-1]} ms"
done
rm -rf "$W/berth-root"; docker system prune -af >/dev/null 2>&1 || true
bm=$(median "${bt[@]}"); dm=$(median "${dt[@]}")
echo "back-to-back pulls of the ~600 MB image (ms; berth ${bt[*]}; docker ${dt[*]}): median berth $bm, docker $dm, ratio $(ratio "$bm" "$dm")"
