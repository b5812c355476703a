#!/usr/bin/env bash
# caisson next to its peer: each workload of ../shared/bench/dockerfiles built and pushed to a local
# registry by `caisson build` and by Debian's buildah (`bud --isolation chroot`, overlay storage,
# then `buildah push`), cold and warm, measured in the same run. Target: caisson's wall time at most
# 0.7x buildah's on every workload, cold and warm; caisson's peak RSS under 300 MiB on 03-copy-200mb.
#
# Usage: bench/peers.sh [--workloads 01,05,...] [--runs N] [--with-debian] [--dockerfiles DIR] [--logs DIR]
#   --workloads LIST   the workloads, by number or name (default: every one in DIR)
#   --runs N           rounds (default 1); each figure shown is the median of the rounds (RSS: highest)
#   --with-debian      install debootstrap if missing, for the Debian base of 06-debian-run (without
#                      it, 06 is skipped when debootstrap is missing)
#   --dockerfiles DIR  the workloads (default ../shared/bench/dockerfiles)
#   --logs DIR         keep every build's output there, as ROUND-WORKLOAD-PHASE-TOOL.log
#
# cold: caisson with an empty --cache-dir, buildah with a fresh --root (both pull the base); warm:
# the same build again on that cache dir / root. buildah runs with --layers both times, so its cold
# build fills its layer cache and its warm build reuses it; so does caisson's (its local build
# cache, in the cache dir). Each round starts one registry per tool (neither finds
# blobs the other pushed) holding the bases, copied in untimed; odd rounds run buildah first, even
# rounds caisson. Wall time, CPU (user + system of the tool and its children) and peak RSS (of its
# largest process) come from GNU time. Runs as root (caisson's RUN and buildah need it). Every file
# either tool writes stays in one temp dir: TMPDIR points there, and buildah runs in a private mount
# namespace whose /var/lib (blob-info cache) is a temp dir. Exit status 0 whatever the verdicts;
# non-zero means something broke (a failed build is reported with its log, and the run goes on).
# NODE_OPTIONS reaches caisson's node (e.g. --cpu-prof).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
source bench/lib.sh

NAME=bench/peers.sh
DOCKERFILES="$PWD/../shared/bench/dockerfiles"
SELECTED=""
RUNS=1
WITH_DEBIAN=0
LOGS=""
RATIO_LIMIT=0.70
RSS_LIMIT_MIB=300
RSS_WORKLOAD=03-copy-200mb
while [ $# -gt 0 ]; do
  case "$1" in
    --workloads) SELECTED="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --with-debian) WITH_DEBIAN=1; shift ;;
    --dockerfiles) DOCKERFILES="$2"; shift 2 ;;
    --logs) LOGS="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "$NAME: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
bench_positive "$NAME" "$RUNS"
[ -d "$DOCKERFILES" ] || { echo "$NAME: no workloads in $DOCKERFILES (give --dockerfiles DIR)" >&2; exit 2; }
DOCKERFILES="$(cd "$DOCKERFILES" && pwd)"
if [ -n "$LOGS" ]; then mkdir -p "$LOGS" && LOGS="$(cd "$LOGS" && pwd)"; fi
[ "$(id -u)" -eq 0 ] || { echo "$NAME: run it as root (caisson's RUN and buildah --isolation chroot need uid 0)" >&2; exit 1; }

bench_select_workloads "$NAME" "$DOCKERFILES" "$SELECTED"

bench_apt "$NAME" docker-registry=docker-registry /bin/busybox=busybox-static /usr/bin/time=time curl=curl \
  openssl=openssl findmnt=util-linux unshare=util-linux buildah=buildah
bench_node "$NAME"

# A workload FROM the Debian base needs debootstrap to make that base.
NEED_DEBIAN=0
KEEP=()
for wl in "${WORKLOADS[@]}"; do
  if grep -q '^FROM .*/base/debian' "$DOCKERFILES/$wl/Dockerfile"; then
    if ! command -v debootstrap >/dev/null && [ "$WITH_DEBIAN" -eq 0 ]; then
      echo "$NAME: skipping $wl: its Debian base needs debootstrap, which is missing (--with-debian installs it: apt-get install -y debootstrap)"
      continue
    fi
    NEED_DEBIAN=1
  fi
  KEEP+=("$wl")
