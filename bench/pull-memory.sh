#!/usr/bin/env bash
# Peak memory of a pull (issue 24): one single-layer image of SIZE_MB (default 5120) of
# incompressible bytes, its layer an uncompressed tar so that every byte crosses the wire,
# pushed once to a local registry; then `berth pull` of it into a fresh root under
# /usr/bin/time -v, whose "Maximum resident set size" is berth's (its worker threads are in
# the same process). The image, the registry's storage and the pull root go at the end.
# Usage: bench/pull-memory.sh   (SIZE_MB=200 for a quick look; BERTH_TIMING=1 for the phases)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SIZE_MB=${SIZE_MB:-5120}
PORT=${PORT:-15997}
W="$BENCH_TMP/pull-memory"
rm -rf "$W"; mkdir -p "$W"
need=$(( SIZE_MB * 4 + 1024 )) # the layout, the registry's copy, the pulled blob and the tree
avail=$(df -Pm "$BENCH_TMP" | awk 'NR == 2 { print $4 }')
if [ "$avail" -lt "$need" ]; then echo "bench: $need MB free needed under $BENCH_TMP, $avail MB there" >&2; exit 1; fi
RPID=
cleanup() {
  [ -n "$RPID" ] && kill "$RPID" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: 127.0.0.1:%s\n' "$W" "$PORT" > "$W/config.yml"
docker-registry serve "$W/config.yml" >>"$W/registry.log" 2>&1 & RPID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done

# The layer is written as a tar of one file, hashed as it goes: AES-CTR of zeros is as
# incompressible as /dev/urandom and far faster to make.
MAKE_LAYOUT=$(cat <<'PY'
import hashlib, io, json, os, sys, tarfile
out, size = sys.argv[1], int(sys.argv[2])
blobs = os.path.join(out, 'blobs', 'sha256'); os.makedirs(blobs)
h = hashlib.sha256(); tmp = os.path.join(blobs, 'layer.tmp')
with open(tmp, 'wb') as f:
    info = tarfile.TarInfo('weights.bin'); info.size = size; info.mode = 0o644
    def w(b): h.update(b); f.write(b)
    w(info.tobuf(format=tarfile.GNU_FORMAT))
    left = size
    while left:
        b = sys.stdin.buffer.read(min(left, 8 << 20))
        if not b: sys.exit('short input')
        left -= len(b); w(b)
    w(b'\0' * ((512 - size % 512) % 512 + 1024))
    length = f.tell()
layer = h.hexdigest(); os.rename(tmp, os.path.join(blobs, layer))
def put(doc):
    b = json.dumps(doc).encode(); d = hashlib.sha256(b).hexdigest()
    open(os.path.join(blobs, d), 'wb').write(b); return {'digest': 'sha256:' + d, 'size': len(b)}
config = put({'architecture': 'amd64', 'os': 'linux', 'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + layer]}, 'config': {}})
manifest = put({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
                'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', **config},
                'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar', 'digest': 'sha256:' + layer, 'size': length}]})
json.dump({'schemaVersion': 2, 'manifests': [{'mediaType': 'application/vnd.oci.image.manifest.v1+json', **manifest,
           'annotations': {'org.opencontainers.image.ref.name': '1'}}]}, open(os.path.join(out, 'index.json'), 'w'))
open(os.path.join(out, 'oci-layout'), 'w').write('{"imageLayoutVersion": "1.0.0"}')
PY
)
python3 -c "$MAKE_LAYOUT" "$W/oci" "$(( SIZE_MB << 20 ))" < <(openssl enc -aes-128-ctr -nosalt -pass pass:berth-bench -in /dev/zero 2>/dev/null)
skopeo copy -q --dest-tls-verify=false "oci:$W/oci:1" "docker://127.0.0.1:$PORT/mem/big:1"
rm -rf "$W/oci"
[ -z "${KEEP_IMAGE:-}" ] || { echo "registry on port $PORT, pid $RPID; kept until you kill it"; trap - EXIT; exit 0; }
sync

/usr/bin/time -v -o "$W/time" ./bin/berth --root "$W/root" pull -q "127.0.0.1:$PORT/mem/big:1" >"$W/pull.log" 2>&1 ||
  { cat "$W/pull.log" >&2; exit 1; }
[ -z "${BERTH_TIMING:-}" ] || cat "$W/pull.log"
rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$W/time")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$W/time")
echo "pull of a ${SIZE_MB} MB single-layer image: peak RSS $(( rss / 1024 )) MB, wall $wall (load: $(cut -d' ' -f1-3 /proc/loadavg))"
