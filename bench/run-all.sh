#!/usr/bin/env bash
# Every benchmark, one after the other (never part of the test command).
set -euo pipefail
cd "$(dirname "$0")/.."
node --import tsx bench/parse.ts
node --import tsx bench/startup-modules.ts
node --import tsx bench/page-cache.ts
bash bench/run-latency.sh
bash bench/build.sh
bash bench/registry.sh
bash bench/api-run.sh
