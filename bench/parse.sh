#!/usr/bin/env bash
# Parse speed: `caisson parse --json` on a generated 10,000-instruction Dockerfile, next to bare
# node start-up measured in the same run. Target (issue 2): under 200 ms more than node alone.
# Usage: bench/parse.sh [runs]   (prints medians, the difference and the ratio)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
[ -f dist/src/cli/index.js ] || npm run build >/dev/null
exec node bench/parse.mjs "${1:-7}"