done
[ "$NEED_DEBIAN" -eq 0 ] || bench_apt "$NAME" debootstrap=debootstrap
WORKLOADS=("${KEEP[@]}")
[ ${#WORKLOADS[@]} -gt 0 ] || { echo "$NAME: no workload left to run" >&2; exit 1; }

# The contexts, the bases, two registries, caisson's store and buildah's storage of one workload.
bench_workdir "$NAME" $(( 4096 + NEED_DEBIAN * 2048 ))
cleanup() {
  local pid
  for pid in "${BENCH_REGISTRY_PIDS[@]}"; do bench_stop_registry "$pid"; done
  bench_unmount_under "$NAME" "$WORK"
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Both tools' temporary files (buildah's pulled and pushed blobs, caisson's scratch) stay in $WORK.
mkdir -p "$WORK/tmp"
export TMPDIR="$WORK/tmp"

CAISSON=(node bin/caisson.js)
echo "peers bench: ${WORKLOADS[*]}; ${RUNS} round(s), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); caisson $(node bin/caisson.js --version), node $(node --version), $(buildah --version | awk '{print $1, $3}'), $(docker-registry --version | awk '{print $2, $3}')"

# --- Untimed set-up: contexts, bases --------------------------------------------------------------

# The contexts: a writable copy of each workload, generated by its gen-context.sh.
bench_contexts "$NAME" "$DOCKERFILES" "$WORK" "${WORKLOADS[@]}"

# build_base NAME CONTEXT: caisson builds CONTEXT (FROM scratch) into the OCI layout $WORK/base-NAME.
build_base() {
  if ! "${CAISSON[@]}" build "$2" --no-push --oci-layout-path "$WORK/base-$1" --cache-dir "$WORK/base-cache" -v warn >"$WORK/base-$1.log" 2>&1; then
    echo "$NAME: caisson could not build the $1 base:" >&2
    cat "$WORK/base-$1.log" >&2
    exit 1
  fi
}

# The busybox base, as test/support/busybox.ts makes it.
started=$(date +%s.%N)
bench_busybox_base "$NAME" "$WORK" "${CAISSON[@]}"
BASES=(busybox)
echo "built the busybox base in $(bench_since "$started") s (untimed)"

# The Debian base: debootstrap --variant=minbase bookworm from the mirror apt uses, with /dev, /proc
# and /sys left empty as in Debian's own images.
if [ "$NEED_DEBIAN" -eq 1 ]; then
  started=$(date +%s.%N)
  mirror="$(grep -hoE '^(URIs:|deb) +[a-z]+://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')"
  mirror="${mirror:-http://deb.debian.org/debian}"
  mkdir -p "$WORK/debian"
  if ! debootstrap --variant=minbase bookworm "$WORK/debian/rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
    echo "$NAME: debootstrap --variant=minbase bookworm from $mirror failed:" >&2
    tail -n 30 "$WORK/debootstrap.log" >&2
    exit 1
  fi
  bench_unmount_under "$NAME" "$WORK/debian/rootfs"
  for dir in dev proc sys; do find "$WORK/debian/rootfs/$dir" -mindepth 1 -delete 2>/dev/null || true; done
  printf 'FROM scratch\nCOPY rootfs/ /\nCMD ["bash"]\n' >"$WORK/debian/Dockerfile"
  build_base debian "$WORK/debian"
  BASES+=(debian)
  echo "built the Debian base ($(du -sm "$WORK/debian/rootfs" | cut -f1) MiB) from $mirror in $(bench_since "$started") s (untimed)"
fi
rm -rf "$WORK/busybox" "$WORK/debian" "$WORK/base-cache"

# --- Timed builds ---------------------------------------------------------------------------------

RESULTS="$WORK/results"
: >"$RESULTS"
FAILED=0

# timed ROUND WORKLOAD PHASE TOOL COMMAND...: runs it under GNU time, appending
# "ROUND WORKLOAD PHASE TOOL SECONDS RSS_KIB CPU_SECONDS ok" to $RESULTS; if it fails, appends a
# "failed" line, prints its log and returns 1.
timed() {
  local round="$1" wl="$2" phase="$3" tool="$4" status=0
  shift 4
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/time.out" "$@" >"$WORK/command.log" 2>&1 || status=$?
  [ -z "$LOGS" ] || cp "$WORK/command.log" "$LOGS/$round-$wl-$phase-$tool.log"
  if [ "$status" -ne 0 ]; then
    FAILED=1
    echo "$round $wl $phase $tool 0 0 0 failed" >>"$RESULTS"
    {
      echo "$NAME: round $round, $wl $phase: the $tool build failed (exit $status): $*"
      echo "---- its output (last 60 lines) ----"
      tail -n 60 "$WORK/command.log"
      echo "----"
    } >&2
    return 1
  fi
  local seconds rss user system cpu
  read -r seconds rss user system < <(tail -n 1 "$WORK/time.out")
  cpu="$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.2f", u + s }')"
  echo "$round $wl $phase $tool $seconds $rss $cpu ok" >>"$RESULTS"
  printf '  %-16s %-5s %-8s %8.2f s  %6d MiB  %7.2f s CPU\n' "$wl" "$phase" "$tool" "$seconds" "$(( (rss + 512) / 1024 ))" "$cpu"
}

# $WORK/buildah-build.sh ROOT DOCKERFILE REF CONTEXT: build and push with buildah, in a private mount namespace
# where /var/lib is ROOT/var-lib (buildah keeps its blob-info cache under /var/lib/containers).
cat >"$WORK/buildah-build.sh" <<'EOF'
set -euo pipefail
root="$1" dockerfile="$2" ref="$3" context="$4"
mkdir -p "$root/var-lib"
mount --bind "$root/var-lib" /var/lib
buildah=(buildah --root "$root/storage" --runroot "$root/run" --storage-driver overlay)
"${buildah[@]}" bud --isolation chroot --layers --tls-verify=false -f "$dockerfile" -t "$ref" "$context"
"${buildah[@]}" push --tls-verify=false "$ref" "docker://$ref"
EOF

for round in $(seq "$RUNS"); do
  declare -A host=()
  for tool in caisson buildah; do
    bench_registry "$NAME" "$WORK/registry-$round-$tool"
    host[$tool]="$REGISTRY_HOST"
    for base in "${BASES[@]}"; do
      if ! "${CAISSON[@]}" copy "oci:$WORK/base-$base:latest" "docker://$REGISTRY_HOST/base/$base:latest" -v warn >"$WORK/copy.log" 2>&1; then
        echo "$NAME: could not copy the $base base into the $tool registry:" >&2
        cat "$WORK/copy.log" >&2
        exit 1
      fi
    done
  done
  if [ $(( round % 2 )) -eq 1 ]; then order=(buildah caisson); else order=(caisson buildah); fi
  echo "round $round (${order[*]}; registries: caisson ${host[caisson]}, buildah ${host[buildah]}; load $(cut -d' ' -f1-3 /proc/loadavg)):"
  for wl in "${WORKLOADS[@]}"; do
    ctx="$WORK/ctx-$wl"
    for tool in caisson buildah; do
      sed "s#127\.0\.0\.1:5000/#${host[$tool]}/#g" "$ctx/Dockerfile" >"$WORK/Dockerfile.$wl.$tool"
      rm -rf "$WORK/cache-$tool"
    done
    declare -A broken=()
    for phase in cold warm; do
      for tool in "${order[@]}"; do
        [ -z "${broken[$tool]:-}" ] || { echo "$round $wl $phase $tool 0 0 0 failed" >>"$RESULTS"; continue; }
        ref="${host[$tool]}/bench/$wl:$tool"
        if [ "$tool" = caisson ]; then
          timed "$round" "$wl" "$phase" caisson "${CAISSON[@]}" build "$ctx" -f "$WORK/Dockerfile.$wl.caisson" -d "$ref" --cache-dir "$WORK/cache-caisson" || broken[$tool]=1
        else
          timed "$round" "$wl" "$phase" buildah unshare --mount --propagation private bash "$WORK/buildah-build.sh" "$WORK/cache-buildah" "$WORK/Dockerfile.$wl.buildah" "$ref" "$ctx" || broken[$tool]=1
        fi
      done
    done
    unset broken
    bench_unmount_under "$NAME" "$WORK/cache-buildah"
    rm -rf --one-file-system "$WORK/cache-caisson" "$WORK/cache-buildah"
  done
  for pid in "${BENCH_REGISTRY_PIDS[@]}"; do bench_stop_registry "$pid"; done
  rm -rf "$WORK/registry-$round-caisson" "$WORK/registry-$round-buildah"
  unset host
done

# --- Summary --------------------------------------------------------------------------------------

echo
awk -v limit="$RATIO_LIMIT" -v rsslimit="$RSS_LIMIT_MIB" -v rsswl="$RSS_WORKLOAD" -v order="${WORKLOADS[*]}" '
  function sortn(a, n,   i, j, v) { for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v } }
  function median(a, n) { sortn(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  # figure(KEY, FIELD): the median of FIELD over the rounds that succeeded, or -1 if any failed.
  function figure(key, field,   r, n, a) {
    n = 0
    for (r = 1; r <= rounds; r++) { if (status[key, r] != "ok") return -1; a[++n] = field == "s" ? s[key, r] : cpu[key, r] }
    return n ? median(a, n) : -1
  }
  { key = $2 SUBSEP $3 SUBSEP $4; s[key, $1] = $5; cpu[key, $1] = $7; status[key, $1] = $8
    if ($8 == "ok" && $6 > rss[key]) rss[key] = $6
    if ($1 > rounds) rounds = $1 }
  function show(v, w) { return v < 0 ? sprintf("%" w "s", "failed") : sprintf("%" w ".2f", v) }
  function mib(v, w) { return v + 0 <= 0 ? sprintf("%" w "s", "-") : sprintf("%" w - 4 ".0f MiB", v / 1024) }
  END {
    printf "%-16s %-5s %10s %10s %6s %14s %14s %12s %12s  %s\n", "workload", "phase", "caisson s", "buildah s", "ratio", "caisson CPU s", "buildah CPU s", "caisson RSS", "buildah RSS", "verdict (ratio <= " limit ")"
    split(order, wls, " ")
    for (i = 1; i in wls; i++) {
      wl = wls[i]
      for (p = 1; p <= 2; p++) {
        phase = p == 1 ? "cold" : "warm"
        c = figure(wl SUBSEP phase SUBSEP "caisson", "s"); b = figure(wl SUBSEP phase SUBSEP "buildah", "s")
        cc = figure(wl SUBSEP phase SUBSEP "caisson", "cpu"); bc = figure(wl SUBSEP phase SUBSEP "buildah", "cpu")
        if (c < 0) { ratio = "     -"; verdict = "FAIL (caisson failed)" }
        else if (b < 0) { ratio = "     -"; verdict = "- (buildah failed)" }
        else { r = b > 0 ? c / b : 999; ratio = sprintf("%6.2f", r); verdict = r <= limit + 1e-9 ? "PASS" : "FAIL" }
        printf "%-16s %-5s %s %s %s %s %s %s %s  %s\n", wl, phase, show(c, 10), show(b, 10), ratio, show(cc, 14), show(bc, 14), mib(rss[wl, phase, "caisson"], 12), mib(rss[wl, phase, "buildah"], 12), verdict
      }
      if (wl == rsswl) {
        peak = rss[wl, "cold", "caisson"] + 0; if (rss[wl, "warm", "caisson"] + 0 > peak) peak = rss[wl, "warm", "caisson"] + 0
        if (peak <= 0) printf "%-16s peak RSS of caisson: - (its builds failed)  FAIL\n", wl
        else printf "%-16s peak RSS of caisson: %.0f MiB (limit %d MiB)  %s\n", wl, peak / 1024, rsslimit, peak / 1024 < rsslimit ? "PASS" : "FAIL"
      }
    }
  }' "$RESULTS"
echo "(s: median wall time of the rounds, build + push; ratio: caisson / buildah; CPU s: median user + system time"
echo " of the tool and its children; RSS: peak of its largest process, highest of the rounds. buildah runs"
echo " bud --layers then push: cold fills its layer cache, warm reuses it; so does caisson's local build cache)"
[ "$FAILED" -eq 0 ] || { echo "$NAME: some builds failed (their output is above)" >&2; exit 1; }
