#!/usr/bin/env bash
# Parse speed: `caisson parse --json` on a generated 10,000-instruction Dockerfile, next to bare
# node start-up measured in the same run. Target (issue 2): under 200 ms more than node alone.
# Usage: bench/parse.sh [runs]          best and median wall time of interleaved runs, difference, ratio
#        bench/parse.sh --instructions  instruction counts (callgrind), for machines whose CPU speed swings
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
[ -f dist/src/cli/index.js ] || npm run build >/dev/null
exec node bench/parse.mjs "$@"
