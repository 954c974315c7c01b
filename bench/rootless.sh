#!/usr/bin/env bash
# Rootless berth against root berth and rootless Podman, run as root: `run --rm --network none
# bb:1 true` and the tiny 4-step build (--no-cache, --network host) of bench/build.sh, N rounds
# taking the three in turn. The rootless two run as a user made here (subordinate ids as an
# admin gives them, XDG_RUNTIME_DIR a dir of its own), removed at the end with its processes.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-9}
REPO_DIR=$(pwd)
with_busybox # ROOT, BB, and bb:1 in root's berth
podman_busybox || { echo "bench: podman is not installed (apt-get install podman)" >&2; exit 1; }

U=berthbench$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
useradd -m -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$U"
usermod --add-subuids 400000-465535 --add-subgids 400000-465535 "$U"
UID_N=$(id -u "$U")
RUN_DIR=$(mktemp -d "/tmp/$U-run-XXXX"); chown "$U:" "$RUN_DIR"; chmod 700 "$RUN_DIR"
cleanup() {
  # The user's processes (berth's namespace holder, podman's pause process) by pid, then the user.
  for p in $(ps -o pid= -u "$UID_N" 2>/dev/null); do [ "$p" -gt 1 ] && kill -9 "$p" 2>/dev/null || true; done
  sleep 0.2
  userdel -r "$U" 2>/dev/null || true
  rm -rf "$RUN_DIR" "/home/$U"
}
trap cleanup EXIT
as_user() { (cd /tmp && setpriv --reuid "$U" --regid "$U" --init-groups env -i HOME="/home/$U" USER="$U" PATH="$PATH" XDG_RUNTIME_DIR="$RUN_DIR" SOURCE_DATE_EPOCH=0 "$@"); }
BB_USER="/home/$U/bb.tar"; cp "$BB" "$BB_USER"; chmod 644 "$BB_USER"

tiny="$BENCH_TMP/rootless-tiny"; mkdir -p "$tiny"
printf 'FROM bb:1\nRUN echo one > /one\nCOPY f /f\nRUN cat /f > /g\nENV X=1\n' > "$tiny/Dockerfile"; echo data > "$tiny/f"
chmod -R a+rX "$tiny"

run_root() { ./bin/berth --root "$ROOT" "$@"; }
run_user() { as_user "$REPO_DIR/bin/berth" "$@"; }
run_podman() { as_user podman "$@"; }
as_user "$REPO_DIR/bin/berth" import "$BB_USER" bb:1 >/dev/null
as_user podman import "$BB_USER" bb:1 >/dev/null 2>&1
for s in root user podman; do
  "run_$s" run --rm --network none bb:1 true >/dev/null # untimed: first-run costs (the holder, podman's pause) out of the way
done

declare -A RUN=([root]="" [user]="" [podman]="") BUILD=([root]="" [user]="" [podman]="")
for i in $(seq "$N"); do
  order="root user podman"; [ $((i % 2)) = 0 ] && order="podman user root"
  for s in $order; do
    RUN[$s]+=" $(time_ms "run_$s" run --rm --network none bb:1 true)"
    BUILD[$s]+=" $(time_ms "run_$s" build -q --no-cache --network host -t tiny:1 "$tiny")"
  done
done
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "run --rm --network none bb:1 true (median of $N, ms)"
for s in root user podman; do echo "  $s: $(median ${RUN[$s]}) (runs:${RUN[$s]})"; done
echo "  rootless berth / root berth: $(ratio "$(median ${RUN[user]})" "$(median ${RUN[root]})")"
echo "  rootless berth / rootless podman: $(ratio "$(median ${RUN[user]})" "$(median ${RUN[podman]})")"
echo "tiny 4-step build, --no-cache (median of $N, ms)"
for s in root user podman; do echo "  $s: $(median ${BUILD[$s]}) (runs:${BUILD[$s]})"; done
echo "  rootless berth / root berth: $(ratio "$(median ${BUILD[user]})" "$(median ${BUILD[root]})")"
echo "  rootless berth / rootless podman: $(ratio "$(median ${BUILD[user]})" "$(median ${BUILD[podman]})")"
