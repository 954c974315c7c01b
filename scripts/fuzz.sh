#!/bin/sh
# The long fuzz run over the Dockerfile parser, word expansion, .dockerignore, references
# and the layer tar reader/applier: scripts/fuzz.sh [N=100000] [seed=1] [target...]
# (the bounded run is test/unit/fuzz.test.ts). Runs as root: the tar target creates devices.
cd "$(dirname "$0")/.." || exit 1
exec node --import tsx scripts/fuzz.ts "$@"
