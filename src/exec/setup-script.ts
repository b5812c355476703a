/**
 * The sandbox's set-up script, run by the host's /bin/sh as the first process of the new pid
 * namespace (util-linux `unshare ... -- /bin/sh -c SCRIPT caisson-sandbox CHAIN...`).
 *
 * Inputs, never interpolated into the script text:
 *   - environment: CAISSON_ROOT (the mountpoint), CAISSON_DIR (the sandbox's directory, which
 *     relative overlay directories are named from), CAISSON_ROOTFS (`overlay` | `directory`),
 *     CAISSON_SOURCE (the overlay mount data, `volatile` added when the kernel has it, or the
 *     directory to bind), CAISSON_PREFIX (how many
 *     words of CHAIN come before the command's argv), PATH (the host's, for mount & co),
 *     CAISSON_SECRET_ENV (empty, or a directory of files, each named by a variable the command
 *     gets with the file's content as value);
 *   - positional parameters: CHAIN, the final command line: `env -i -- ENV... setpriv ... --
 *     unshare --root=ROOT --wd=CWD ... -- ARGV...`, every word built by caisson;
 *   - fd 0: operations from caisson, one word per line (see `SetupOp`); each is acknowledged.
 * Outputs, on fd 3 only (fd 1 and 2 belong to the command):
 *   `ready <host pid>` once the root is mounted; `ok` per operation; `error <what>: <detail>` and
 *   exit 125 when a step fails; `run` right before the command is exec'd (it then becomes pid 1
 *   with stdin /dev/null and without fd 3). Anything else that ends the script ends the sandbox.
 *
 * Before `run`, the exact user switch, chroot and chdir are probed by exec'ing "/" through the
 * same CHAIN: that must fail with `failed to execute /` (126), so a failure of the sandbox's own
 * tools is reported as a set-up error and never mistaken for the command's exit status.
 */

/** One operation on fd 0. Every word is a line, so no word may contain a newline. */
export type SetupOp =
  | { readonly op: 'mount'; readonly type: string; readonly source: string; readonly target: string; readonly options: string }
  | { readonly op: 'bind'; readonly source: string; readonly target: string; readonly readOnly: boolean }
  | { readonly op: 'sys'; readonly target: string }
  | { readonly op: 'hostname'; readonly name: string }
  | { readonly op: 'loopback' }
  | { readonly op: 'run' }
  | { readonly op: 'stop' };

/** The lines of an operation for the script's fd 0. */
export function encodeOp(op: SetupOp): string {
  const words = ((): string[] => {
    switch (op.op) {
      case 'mount':
        return [op.op, op.type, op.source, op.target, op.options];
      case 'bind':
        return [op.op, op.source, op.target, op.readOnly ? 'ro' : 'rw'];
      case 'sys':
        return [op.op, op.target];
      case 'hostname':
        return [op.op, op.name];
      case 'loopback':
      case 'run':
      case 'stop':
        return [op.op];
    }
  })();
  for (const word of words) {
    if (word.includes('\n')) throw new Error(`sandbox operation word contains a newline: ${JSON.stringify(word)}`);
  }
  return `${words.join('\n')}\n`;
}

/** Exit status of the script when a set-up step failed (after an `error` line). */
export const SETUP_FAILED = 125;

/**
 * The end of `run` when the command gets secret variables (CAISSON_SECRET_ENV is not empty): they
 * reach it without being on any command line. This shell exports them from their files, and
 * env(1), the chain's first word, drops each of the shell's other variables (-u) where it would
 * have started from nothing (-i). Plain strings: the shell's `${…}` cannot sit in the template.
 */
