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

# bench_apt NAME COMMAND=PACKAGE...: every COMMAND (on PATH, or an absolute path) is there. The
# missing ones' Debian packages are installed with apt-get when root, saying so first (as npm test
# does); otherwise exit 1 printing the apt-get command. Exit 1 if they are still missing after.
bench_apt() {
  local name="$1" pair command missing=() still=()
  shift
  _bench_missing() {
    local pair command
    for pair in "$@"; do
      command="${pair%%=*}"
      if [[ "$command" == /* ]]; then [ -x "$command" ] && continue; else command -v "$command" >/dev/null && continue; fi
      echo "${pair#*=}"
    done | sort -u
  }
  mapfile -t missing < <(_bench_missing "$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  local install=(install -y --no-install-recommends "${missing[@]}")
  if [ "$(id -u)" -ne 0 ]; then
    echo "$name: needs the Debian packages ${missing[*]}; install them with: sudo apt-get ${install[*]}" >&2
    exit 1
  fi
  echo "$name: installing the Debian packages it needs: apt-get ${install[*]}" >&2
  # Another run may hold dpkg's lock: wait for it. A failure is most often stale package lists:
  # update them once and retry.
  if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q "${install[@]}" >&2; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q update >&2 \
      && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q "${install[@]}" >&2 \
      || { echo "$name: apt-get could not install ${missing[*]}" >&2; exit 1; }
  fi
  mapfile -t still < <(_bench_missing "$@")
  [ ${#still[@]} -eq 0 ] || { echo "$name: still missing after apt-get install: ${still[*]}" >&2; exit 1; }
}

# bench_free_port: prints a TCP port free on 127.0.0.1 now.
bench_free_port() {
  node -e "const s = require('node:net').createServer(); s.listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });"
}

# bench_registry NAME DIR: starts Debian's docker-registry (plain HTTP, on 127.0.0.1 and a free port)
# storing in DIR; sets REGISTRY_HOST and REGISTRY_PID and appends the PID to BENCH_REGISTRY_PIDS
# (for the caller's EXIT trap: bench_stop_registry each), or exit 1 with its log.
BENCH_REGISTRY_PIDS=()
bench_registry() {
  local name="$1" dir="$2" attempt port var unset_vars=()
  mkdir -p "$dir"
  # REGISTRY_* variables override the config file; none of ours may leak in.
  for var in $(compgen -e); do [[ "$var" == REGISTRY_* ]] && unset_vars+=(-u "$var"); done
  for attempt in 1 2 3; do
    port="$(bench_free_port)"
    REGISTRY_HOST="127.0.0.1:$port"
    cat >"$dir/config.yml" <<CONFIG
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $REGISTRY_HOST
  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
health:
  storagedriver:
    enabled: false
CONFIG
    env "${unset_vars[@]}" docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
    REGISTRY_PID=$!
    BENCH_REGISTRY_PIDS+=("$REGISTRY_PID")
    for _ in $(seq 200); do
      kill -0 "$REGISTRY_PID" 2>/dev/null || break
      if curl -fsS -o /dev/null "http://$REGISTRY_HOST/v2/" 2>/dev/null; then return 0; fi
      sleep 0.1
    done
    bench_stop_registry "$REGISTRY_PID"
    grep -q 'address already in use' "$dir/registry.log" && [ "$attempt" -lt 3 ] && continue
    echo "$name: docker-registry on $REGISTRY_HOST did not start; its output:" >&2
    cat "$dir/registry.log" >&2
    exit 1
  done
}

# bench_stop_registry PID: stops a registry bench_registry started (by its PID) and waits for it.
bench_stop_registry() {
  if kill -0 "$1" 2>/dev/null; then kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi
}

# bench_unmount_under NAME DIR: unmounts whatever is still mounted under DIR (deepest first), e.g.
# what a killed build left, so that removing DIR never reaches into another filesystem.
bench_unmount_under() {
  local mnt
  findmnt -rn -o TARGET | awk -v dir="$2/" 'index($0 "/", dir) == 1' | sort -r | while read -r mnt; do
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || echo "$1: could not unmount $mnt" >&2
  done
}
