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
  level: ${BENCH_REGISTRY_LOG_LEVEL:-warn}
  formatter: ${BENCH_REGISTRY_LOG_FORMAT:-text}
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

# bench_registry_logged NAME DIR: as bench_registry, but the registry logs every request it
# answers, as one JSON line in DIR/registry.log ("msg":"response completed", http.request.method,
# http.request.uri, http.response.status, http.response.written: the response's bytes).
bench_registry_logged() {
  BENCH_REGISTRY_LOG_LEVEL=info BENCH_REGISTRY_LOG_FORMAT=json bench_registry "$@"
}

# bench_cleanup_on_exit NAME: when the script exits, stops the registries bench_registry started
# (by PID), unmounts what is left under WORK and removes WORK; SIGINT/SIGTERM exit 130. Every
# temporary file the tools write goes under WORK/tmp (TMPDIR).
bench_cleanup_on_exit() {
  BENCH_CLEANUP_NAME="$1"
  trap _bench_cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$WORK/tmp"
  export TMPDIR="$WORK/tmp"
}

_bench_cleanup() {
  local pid
  for pid in "${BENCH_REGISTRY_PIDS[@]}"; do bench_stop_registry "$pid"; done
  bench_unmount_under "$BENCH_CLEANUP_NAME" "$WORK"
  rm -rf --one-file-system "$WORK"
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

# bench_since START: seconds since START (a `date +%s.%N`), one decimal.
bench_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# bench_select_workloads NAME DOCKERFILES LIST: sets WORKLOADS to the workloads of DOCKERFILES (its
# NN-name/ directories holding a Dockerfile) that LIST names, comma-separated, by number or name
# (every one when LIST is empty), or exit 2.
bench_select_workloads() {
  local name="$1" dockerfiles="$2" list="$3" want wl match all=() wanted=()
  mapfile -t all < <(cd "$dockerfiles" && for d in [0-9][0-9]-*/; do [ -f "$d/Dockerfile" ] && echo "${d%/}"; done)
  WORKLOADS=()
  if [ -z "$list" ]; then WORKLOADS=("${all[@]}"); return 0; fi
  IFS=, read -r -a wanted <<<"$list"
  for want in "${wanted[@]}"; do
    match=""
    for wl in "${all[@]}"; do [[ "$wl" == "$want" || "$wl" == "$want"-* ]] && match="$wl"; done
    [ -n "$match" ] || { echo "$name: no workload $want in $dockerfiles (there are: ${all[*]})" >&2; exit 2; }
    WORKLOADS+=("$match")
  done
}

# bench_contexts NAME DOCKERFILES DIR WORKLOAD...: a writable copy of each workload in DIR/ctx-WORKLOAD,
# its context generated by its gen-context.sh (untimed, saying how long it took).
bench_contexts() {
  local name="$1" dockerfiles="$2" dir="$3" wl started
  shift 3
  for wl in "$@"; do
    cp -r "$dockerfiles/$wl" "$dir/ctx-$wl"
    chmod -R u+w "$dir/ctx-$wl"
    if [ -f "$dir/ctx-$wl/gen-context.sh" ]; then
      started=$(date +%s.%N)
      sh "$dir/ctx-$wl/gen-context.sh" "$dir/ctx-$wl" || { echo "$name: the gen-context.sh of $wl failed" >&2; exit 1; }
      echo "generated the context of $wl in $(bench_since "$started") s (untimed)"
    fi
  done
}

# bench_busybox_base NAME DIR CAISSON...: the busybox base, as test/support/busybox.ts (and peers.sh)
# make it: Debian's /bin/busybox (busybox-static) and its applet links, /etc/passwd and /etc/group
# (root, app 1000, nobody), /tmp, built FROM scratch by the caisson command CAISSON... into the OCI
# layout DIR/base-busybox (tag latest), or exit 1 with its log.
bench_busybox_base() {
  local name="$1" dir="$2" root applet
  shift 2
  root="$dir/busybox/rootfs"
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root"
  cp /bin/busybox "$root/bin/busybox"
  chmod 755 "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nstaff:x:50:app\napp:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'FROM scratch\nCOPY rootfs/ /\nCMD ["sh"]\n' >"$dir/busybox/Dockerfile"
  if ! "$@" build "$dir/busybox" --no-push --oci-layout-path "$dir/base-busybox" --cache-dir "$dir/base-cache" -v warn >"$dir/base-busybox.log" 2>&1; then
    echo "$name: caisson could not build the busybox base:" >&2
    cat "$dir/base-busybox.log" >&2
    exit 1
  fi
  rm -rf "$dir/busybox" "$dir/base-cache"
}

