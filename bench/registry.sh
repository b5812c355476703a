#!/usr/bin/env bash
# Registry transfer speed: `caisson copy` pushing a 1 GiB image of 8 layers from an OCI layout to a
# local registry and pulling it back into a new layout, next to `skopeo copy` of the same image
# measured in the same run. Target (issue 3): caisson's time at most skopeo's (ratio <= 1.0), and
# caisson's peak RSS under 150 MiB.
#
# Usage: bench/registry.sh [--size-mib N] [--layers N] [--rounds N]
#   --size-mib N  image size (default 1024); --size-mib 64 for a quick smoke run
#   --layers N    layers it is split into (default 8)
#   --rounds N    interleaved rounds (default 3); each round starts two fresh registries (one per
#                 tool, so neither finds blobs the other pushed), pushes with both tools, then pulls
#                 with both; odd rounds run skopeo first, even rounds caisson first
#
# The image (uncompressed tar layers of random bytes) is generated once per run, untimed, by
# bench/registry-image.mjs. Wall time and peak RSS come from GNU time. These VMs lose CPU to
# their host in bursts, which only ever adds time: the verdict compares best against best, and
# the median of the per-round ratios is shown next to it. Exit status is 0 whatever the verdict;
# non-zero means something broke. NODE_OPTIONS reaches caisson's node (e.g. --cpu-prof).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
source bench/lib.sh

SIZE_MIB=1024
LAYERS=8
ROUNDS=3
RSS_LIMIT_MIB=150
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) SIZE_MIB="$2"; shift 2 ;;
    --layers) LAYERS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/registry.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
bench_positive bench/registry.sh "$SIZE_MIB" "$LAYERS" "$ROUNDS"
bench_tools bench/registry.sh "apt-get install skopeo docker-registry curl time" skopeo docker-registry curl /usr/bin/time
bench_node bench/registry.sh
# Peak disk use: the source layout, two registries and two pulled layouts.
bench_workdir bench/registry.sh $(( SIZE_MIB * 5 + 256 ))

bench_cleanup_on_exit bench/registry.sh

# start_registry NAME: a plain-HTTP docker-registry in $WORK/registry-NAME; sets REGISTRY_HOST and REGISTRY_PID.
start_registry() { bench_registry bench/registry.sh "$WORK/registry-$1"; }

# stop_registry PID NAME: stops it and removes its storage.
stop_registry() {
  bench_stop_registry "$1"
  rm -rf "$WORK/registry-$2"
}

RESULTS="$WORK/results"
: >"$RESULTS"
# timed ROUND OP TOOL COMMAND...: runs it under GNU time; appends "ROUND OP TOOL SECONDS RSS_KIB CPU_SECONDS"
# (CPU: user + system time of the tool's own process, not the registry's).
timed() {
  local round="$1" op="$2" tool="$3"
  shift 3
  if ! /usr/bin/time -f '%e %M %U %S' -o "$WORK/time.out" "$@" >"$WORK/command.log" 2>&1; then
    echo "bench/registry.sh: round $round, $op with $tool failed: $*" >&2
    cat "$WORK/command.log" >&2
    exit 1
  fi
  local seconds rss user system cpu
  read -r seconds rss user system < <(tail -n 1 "$WORK/time.out")
  cpu="$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.2f", u + s }')"
  echo "$round $op $tool $seconds $rss $cpu" >>"$RESULTS"
  printf '  %-4s %-7s %8.2f s  %6d MiB  %7.2f s CPU\n' "$op" "$tool" "$seconds" "$(( rss / 1024 ))" "$cpu"
}

# blob_set DIR: the sorted blob names of an OCI layout (digests), to compare pulled copies with the source.
blob_set() { ls "$1/blobs/sha256" | sort; }

echo "registry bench: ${SIZE_MIB} MiB image of ${LAYERS} layers, ${ROUNDS} rounds, $(nproc) cores; skopeo $(skopeo --version | awk '{print $3}'), node $(node --version), $(docker-registry --version | awk '{print $2, $3}')"
SOURCE="$WORK/source"
started=$(date +%s.%N)
DIGEST="$(node bench/registry-image.mjs "$SOURCE" v1 "$SIZE_MIB" "$LAYERS")"
awk -v a="$started" -v b="$(date +%s.%N)" -v d="$DIGEST" 'BEGIN { printf "generated %s in %.1f s (untimed)\n", d, b - a }'
SOURCE_BLOBS="$(blob_set "$SOURCE")"

