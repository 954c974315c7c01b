#!/usr/bin/env bash
# Two berth checkouts against each other on the builds of bench/build.sh, rounds taking them
# in turn: `bench/build-ab.sh OLD_CHECKOUT NEW_CHECKOUT` (each built with `npm run build`).
# CONTEXTS=tiny (default) and/or small (2000 small files in 20 dirs, one COPY); N rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
OLD=$(cd "$1" && pwd); NEW=$(cd "$2" && pwd)
N=${N:-9}
with_busybox # the busybox tar (BB)
for v in old new; do
  r="$BENCH_TMP/ab-$v"; b=$OLD; [ $v = new ] && b=$NEW
  "$b/bin/berth" --root "$r" image inspect bb:1 >/dev/null 2>&1 || "$b/bin/berth" --root "$r" import "$BB" bb:1 >/dev/null
done
tiny="$BENCH_TMP/tiny"; mkdir -p "$tiny"
printf 'FROM bb:1\nRUN echo one > /one\nCOPY f /f\nRUN cat /f > /g\nENV X=1\n' > "$tiny/Dockerfile"; echo data > "$tiny/f"
small="$BENCH_TMP/small"
if [ ! -f "$small/.done" ]; then
  rm -rf "$small"; mkdir -p "$small/files"
  for d in $(seq 0 19); do mkdir -p "$small/files/$d"; for f in $(seq 0 99); do head -c 1000 /dev/urandom > "$small/files/$d/$f.txt"; done; done
  printf 'FROM bb:1\nWORKDIR /app\nCOPY files /app/files/\n' > "$small/Dockerfile"; touch "$small/.done"
fi
berth() { local b=$OLD; [ "$1" = new ] && b=$NEW; "$b/bin/berth" --root "$BENCH_TMP/ab-$1" "${@:2}"; }
cold() { berth "$1" build -q --no-cache --network none -t b:1 "$2"; }
warm() { berth "$1" build -q --network none -t b:1 "$2"; }
for ctx in ${CONTEXTS:-tiny}; do
  dir="$BENCH_TMP/$ctx"
  declare -A C=([old]="" [new]="") W=([old]="" [new]="")
  for v in old new; do warm "$v" "$dir" >/dev/null; done # untimed: first-run costs out of the way
  for i in $(seq "$N"); do
    # Alternate which goes first, so that neither always runs right after the other's deletes.
    order="old new"; [ $((i % 2)) = 0 ] && order="new old"
    for v in $order; do wait_deletes; C[$v]+=" $(time_ms cold "$v" "$dir")"; done
  done
  for v in old new; do warm "$v" "$dir" >/dev/null; done
  for i in $(seq "$N"); do
    order="old new"; [ $((i % 2)) = 0 ] && order="new old"
    for v in $order; do wait_deletes; W[$v]+=" $(time_ms warm "$v" "$dir")"; done
  done
  echo "$ctx context (median of $N, ms): cold / fully cached"
  for v in old new; do echo "  $v: $(median ${C[$v]}) / $(median ${W[$v]}) (runs:${C[$v]} /${W[$v]})"; done
  echo "  new/old: $(ratio "$(median ${C[new]})" "$(median ${C[old]})") / $(ratio "$(median ${W[new]})" "$(median ${W[old]})")"
done
