#!/usr/bin/env bash
# Snapshot and extraction speed (issue 4), every peer measured in the same run on the same tree:
#   - a rootfs of --files files / --size-mib MiB (default 100,000 / 1024), a step that changes 10;
#   - walk path: caisson's scan within 2x of `find -printf` over the tree;
#   - overlay path (as root): the snapshot under 1% of a full walk and under 50 ms;
#   - extraction of the tree as one gzip layer at least 80% of `tar -xzf`'s speed (in a tmpfs when
#     /dev/shm has room: this VM's ext4 file creation cost swings too much; disk figures shown too);
#   - the layer store: a second build on the same base extracts nothing.
#
# Usage: bench/snapshot.sh [--files N] [--size-mib N]   (--files 5000 --size-mib 64 for a smoke run)
# Times are the best of several runs (these VMs only ever add time). Exit status 0 whatever the
# verdicts; non-zero means something broke.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
source bench/lib.sh

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
bench_positive bench/snapshot.sh "$FILES" "$SIZE_MIB"
bench_tools bench/snapshot.sh "apt-get install findutils tar gzip attr util-linux" find tar gzip getfattr unshare
bench_node bench/snapshot.sh
# The tree, its blob, two extracted copies and the store's.
bench_workdir bench/snapshot.sh $(( SIZE_MIB * 5 + 512 ))
# The extraction race's tmpfs directory (see snapshot.mjs), removed with the work dir.
SHM_DIR="/dev/shm/$(basename "$WORK")"
trap 'rm -rf "$WORK" "$SHM_DIR"' EXIT
trap 'exit 130' INT TERM

echo "snapshot bench: ${FILES} files, ${SIZE_MIB} MiB, $(nproc) cores; node $(node --version), $(find --version | head -1), $(tar --version | head -1)"
node bench/snapshot.mjs "$WORK" "$FILES" "$SIZE_MIB" "$SHM_DIR"
