#!/usr/bin/env bash
# The long run of the cp race in test/integration/hostile-image.test.ts: TRIES `berth cp`
# runs each way (default 5000) against a container that swaps a dir for a link to a host
# canary dir in a loop. The test itself runs 500 each way. As root, after `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."
BERTH_RACE_TRIES="${1:-5000}" exec node --import tsx --test test/integration/hostile-image.test.ts
