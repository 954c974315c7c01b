#!/usr/bin/env bash
# Median of `run --rm bb true`: berth vs a private docker engine (and podman when installed).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-15}
with_busybox
berth_none=$(median_ms "$N" ./bin/berth --root "$ROOT" run --rm --network none bb:1 true)
berth_bridge=$(median_ms "$N" ./bin/berth --root "$ROOT" run --rm bb:1 true)
node_floor=$(median_ms "$N" node -e 0)

start_dockerd
docker_busybox
docker_ms=$(median_ms "$N" docker run --rm bb:1 true)
docker_none=$(median_ms "$N" docker run --rm --network none bb:1 true)

echo "run --rm bb true (median of $N, ms)"
echo "  node -e 0 floor:        $node_floor"
echo "  berth (bridge):         $berth_bridge   ratio to docker: $(ratio "$berth_bridge" "$docker_ms")"
echo "  berth (--network none): $berth_none   ratio to docker --network none: $(ratio "$berth_none" "$docker_none")"
echo "  docker (bridge):        $docker_ms"
echo "  docker (--network none):$docker_none"
if podman_busybox; then
  podman_ms=$(median_ms "$N" podman run --rm bb:1 true)
  echo "  podman:                 $podman_ms   berth (bridge) to podman: $(ratio "$berth_bridge" "$podman_ms")"
fi
