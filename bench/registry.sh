#!/usr/bin/env bash
# Push and pull of a ~600 MB image (random weights + 20k small files) to a local registry:
# berth vs docker (vs skopeo for the pull side).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
PORT=${PORT:-15999}
P=${P:-3} # push runs per engine, alternating
REG="$BENCH_TMP/registry"
rm -rf "$REG"; mkdir -p "$REG"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\n' "$REG" "$PORT" > "$REG/config.yml"
RPID=
# fresh_registry: the registry restarted on empty storage, so that a push uploads every blob.
fresh_registry() {
  if [ -n "$RPID" ]; then kill "$RPID" 2>/dev/null || true; wait "$RPID" 2>/dev/null || true; fi
  rm -rf "$REG/data"
  docker-registry serve "$REG/config.yml" >>"$REG/log" 2>&1 & RPID=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && return 0; sleep 0.1; done
  echo "bench: the registry did not start (see $REG/log)" >&2; return 1
}
trap '[ -n "$RPID" ] && kill $RPID 2>/dev/null || true' EXIT
with_busybox
big_context
start_dockerd
docker_busybox
export DOCKER_BUILDKIT=1
./bin/berth --root "$ROOT" build -q --network none -t big:1 "$BENCH_TMP/big" >/dev/null
/usr/bin/docker build -q --network none -t big:1 "$BENCH_TMP/big" >/dev/null
BENCH_LOG="$REG/commands.log"
./bin/berth --root "$ROOT" tag big:1 127.0.0.1:$PORT/berth/big:1
docker tag big:1 127.0.0.1:$PORT/docker/big:1
# Alternating runs: how fast the registry writes what it receives depends on the VM's memory
# (pages the kernel freed moments ago are fast to fill, pages it has handed back to the host
# are not), so a single run of each can land on either side. Docker compresses every time:
# it keeps no compressed blob; berth sends this layer uncompressed (--compression-format auto).
bps=(); dps=()
for _ in $(seq "$P"); do
  fresh_registry; bps+=("$(time_ms ./bin/berth --root "$ROOT" push 127.0.0.1:$PORT/berth/big:1)")
  fresh_registry; dps+=("$(time_ms docker push 127.0.0.1:$PORT/docker/big:1)")
done
bp=$(median "${bps[@]}"); dp=$(median "${dps[@]}")
rm -rf "$BENCH_TMP/pull-root"; deleted_now
settle_deletes
bl=$(time_ms ./bin/berth --root "$BENCH_TMP/pull-root" pull 127.0.0.1:$PORT/docker/big:1)
# Empty the private engine so docker pull really downloads and extracts every layer.
docker system prune -af >/dev/null 2>&1 || true # images, stopped containers and BuildKit's cache
deleted_now
settle_deletes
dl=$(time_ms docker pull 127.0.0.1:$PORT/docker/big:1)
rm -rf "$BENCH_TMP/skopeo-oci"
sl=$(time_ms skopeo copy --src-tls-verify=false docker://127.0.0.1:$PORT/docker/big:1 oci:$BENCH_TMP/skopeo-oci:1)
echo "push ~600 MB image (ms, median of $P: berth ${bps[*]}, docker ${dps[*]}): berth $bp, docker $dp, ratio $(ratio "$bp" "$dp")"
echo "pull it back with extraction (ms): berth $bl, docker $dl, ratio $(ratio "$bl" "$dl"); skopeo to an OCI dir (no extraction) $sl"
