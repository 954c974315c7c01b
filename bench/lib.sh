# Shared helpers for the benchmarks: medians of repeated runs, and private peers.
# Source it; it never touches the system's own docker or berth state.

BENCH_TMP=${BENCH_TMP:-/tmp/berth-bench}
mkdir -p "$BENCH_TMP"

# time_ms cmd...: the wall time of one run of cmd in ms; its output goes to $BENCH_LOG
# (discarded when unset).
time_ms() {
  local s e
  s=$(date +%s%N)
  "$@" >>"${BENCH_LOG:-/dev/null}" 2>&1 || { echo "bench: command failed: $*${BENCH_LOG:+ (see $BENCH_LOG)}" >&2; return 1; }
  e=$(date +%s%N)
  echo $(( (e - s) / 1000000 ))
}

# median N...: the median of the numbers given.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# median_ms N cmd...: runs cmd N times, prints the median wall time in ms. BENCH_BEFORE_EACH
# names a command run (untimed) before each run.
median_ms() {
  local n=$1; shift
  local times=()
  for _ in $(seq "$n"); do
    ${BENCH_BEFORE_EACH:-true} # untimed: e.g. settle_deletes
    times+=("$(time_ms "$@")")
  done
  median "${times[@]}"
}

# start_dockerd [dockerd args...]: a private Docker engine under $BENCH_TMP/d (ENVIRONMENT.md's recipe).
start_dockerd() {
  export DOCKER_HOST=unix://$BENCH_TMP/d/docker.sock
  if docker info >/dev/null 2>&1; then return 0; fi
  mkdir -p "$BENCH_TMP/d"
  dockerd --data-root "$BENCH_TMP/d/root" --exec-root "$BENCH_TMP/d/exec" -H "$DOCKER_HOST" \
    --pidfile "$BENCH_TMP/d/pid" "$@" >"$BENCH_TMP/d/log" 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "bench: dockerd did not start (see $BENCH_TMP/d/log)" >&2; return 1
}

stop_dockerd() {
  [ -f "$BENCH_TMP/d/pid" ] && kill "$(cat "$BENCH_TMP/d/pid")" 2>/dev/null || true
}

# settle_deletes: waits until files deleted so far no longer slow down creating new ones. This
# VM's ext4 has no journal, and then the kernel passes over every inode freed in the last
# 60 s when it allocates one, checking them one by one; the window is 360 s while the
# inode's table block is dirty, and creating files next to them is what dirties it. So a
# sync does not help: right after a 20k-file tree is deleted, and for up to 6 minutes,
# creating 20k files takes 4-19 s instead of about 1 s, and whichever engine ran next paid
# for it. Any delete still running in the background finishes first (berth hands a
# replaced layer dir to a detached `rm -rf`); then this waits until 361 s have passed since
# the last delete it knows of: a background one it saw end, or one the bench marked with
# deleted_now. Until a delete is seen, one is assumed at the start (the machine's past is
# unknown).
DELETE_STAMP="$BENCH_TMP/.last-delete"
date +%s > "$DELETE_STAMP"
deleted_now() { date +%s > "$DELETE_STAMP"; }
# wait_deletes: waits for a background delete to end (and marks it), so that no timed run
# shares the CPU and the disk with it. Enough before runs that create no files (cached builds).
wait_deletes() {
  if pgrep -f "^rm -rf $BENCH_TMP" >/dev/null; then
    while pgrep -f "^rm -rf $BENCH_TMP" >/dev/null; do sleep 1; done
    deleted_now
  fi
}
settle_deletes() {
  wait_deletes
  local wait=$(( $(cat "$DELETE_STAMP") + 361 - $(date +%s) ))
  sync
  [ "$wait" -gt 0 ] && sleep "$wait"
  return 0
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# with_busybox: sets ROOT (the bench's berth state root) and BB (the busybox rootfs tar of the
# tests), and imports BB as bb:1 into berth, and into the private dockerd once it runs.
with_busybox() {
  ROOT="$BENCH_TMP/berth-root"
  BB=$(node --import tsx -e "import('./test/helpers/busybox.ts').then(m => console.log(m.busyboxTar()))")
  ./bin/berth --root "$ROOT" image inspect bb:1 >/dev/null 2>&1 || ./bin/berth --root "$ROOT" import "$BB" bb:1 >/dev/null
}
docker_busybox() {
  docker image inspect bb:1 >/dev/null 2>&1 || docker import "$BB" bb:1 >/dev/null
}

# podman_busybox: when podman is installed, configures it as ENVIRONMENT.md says (runc, cgroupfs,
# no default ulimits above the machine's hard limit) and imports BB as bb:1 into its storage,
# which buildah shares. Returns 1 when podman is not installed.
podman_busybox() {
  command -v podman >/dev/null || return 1
  if [ ! -f /etc/containers/containers.conf ]; then
    mkdir -p /etc/containers
    printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > /etc/containers/containers.conf
  fi
  podman image exists bb:1 2>/dev/null || podman import "$BB" bb:1 >/dev/null 2>&1
}

# big_context: the ~500 MB / 20k-file build context of the build and registry benchmarks
# (random weights plus small files), made once under $BENCH_TMP/big.
big_context() {
  big="$BENCH_TMP/big"
  if [ ! -f "$big/.done" ]; then
    rm -rf "$big"; mkdir -p "$big/files"
    for d in $(seq 0 199); do mkdir -p "$big/files/$d"; for f in $(seq 0 99); do head -c 1000 /dev/urandom > "$big/files/$d/$f.txt"; done; done
    head -c 480000000 /dev/urandom > "$big/weights.bin"
    printf 'FROM bb:1\nCOPY . /ctx/\n' > "$big/Dockerfile"; touch "$big/.done"
  fi
}
