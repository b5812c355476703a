#!/usr/bin/env bash
# Snapshot and extraction speed (issue 4), every peer measured in the same run on the same tree:
#   - a rootfs of --files files / --size-mib MiB (default 100,000 / 1024), a step that changes 10;
#   - walk path: caisson's scan within 2x of `find -printf` over the tree;
#   - overlay path (as root): the snapshot under 1% of a full walk and under 50 ms;
#   - extraction of the tree as one gzip layer at least 80% of `tar -xzf`'s speed;
#   - the layer store: a second build on the same base extracts nothing.
#
# Usage: bench/snapshot.sh [--files N] [--size-mib N]   (--files 5000 --size-mib 64 for a smoke run)
# Times are the best of several runs (these VMs only ever add time). Exit status 0 whatever the
# verdicts; non-zero means something broke.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

FILES=100000
SIZE_MIB=1024
while [ $# -gt 0 ]; do
  case "$1" in
    --files) FILES="$2"; shift 2 ;;
    --size-mib) SIZE_MIB="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/snapshot.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for n in "$FILES" "$SIZE_MIB"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "bench/snapshot.sh: $n is not a positive whole number" >&2; exit 2; }
done
for tool in find tar gzip getfattr unshare; do
  command -v "$tool" >/dev/null || { echo "bench/snapshot.sh: $tool is missing (apt-get install findutils tar gzip attr util-linux)" >&2; exit 1; }
done
[ -f dist/src/fs/index.js ] || npm run build >/dev/null
case "$(node --version)" in v2[4-9].*|v[3-9][0-9].*) ;; *) echo "bench/snapshot.sh: need node 24 (npm ci installs it in node_modules/.bin)" >&2; exit 1 ;; esac

WORK="$(mktemp -d "${TMPDIR:-/tmp}/caisson-bench-snapshot-XXXXXX")"
# The tree, its blob, two extracted copies and the store's.
need_mib=$(( SIZE_MIB * 5 + 512 ))
avail_mib=$(df -Pm "$WORK" | awk 'NR==2 {print $4}')
if [ "$avail_mib" -lt "$need_mib" ]; then
  rmdir "$WORK"
  echo "bench/snapshot.sh: needs ${need_mib} MiB free in ${TMPDIR:-/tmp}, has ${avail_mib} MiB" >&2
  exit 1
fi
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

echo "snapshot bench: ${FILES} files, ${SIZE_MIB} MiB, $(nproc) cores; node $(node --version), $(find --version | head -1), $(tar --version | head -1)"
node bench/snapshot.mjs "$WORK" "$FILES" "$SIZE_MIB"
