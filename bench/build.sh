#!/usr/bin/env bash
# Cold and fully cached builds, berth vs docker BuildKit (and buildah when installed), on a
# 4-step tiny Dockerfile and on a ~500 MB / 20k-file COPY context.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-5}
with_busybox
start_dockerd
docker_busybox
export DOCKER_BUILDKIT=1
DOCKER=/usr/bin/docker

tiny="$BENCH_TMP/tiny"; mkdir -p "$tiny"
printf 'FROM bb:1\nRUN echo one > /one\nCOPY f /f\nRUN cat /f > /g\nENV X=1\n' > "$tiny/Dockerfile"; echo data > "$tiny/f"

[[ " ${CONTEXTS:-tiny big} " == *" big "* ]] && big_context

cold() { # engine dir
  case $1 in
    berth) ./bin/berth --root "$ROOT" build -q --no-cache --network none -t b:1 "$2" ;;
    docker) $DOCKER build -q --no-cache --network none -t b:1 "$2" ;;
    buildah) buildah bud -q --no-cache --layers -t b:1 "$2" ;;
  esac
}
warm() {
  case $1 in
    berth) ./bin/berth --root "$ROOT" build -q --network none -t b:1 "$2" ;;
    docker) $DOCKER build -q --network none -t b:1 "$2" ;;
    buildah) buildah bud -q --layers -t b:1 "$2" ;;
  esac
}
engines="berth docker"; command -v buildah >/dev/null && podman_busybox && engines="$engines buildah"
# CONTEXTS=tiny (or big) times one context only; both by default.
for ctx in ${CONTEXTS:-tiny big}; do
  dir="$BENCH_TMP/$ctx"
  declare -A C W
  for e in $engines; do C[$e]=""; W[$e]=""; done
  # A cold build of the big context deletes or replaces 20k files; let that settle before
  # the next one is timed (settle_deletes in lib.sh), whichever engine runs it.
  before=true; [ "$ctx" = big ] && before=settle_deletes
  # Rounds take the engines in turn: the VM's memory gets slower and faster to write over
  # minutes (docs/benchmarks.md), and all of one engine's runs in a row could land together.
  for _ in $(seq "$N"); do for e in $engines; do $before; C[$e]+=" $(time_ms cold "$e" "$dir")"; done; done
  for e in $engines; do warm "$e" "$dir" >/dev/null; done
  # A cached build creates no files, but must not share the machine with the delete that
  # berth's last --no-cache build left running in the background (wait_deletes).
  for _ in $(seq "$N"); do for e in $engines; do wait_deletes; W[$e]+=" $(time_ms warm "$e" "$dir")"; done; done
  declare -A MC MW
  for e in $engines; do MC[$e]=$(median ${C[$e]}); MW[$e]=$(median ${W[$e]}); done
  echo "$ctx context (median of $N, ms): cold / fully cached"
  for e in $engines; do echo "  $e: ${MC[$e]} / ${MW[$e]} (runs:${C[$e]} /${W[$e]})   ratio to docker: $(ratio "${MC[$e]}" "${MC[docker]}") / $(ratio "${MW[$e]}" "${MW[docker]}")"; done
done
