#!/usr/bin/env bash
# A second CI runner's build of examples/ml with app.py changed, from the team registry's
# cache, against a cold build and against BuildKit's --cache-from. The Dockerfile is
# examples/ml's with an apt cache mount on its apt step (as teams write it) and a step after
# app.py that reads the mount; its base is the debootstrap image (scripts/make-debian-base.sh)
# pushed to a local registry. Runner A (a berth state root) builds it once with
# --cache-to type=registry,mode=max,mounts=true; the private dockerd (20.10, BuildKit) builds
# it once with BUILDKIT_INLINE_CACHE=1 and pushes it. Then, R times, interleaved: a fresh
# berth root builds it cold, a fresh berth root with --cache-from the registry cache, and the
# dockerd, its images but the base removed and its build cache pruned, with --cache-from the
# inline-cache image. Each runner has the base image before the timed build (a CI runner's
# base pull is the same for all three and is left out). apt reaches the Debian mirror, so
# cold builds depend on the mirror's speed: their number is indicative.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
PORT=${PORT:-15998}
R=${R:-3}
REG="$BENCH_TMP/cache-registry"
W="$BENCH_TMP/remote-cache"
rm -rf "$REG" "$W"; mkdir -p "$REG" "$W/ctx"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\n' "$REG" "$PORT" > "$REG/config.yml"
docker-registry serve "$REG/config.yml" >>"$REG/log" 2>&1 & RPID=$!
cleanup() {
  kill "$RPID" 2>/dev/null || true
  stop_dockerd
  for r in "$W"/runner-*; do [ -d "$r" ] && grep -o " $r[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l; done
  rm -rf "$W"/runner-*
}
trap cleanup EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
# The dockerd's builds use the host's network: with no bridge of its own it leaves the machine's alone.
start_dockerd --bridge none --iptables=false

# The base: the newest debootstrap image cached, else a fresh one (a minute of debootstrap).
cache=${BERTH_CACHE:-/var/cache/berth}
tarball=$(ls "$cache"/debian-bookworm-minbase-*.tar 2>/dev/null | sort | tail -n1 || true)
[ -n "$tarball" ] || { bash scripts/make-debian-base.sh >/dev/null; tarball=$(ls "$cache"/debian-bookworm-minbase-*.tar | sort | tail -n1); }
BASE=127.0.0.1:$PORT/bench/debian:bookworm-slim
./bin/berth --root "$W/runner-a" import "$tarball" "$BASE" >/dev/null
./bin/berth --root "$W/runner-a" push -q "$BASE" >/dev/null
docker pull -q "$BASE" >/dev/null

# examples/ml with the apt cache mount, the step after app.py, the base from the registry,
# and no `# syntax=` line (the dockerd would fetch that frontend from Docker Hub).
MOUNT='--mount=type=cache,target=/var/cache/apt,sharing=locked'
cp examples/ml/apt-packages.txt examples/ml/app.py "$W/ctx/"
grep -v '^# syntax=' examples/ml/Dockerfile \
  | sed -e "s#^FROM debian:bookworm-slim#FROM $BASE#" -e "s#^RUN apt-get update#RUN $MOUNT apt-get update#" \
    -e "s#^COPY app.py .#COPY app.py .\nRUN $MOUNT sh -c 'ls /var/cache/apt/archives | grep -c deb > /app/apt-debs; true'#" > "$W/ctx/Dockerfile"
grep -qF -- "$MOUNT apt-get update" "$W/ctx/Dockerfile" && grep -q 'apt-debs' "$W/ctx/Dockerfile"

# An empty dockerd but for the base image: its other images removed, its build cache pruned.
fresh_dockerd() {
  local keep
  keep=$(docker image inspect -f '{{.Id}}' "$BASE")
  docker image ls -q --no-trunc | sort -u | { grep -vx "$keep" || true; } | xargs -r docker rmi -f >/dev/null
  docker builder prune -af >/dev/null 2>&1 # CLI 28 warns that its legacy builder is deprecated
}

CACHE=127.0.0.1:$PORT/bench/ml-cache:main
INLINE=127.0.0.1:$PORT/bench/ml:inline
a_ms=$(time_ms ./bin/berth --root "$W/runner-a" build -q --network host --cache-to "type=registry,ref=$CACHE,mode=max,mounts=true" -t ml:a "$W/ctx")
fresh_dockerd
d_ms=$(time_ms env DOCKER_BUILDKIT=1 /usr/bin/docker build -q --network host --build-arg BUILDKIT_INLINE_CACHE=1 -t "$INLINE" "$W/ctx")
docker push -q "$INLINE" >/dev/null
echo "first builds (apt from the mirror): berth runner A with --cache-to ${a_ms} ms, BuildKit with inline cache ${d_ms} ms"

fresh_berth() {
  rm -rf "$W/$1"
  ./bin/berth --root "$W/$1" pull -q "$BASE" >/dev/null
}
cold=(); warm=(); bk=()
for i in $(seq "$R"); do
  printf '\n# changed on the branch of run %s\n' "$i" >> "$W/ctx/app.py"
  fresh_berth runner-cold
  cold+=("$(time_ms ./bin/berth --root "$W/runner-cold" build -q --network host -t ml:b "$W/ctx")")
  fresh_berth runner-warm
  warm+=("$(time_ms ./bin/berth --root "$W/runner-warm" build -q --network host --cache-from "type=registry,ref=$CACHE" -t ml:b "$W/ctx")")
  debs=$(./bin/berth --root "$W/runner-warm" run --rm --network none --entrypoint cat ml:b /app/apt-debs)
  fresh_dockerd
  bk+=("$(time_ms env DOCKER_BUILDKIT=1 /usr/bin/docker build -q --network host --cache-from "$INLINE" -t ml:b "$W/ctx")")
  bk_debs=$(docker run --rm --network none --entrypoint cat ml:b /app/apt-debs)
  echo "run $i: berth cold ${cold[-1]} ms, berth --cache-from ${warm[-1]} ms (apt mount: $debs debs), BuildKit --cache-from ${bk[-1]} ms (apt mount: $bk_debs debs)"
done
c=$(median "${cold[@]}"); w=$(median "${warm[@]}"); b=$(median "${bk[@]}")
echo "second runner, examples/ml with app.py changed (median of $R): berth cold ${c} ms, berth --cache-from registry ${w} ms (x$(ratio "$c" "$w") faster than cold), BuildKit --cache-from inline ${b} ms (berth x$(ratio "$b" "$w") its speed)"
