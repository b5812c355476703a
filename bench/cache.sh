#!/usr/bin/env bash
# The build cache's speed (issue 6), on workloads of ../shared/bench/dockerfiles, each built three
# times with `caisson build --cache`, pushing to the same destination in a local registry:
#   cold       an empty --cache-dir (the registry cache is filled by this build);
#   warm       the same build again on that cache dir: a no-change rebuild with a warm local cache.
#              Targets: at most 0.10x the cold build's wall time, and under 1.0 s;
#   floor      not caisson: bench/floor.mjs, a Node.js program that does only the I/O no rebuild can
#              skip (the base manifests, an lstat of every context entry COPY and ADD read, the
#              destination's manifest). No warm build can take less on this machine; its /cold is
#              the lowest ratio any Node.js builder could reach here;
#   fresh-pod  the same build from a new, empty --cache-dir with only the registry cache (same cache
#              repo, same destination, which already holds every layer). Target: no layer blob
#              downloaded; the bytes it transferred are printed.
#
# Usage: bench/cache.sh [--workloads 02,04,05] [--runs N] [--dockerfiles DIR] [--logs DIR] [--cache-flags FLAGS]
#   --workloads LIST     the workloads, by number or name (default 02,04,05: copy-5k-files, run-steps,
#                        multistage); a workload FROM the Debian base is skipped
#   --runs N             rounds (default 1); each time shown is the median of the rounds, RSS and bytes
#                        the highest
#   --dockerfiles DIR    the workloads (default ../shared/bench/dockerfiles)
#   --logs DIR           keep every build's output (ROUND-WORKLOAD-PHASE.log), the requests the registry
#                        answered during it (ROUND-WORKLOAD-PHASE.requests) and the registry's log
#   --cache-flags FLAGS  the cache flags of every build (default "--cache"; also $BENCH_CACHE_FLAGS);
#                        "" runs the three builds without the registry cache, to test the bench itself
#
# Every build is `caisson build -f DOCKERFILE -c CONTEXT --cache-dir DIR -d REGISTRY/bench/WORKLOAD:cold
# FLAGS`, so the cache repo is the default, REGISTRY/bench/WORKLOAD/cache. Each round starts one
# docker-registry (plain HTTP, 127.0.0.1, a free port), logging every request as a JSON line, and
# copies the busybox base into it (untimed). The bytes are counted from the registry's log, not
# from caisson: GET /v2/*/blobs/* responses (http.response.written) between two marker requests
# around the build. A blob that some manifest in the registry names as its config counts as a
# config; every other blob as a layer. Uploaded bytes are the stored sizes of the blobs whose upload
# completed. Wall time comes from bash's clock around GNU time, which gives CPU (user + system of
# caisson and its children) and peak RSS; the hypervisor's steal during each build and the time of
# `caisson --version` (what starting caisson costs) are shown next to them, as these VMs lose CPU in
# bursts. Runs as root (RUN needs uid 0).
# Every file stays in one temp dir (TMPDIR points there).
# Exit status 0 whatever the verdicts; non-zero means something broke (a failed build is reported
# with its log, and the run goes on). NODE_OPTIONS reaches caisson's node (e.g. --cpu-prof).
set -euo pipefail
# Numbers with a decimal point: bash's $EPOCHREALTIME follows the locale's, which awk then misreads.
export LC_ALL=C
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
source bench/lib.sh

NAME=bench/cache.sh
DOCKERFILES="$PWD/../shared/bench/dockerfiles"
SELECTED=02,04,05
RUNS=1
LOGS=""
CACHE_FLAGS_TEXT="${BENCH_CACHE_FLAGS---cache}"
RATIO_LIMIT=0.10
WARM_LIMIT_S=1.0
while [ $# -gt 0 ]; do
  case "$1" in
    --workloads) SELECTED="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --dockerfiles) DOCKERFILES="$2"; shift 2 ;;
    --logs) LOGS="$2"; shift 2 ;;
    --cache-flags) CACHE_FLAGS_TEXT="$2"; shift 2 ;;
    -h|--help) sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "$NAME: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
bench_positive "$NAME" "$RUNS"
read -r -a CACHE_FLAGS <<<"$CACHE_FLAGS_TEXT"
[ -d "$DOCKERFILES" ] || { echo "$NAME: no workloads in $DOCKERFILES (give --dockerfiles DIR)" >&2; exit 2; }
DOCKERFILES="$(cd "$DOCKERFILES" && pwd)"
if [ -n "$LOGS" ]; then mkdir -p "$LOGS" && LOGS="$(cd "$LOGS" && pwd)"; fi
[ "$(id -u)" -eq 0 ] || { echo "$NAME: run it as root (caisson's RUN steps need uid 0): sudo $0 $*" >&2; exit 1; }

bench_select_workloads "$NAME" "$DOCKERFILES" "$SELECTED"
KEEP=()
for wl in "${WORKLOADS[@]}"; do
  if grep -q '^FROM .*/base/debian' "$DOCKERFILES/$wl/Dockerfile"; then
    echo "$NAME: skipping $wl: it is FROM the Debian base, which this bench does not make (bench/peers.sh does)"
    continue
  fi
  KEEP+=("$wl")
