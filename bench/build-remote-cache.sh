#!/usr/bin/env bash
# A second CI runner's build from a registry cache against a cold build. Runner A (a state
# root) builds an ML-like Dockerfile (a dependency step standing for `pip install`: 10 s of
# "download" into a pip-like cache mount, then a ~50 MB site-packages layer; then the app)
# and exports its cache to a local registry
# with mode=max,mounts=true; then, with app.py changed, fresh runners build it cold and
# with --cache-from, alternating, R times each (medians). BuildKit's own --cache-from is
# not compared: its inline or registry cache keys are LLB digests berth does not make, and
# berth's cache is not one BuildKit can hit (see docs/build-cache.md).
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
trap 'kill $RPID 2>/dev/null || true; rm -rf "$W/runner-"*' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
with_busybox
BASE=127.0.0.1:$PORT/bench/bb:base
./bin/berth --root "$ROOT" tag bb:1 "$BASE"
./bin/berth --root "$ROOT" push "$BASE" >/dev/null
cat > "$W/ctx/Dockerfile" <<DF
FROM $BASE
RUN --mount=type=cache,id=pip,target=/root/.cache/pip \
    sh -c 'test -f /root/.cache/pip/wheels.bin || (sleep 10; head -c 50000000 /dev/urandom > /root/.cache/pip/wheels.bin)' \
 && mkdir -p /opt/site && cp /root/.cache/pip/wheels.bin /opt/site/
COPY app.py /app/app.py
RUN ls /opt/site > /app/site.txt
DF
echo 'print(0)' > "$W/ctx/app.py"
CACHE=127.0.0.1:$PORT/bench/cache:ml
./bin/berth --root "$W/runner-a" build -q --network none --cache-to "type=registry,ref=$CACHE,mode=max,mounts=true" -t ml:a "$W/ctx" >/dev/null
cold=(); warm=()
for i in $(seq "$R"); do
  echo "print($i)" > "$W/ctx/app.py"
  rm -rf "$W/runner-cold" "$W/runner-warm"
  cold+=("$(time_ms ./bin/berth --root "$W/runner-cold" build -q --network none -t ml:b "$W/ctx")")
  warm+=("$(time_ms ./bin/berth --root "$W/runner-warm" build -q --network none --cache-from "type=registry,ref=$CACHE" -t ml:b "$W/ctx")")
done
c=$(median "${cold[@]}"); w=$(median "${warm[@]}")
echo "second runner, app.py changed: cold ${c} ms, --cache-from registry ${w} ms (x$(ratio "$c" "$w") faster)"
