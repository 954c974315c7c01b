#!/usr/bin/env bash
# The main job, end to end on a fresh machine: install what berth needs, make the Debian
# base image locally (there is no Docker Hub here), build the ML example, and run it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

BERTH=./bin/berth
BASE=debian:bookworm-slim
if ! $BERTH image inspect "$BASE" >/dev/null 2>&1; then
  echo "main: $BASE is not in the store and Docker Hub is unreachable; making it locally with debootstrap"
  bash scripts/make-debian-base.sh | $BERTH import - "$BASE" >/dev/null
  echo "main: imported $BASE (debootstrap --variant=minbase bookworm)"
fi

$BERTH build -t ml-example:1 examples/ml
$BERTH run --rm ml-example:1