done
[ ${#KEEP[@]} -gt 0 ] || { echo "$NAME: no workload left to run" >&2; exit 1; }
WORKLOADS=("${KEEP[@]}")

bench_apt "$NAME" docker-registry=docker-registry /bin/busybox=busybox-static /usr/bin/time=time curl=curl \
  openssl=openssl findmnt=util-linux getfattr=attr
bench_node "$NAME"

# The contexts, the base, one registry, two cache dirs of one workload.
bench_workdir "$NAME" 2048
bench_cleanup_on_exit "$NAME"

CAISSON=(node bin/caisson.js)
echo "cache bench: ${WORKLOADS[*]}; ${RUNS} round(s); cache flags: ${CACHE_FLAGS[*]:-(none)}; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); caisson $("${CAISSON[@]}" --version), $(git log -1 --format=%h 2>/dev/null || echo '?'), node $(node --version), $(docker-registry --version | awk '{print $2, $3}')"

# --- Untimed set-up: contexts, base ---------------------------------------------------------------

bench_contexts "$NAME" "$DOCKERFILES" "$WORK" "${WORKLOADS[@]}"
started=$(date +%s.%N)
bench_busybox_base "$NAME" "$WORK" "${CAISSON[@]}"
echo "built the busybox base in $(bench_since "$started") s (untimed)"

# What starting caisson costs on this machine now.
startup=()
for _ in 1 2 3 4 5; do
  start_time=$EPOCHREALTIME
  "${CAISSON[@]}" --version >/dev/null
  startup+=("$(awk -v a="$start_time" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.4f", b - a }')")
done
echo "caisson --version, 5 runs: $(printf '%s\n' "${startup[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "best %.3f s, median %.3f s, worst %.3f s", a[1], a[3], a[5] }')"

# --- Timed builds ---------------------------------------------------------------------------------

RESULTS="$WORK/results"
: >"$RESULTS"
FAILED=0
MARK=0

# mark: asks the registry for GET /v2/?bench-mark=N (a line in its log) and prints N.
mark() {
  MARK=$(( MARK + 1 ))
  curl -fsS -o /dev/null "http://$REGISTRY_HOST/v2/?bench-mark=$MARK" || { echo "$NAME: the registry on $REGISTRY_HOST does not answer" >&2; exit 1; }
}

# timed ROUND WORKLOAD PHASE COMMAND...: runs it under GNU time between two marks in the registry's
# log, appending "ROUND WORKLOAD PHASE ok SECONDS RSS_KIB CPU_SECONDS PUSH HITS TRAFFIC..." to
# $RESULTS and printing it; if it fails, appends a "failed" line, prints its log and returns 1.
timed() {
  local round="$1" wl="$2" phase="$3" status=0 start end start_time end_time
  shift 3
  mark; start=$MARK
  read -r -a stat_before < <(head -n 1 /proc/stat)
  start_time=$EPOCHREALTIME
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/time.out" "$@" >"$WORK/command.log" 2>&1 || status=$?
  end_time=$EPOCHREALTIME
  read -r -a stat_after < <(head -n 1 /proc/stat)
  sleep 0.2 # the registry logs a request just after answering it
  mark; end=$MARK
  [ -z "$LOGS" ] || cp "$WORK/command.log" "$LOGS/$round-$wl-$phase.log"
  if [ "$status" -ne 0 ]; then
    FAILED=1
    echo "$round $wl $phase failed 0 0 0 - - 0" >>"$RESULTS"
    {
      echo "$NAME: round $round, $wl $phase: the build failed (exit $status): $*"
      echo "---- its output (last 60 lines) ----"
      tail -n 60 "$WORK/command.log"
      echo "----"
    } >&2
    return 1
  fi
  local seconds rss user system cpu push hits steal traffic details=/dev/null
  [ -z "$LOGS" ] || details="$LOGS/$round-$wl-$phase.requests"
  read -r _ rss user system < <(tail -n 1 "$WORK/time.out")
  # GNU time's wall time has two decimals, too coarse for a 0.07 s build: bash's clock instead.
  seconds="$(awk -v a="$start_time" -v b="$end_time" 'BEGIN { printf "%.4f", b - a }')"
  cpu="$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.2f", u + s }')"
  # caisson's own account of its push: "wrote REF@DIGEST in X s (N blobs written, M mounted, K already there)".
  push="$(sed -n 's/^wrote .*(\([0-9]*\) blobs* written, \([0-9]*\) mounted, \([0-9]*\) already there).*/\1\/\2\/\3/p' "$WORK/command.log" | tail -n 1)"
  hits="$(cache_hits "$WORK/command.log")"
  steal="$(steal_percent)"
  traffic="$(node bench/cache.mjs traffic "$REGISTRY_DIR/registry.log" "$REGISTRY_DIR/storage" "$start" "$end" "$details")"
  echo "$round $wl $phase ok $seconds $rss $cpu ${push:--} ${hits:--} $steal $traffic" >>"$RESULTS"
  local t=($traffic)
  printf '  %-16s %-9s %7.3f s  %5d MiB  %6.2f s CPU  steal %3d%%  hits %-5s  GET layers %d (%d B), configs %d (%d B), manifests %d (%d B); uploaded %d (%d B), mounted %d; push %s\n' \
    "$wl" "$phase" "$seconds" "$(( (rss + 512) / 1024 ))" "$cpu" "$steal" "${hits:--}" "${t[0]}" "${t[1]}" "${t[2]}" "${t[3]}" "${t[4]}" "${t[5]}" "${t[6]}" "${t[7]}" "${t[8]}" "${push:--}"
}

# steal_percent: the share of the machine's CPU time its hypervisor took (steal, in /proc/stat)
# between stat_before and stat_after, in percent: these VMs lose CPU in bursts, which adds wall time
# (and CPU time, as the guest counts it) to whatever runs then.
steal_percent() {
  local i total=0
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + stat_after[i] - stat_before[i] )); done
  [ "$total" -gt 0 ] && echo $(( 100 * (stat_after[8] - stat_before[8]) / total )) || echo 0
}

