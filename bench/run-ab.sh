#!/usr/bin/env bash
# Two berth checkouts against each other on `run --rm bb:1 true`, rounds taking them in turn:
# `bench/run-ab.sh OLD_CHECKOUT NEW_CHECKOUT` (each built with `npm run build`). N rounds, with
# --network none and with the default bridge network.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
OLD=$(cd "$1" && pwd); NEW=$(cd "$2" && pwd)
N=${N:-15}
with_busybox # the busybox tar (BB)
berth() { local b=$OLD; [ "$1" = new ] && b=$NEW; "$b/bin/berth" --root "$BENCH_TMP/ab-$1" "${@:2}"; }
for v in old new; do
  berth "$v" image inspect bb:1 >/dev/null 2>&1 || berth "$v" import "$BB" bb:1 >/dev/null
  berth "$v" run --rm --network none bb:1 true # untimed: first-run costs out of the way
done
for net in none bridge; do
  declare -A T=([old]="" [new]="")
  for i in $(seq "$N"); do
    order="old new"; [ $((i % 2)) = 0 ] && order="new old"
    for v in $order; do T[$v]+=" $(time_ms berth "$v" run --rm --network "$net" bb:1 true)"; done
  done
  echo "run --rm --network $net bb:1 true (median of $N, ms)"
  for v in old new; do echo "  $v: $(median ${T[$v]}) (runs:${T[$v]})"; done
  echo "  new/old: $(ratio "$(median ${T[new]})" "$(median ${T[old]})")"
done