CAISSON=(node bin/caisson.js copy)
# --preserve-digests: without it skopeo gzips the uncompressed layers on push (docker:// wants
# compressed layers) and again on pull into oci:, which is different work from caisson's copy.
SKOPEO=(skopeo --insecure-policy copy --quiet --preserve-digests)
for round in $(seq "$ROUNDS"); do
  start_registry skopeo; skopeo_host="$REGISTRY_HOST"; skopeo_pid="$REGISTRY_PID"
  start_registry caisson; caisson_host="$REGISTRY_HOST"; caisson_pid="$REGISTRY_PID"
  if [ $(( round % 2 )) -eq 1 ]; then order=(skopeo caisson); else order=(caisson skopeo); fi
  echo "round $round (${order[*]}):"
  for tool in "${order[@]}"; do
    if [ "$tool" = skopeo ]; then
      timed "$round" push skopeo "${SKOPEO[@]}" --dest-tls-verify=false "oci:$SOURCE:v1" "docker://$skopeo_host/bench/skopeo:v1"
    else
      timed "$round" push caisson "${CAISSON[@]}" "oci:$SOURCE:v1" "docker://$caisson_host/bench/caisson:v1"
    fi
  done
  for tool in "${order[@]}"; do
    rm -rf "$WORK/pull-$tool"
    if [ "$tool" = skopeo ]; then
      timed "$round" pull skopeo "${SKOPEO[@]}" --src-tls-verify=false "docker://$skopeo_host/bench/skopeo:v1" "oci:$WORK/pull-skopeo:v1"
    else
      timed "$round" pull caisson "${CAISSON[@]}" "docker://$caisson_host/bench/caisson:v1" "oci:$WORK/pull-caisson:v1"
    fi
  done
  # Both copies must hold exactly the source's blobs (same digests: nothing was recompressed or rewritten).
  for tool in "${order[@]}"; do
    if [ "$(blob_set "$WORK/pull-$tool")" != "$SOURCE_BLOBS" ]; then
      echo "bench/registry.sh: round $round: the image $tool pulled does not hold the source's blobs:" >&2
      diff <(echo "$SOURCE_BLOBS") <(blob_set "$WORK/pull-$tool") >&2 || true
      exit 1
    fi
    rm -rf "$WORK/pull-$tool"
  done
  stop_registry "$skopeo_pid" skopeo
  stop_registry "$caisson_pid" caisson
done

echo
awk -v limit="$RSS_LIMIT_MIB" '
  { t[$2, $3, $1] = $4; cpu[$2, $3, $1] = $6; if ($3 == "caisson" && $5 > rss[$2]) rss[$2] = $5; if ($3 == "skopeo" && $5 > srss[$2]) srss[$2] = $5; rounds[$1] = 1 }
  function sortn(a, n,   i, j, v) { for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v } }
  function median(a, n) { sortn(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  END {
    printf "%-5s %9s %10s %6s %13s %12s %11s %14s  %s\n", "op", "skopeo s", "caisson s", "ratio", "median ratio", "caisson RSS", "skopeo RSS", "CPU s sk/cai", "verdict (ratio <= 1.0, RSS < " limit " MiB)"
    split("push pull", ops, " ")
    for (k = 1; k <= 2; k++) {
      op = ops[k]; n = 0; sbest = cbest = scpu = ccpu = -1
      for (r in rounds) {
        s = t[op, "skopeo", r]; c = t[op, "caisson", r]
        if (sbest < 0 || s < sbest) sbest = s
        if (cbest < 0 || c < cbest) cbest = c
        if (scpu < 0 || cpu[op, "skopeo", r] < scpu) scpu = cpu[op, "skopeo", r]
        if (ccpu < 0 || cpu[op, "caisson", r] < ccpu) ccpu = cpu[op, "caisson", r]
        ratios[++n] = (s > 0 ? c / s : 999)
      }
      ratio = sbest > 0 ? cbest / sbest : 999
      mib = rss[op] / 1024
      verdict = (ratio <= 1.0 && mib < limit) ? "PASS" : "FAIL"
      printf "%-5s %9.2f %10.2f %6.2f %13.2f %8.0f MiB %7.0f MiB %6.2f/%-7.2f  %s\n", op, sbest, cbest, ratio, median(ratios, n), mib, srss[op] / 1024, scpu, ccpu, verdict
    }
  }' "$RESULTS"
echo "(s: best wall time of the rounds; ratio: caisson best / skopeo best; median ratio: of the per-round ratios;"
echo " RSS: highest of the rounds; CPU s: least user+system time of the tool's process, skopeo/caisson)"