const SECRET_ENV_EXEC = [
  '      if [ -n "$CAISSON_SECRET_ENV" ]; then',
  '        envtool=$1; shift 3',
  '        drop=',
  '        while IFS= read -r line; do',
  '          case $line in *=*) name=${line%%=*}; [ -e "$CAISSON_SECRET_ENV/$name" ] || drop="$drop $name" ;; esac',
  '        done <<CAISSON_VARIABLES',
  '$("$envtool")',
  'CAISSON_VARIABLES',
  '        for file in "$CAISSON_SECRET_ENV"/*; do',
  '          value=$(cat "$file"; printf x)',
  '          export "${file##*/}=${value%x}"',
  '        done',
  '        set -- -- "$@"',
  '        for name in $drop; do set -- -u "$name" "$@"; done',
  '        exec "$envtool" "$@" 0</dev/null 3>&-',
  '      fi',
].join('\n');

export const SETUP_SCRIPT = String.raw`
set -u
say() { printf '%s\n' "$*" >&3; }
# attempt WHAT COMMAND...: runs COMMAND; when it fails, reports WHAT and its output, and exits.
attempt() {
  what=$1; shift
  if ! out=$("$@" 2>&1); then
    say "error $what: $(printf '%s' "$out" | tr '\n' ' ')"
    exit ${SETUP_FAILED}
  fi
}
word() { IFS= read -r "$1" || exit ${SETUP_FAILED}; }

# The host pid of this shell (the namespace's init): /proc is still the host's here.
read -r self rest < /proc/self/stat
case $CAISSON_ROOTFS in
  overlay)
    # The overlay's directories are named relative to the sandbox's directory (short links).
    cd "$CAISSON_DIR" || { say "error enter $CAISSON_DIR"; exit ${SETUP_FAILED}; }
    # volatile: no sync of the upper filesystem (the whole host disk) when the namespace ends;
    # kernels before 5.10 lack it.
    if ! mount -t overlay overlay -o "$CAISSON_SOURCE,volatile" "$CAISSON_ROOT" 2>/dev/null; then
      attempt 'mount the overlay rootfs' mount -t overlay overlay -o "$CAISSON_SOURCE" "$CAISSON_ROOT"
    fi ;;
  *) attempt 'bind the rootfs directory' mount --rbind "$CAISSON_SOURCE" "$CAISSON_ROOT" ;;
esac
say "ready $self"

while word op; do
  case $op in
    mount)
      word type; word source; word target; word options
      if [ -n "$options" ]; then
        attempt "mount $type on $target" mount -t "$type" -o "$options" "$source" "$target"
      else
        attempt "mount $type on $target" mount -t "$type" "$source" "$target"
      fi ;;
    bind)
      word source; word target; word mode
      if [ "$mode" = ro ]; then
        attempt "bind $source on $target" mount --rbind -o ro "$source" "$target"
      else
        attempt "bind $source on $target" mount --rbind "$source" "$target"
      fi ;;
    sys)
      # sysfs read-only; in a user namespace without its own network namespace sysfs cannot be
      # mounted: a read-only bind of the host's /sys instead, or nothing.
      word target
      mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$target" 2>/dev/null ||
        mount --rbind -o ro /sys "$target" 2>/dev/null || true ;;
    hostname)
      word name
      if ! hostname "$name" 2>/dev/null; then
        attempt "set the hostname" sh -c 'printf %s "$1" > /proc/sys/kernel/hostname' sh "$name"
      fi ;;
    loopback)
      if command -v ip >/dev/null 2>&1; then ip link set lo up 2>/dev/null || true; fi ;;
    run)
      i=1; words=
      while [ "$i" -le "$CAISSON_PREFIX" ]; do words="$words \"\${$i}\""; i=$((i + 1)); done
      # Only positional references are spliced into the eval'd text, never their values.
      eval "out=\$($words / 2>&1 </dev/null)" && status=0 || status=$?
      case $status:$out in
        126:*'failed to execute /'*) ;;
        *) say "error switch to the user and root: $(printf '%s' "$out" | tr '\n' ' ') (exit $status)"; exit ${SETUP_FAILED} ;;
      esac
      say run
${SECRET_ENV_EXEC}
      exec "$@" 0</dev/null 3>&- ;;
    stop) exit 0 ;;
    *) say "error unknown operation: $op"; exit ${SETUP_FAILED} ;;
  esac
  say ok
done
exit ${SETUP_FAILED}
`;
