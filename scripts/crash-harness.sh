#!/bin/sh
# The crash harness at full length: kill -9 pulls, builds, pushes, loads (berth has no commit
# verb yet) and `run -d` at random moments (100 runs unless told), each followed by check,
# prune, check and a retry.
# Usage: scripts/crash-harness.sh [runs] [seed]   (as root; after `npm run build`)
set -e
cd "$(dirname "$0")/.."
exec node --import tsx scripts/crash-harness.ts "$@"
