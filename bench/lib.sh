# Sourced by the bench scripts (never run): the checks and set-up they share. Each function takes
# the script's name first, for its messages.

# bench_positive NAME VALUE...: every VALUE is a positive whole number, or exit 2.
bench_positive() {
  local name="$1" n
  shift
  for n in "$@"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "$name: $n is not a positive whole number" >&2; exit 2; }
  done
}

# bench_tools NAME "HOW TO INSTALL" TOOL...: every TOOL is on PATH, or exit 1 saying how to install.
bench_tools() {
  local name="$1" install="$2" tool
  shift 2
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$name: $tool is missing ($install)" >&2; exit 1; }
  done
}

# bench_node NAME: caisson is compiled and node is the pinned Node 24, or exit 1.
bench_node() {
  [ -f dist/src/cli/index.js ] || npm run build >/dev/null
  case "$(node --version)" in v2[4-9].*|v[3-9][0-9].*) ;; *) echo "$1: need node 24 (npm ci installs it in node_modules/.bin)" >&2; exit 1 ;; esac
}

# bench_workdir NAME NEED_MIB: a fresh temp directory in WORK with NEED_MIB free, or exit 1.
bench_workdir() {
  local name="$1" need="$2" avail
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/caisson-${name#bench/}-XXXXXX")"
  avail="$(df -Pm "$WORK" | awk 'NR==2 {print $4}')"
  if [ "$avail" -lt "$need" ]; then
    rmdir "$WORK"
    echo "$name: needs ${need} MiB free in ${TMPDIR:-/tmp}, has ${avail} MiB" >&2
    exit 1
  fi
}