# cache_hits LOG: "HITS/STEPS" from caisson's per-step lines ("[stage-0 2/6] RUN ...", then
# "[stage-0 2/6] cached (local): layer ..." on a hit), "record" for a build answered from its
# build record ("no change since the build of ..."), or nothing when no step says "cached".
cache_hits() {
  awk '/^no change since the build of / { record = 1 }
       /^\[[^]]+ [0-9]+\/[0-9]+\] / { id = substr($0, 1, index($0, "]")); steps[id] = 1
         if (substr($0, length(id) + 2, 6) == "cached") hits[id] = 1 }
       END { for (id in steps) n++; for (id in hits) h++; if (record) print "record"; else if (h) print h "/" n }' "$1"
}

for round in $(seq "$RUNS"); do
  REGISTRY_DIR="$WORK/registry-$round"
  bench_registry_logged "$NAME" "$REGISTRY_DIR"
  if ! "${CAISSON[@]}" copy "oci:$WORK/base-busybox:latest" "docker://$REGISTRY_HOST/base/busybox:latest" -v warn >"$WORK/copy.log" 2>&1; then
    echo "$NAME: could not copy the busybox base into the registry:" >&2
    cat "$WORK/copy.log" >&2
    exit 1
  fi
  echo "round $round (registry $REGISTRY_HOST; load $(cut -d' ' -f1-3 /proc/loadavg)):"
  for wl in "${WORKLOADS[@]}"; do
    ctx="$WORK/ctx-$wl"
    sed "s#127\.0\.0\.1:5000/#$REGISTRY_HOST/#g" "$ctx/Dockerfile" >"$WORK/Dockerfile.$wl"
    build=("${CAISSON[@]}" build -f "$WORK/Dockerfile.$wl" -c "$ctx" -d "$REGISTRY_HOST/bench/$wl:cold" "${CACHE_FLAGS[@]}")
    rm -rf "$WORK/cache" "$WORK/cache-fresh"
    if timed "$round" "$wl" cold "${build[@]}" --cache-dir "$WORK/cache"; then
      timed "$round" "$wl" warm "${build[@]}" --cache-dir "$WORK/cache" || true
      timed "$round" "$wl" floor node bench/floor.mjs "$WORK/Dockerfile.$wl" "$ctx" "$REGISTRY_HOST/bench/$wl:cold" || true
    else
      echo "$round $wl warm failed 0 0 0 - - 0" >>"$RESULTS"
    fi
    timed "$round" "$wl" fresh-pod "${build[@]}" --cache-dir "$WORK/cache-fresh" || true
    bench_unmount_under "$NAME" "$WORK/cache"
    bench_unmount_under "$NAME" "$WORK/cache-fresh"
    rm -rf --one-file-system "$WORK/cache" "$WORK/cache-fresh"
  done
  for pid in "${BENCH_REGISTRY_PIDS[@]}"; do bench_stop_registry "$pid"; done
  [ -z "$LOGS" ] || cp "$REGISTRY_DIR/registry.log" "$LOGS/$round-registry.log"
  rm -rf "$REGISTRY_DIR"
done

# --- Summary --------------------------------------------------------------------------------------

echo
node bench/cache.mjs summary "$RESULTS" "$RATIO_LIMIT" "$WARM_LIMIT_S" "${WORKLOADS[@]}"
echo "(wall s, CPU s: medians of the rounds, build + push; RSS: peak of caisson's largest process, highest"
echo " of the rounds; steal: the machine's CPU time its hypervisor took during the build, highest of the"
echo " rounds (it inflates wall and CPU time); /cold: wall time over the cold build's; hits: steps logged as"
echo " cache hits / steps, or record: answered from the build record; GETs, uploaded, mounted: count /"
echo " bytes the registry served, received,"
echo " cross-mounted during the build, highest of the rounds (a config is a blob some manifest names as its"
echo " config; every other blob GET counts as a layer); push w/m/t: caisson's own count of blobs written /"
echo " mounted / already there)"
[ "$FAILED" -eq 0 ] || { echo "$NAME: some builds failed (their output is above)" >&2; exit 1; }
