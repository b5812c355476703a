#!/bin/sh
# Assembles the root of caisson's image in $1 (the Dockerfile's `assemble` stage runs it; caisson's
# dist/, bin/, package.json and production node_modules/ are already in $1/caisson/app).
#
#   /caisson/lib        node's shared libraries and the tools', and the dynamic loader (also as
#                       ld.so): the ENTRYPOINT runs `ld.so --library-path /caisson/lib node …`,
#                       so caisson needs nothing from /lib or /usr and survives container mode
#                       replacing the root filesystem
#   /caisson/node/bin   the node binary of this stage
#   /caisson/tools/bin  what caisson runs for RUN: sh, util-linux (unshare, setpriv, mount,
#                       umount), attr (getfattr, setfattr), the few programs the sandbox's
#                       set-up script calls (env, cat, tr, hostname) and layer extraction's
#                       (mknod, cp); each dynamic one patched (patchelf) to load through
#                       /caisson/lib/ld.so with /caisson/lib, so it runs whatever / holds
#   /caisson/certs      ca-certificates.crt: the stage's Debian bundle, else node's own roots
#   /bin/sh, /lib*/…    links into /caisson, so the tools also start the ordinary way
#   /etc/passwd, group  root and nonroot (65532), the default user (the Dockerfile's WORKDIR
#                       makes its /home/nonroot and /workspace)
#
# POSIX sh only (dash, busybox): the stage needs node, sh, cp, ln, mkdir, awk, patchelf and the tools.
set -eu

out=${1:?usage: assemble.sh OUTDIR}
caisson=$out/caisson
mkdir -p "$caisson/lib" "$caisson/node/bin" "$caisson/tools/bin" "$caisson/certs" \
  "$out/bin" "$out/etc" "$out/tmp" "$out/home"

# find_program NAME: NAME's file on PATH (not `command -v`: busybox answers its applets by name).
find_program() {
  IFS=:
  for dir in $PATH; do
    if [ -n "$dir" ] && [ -f "$dir/$1" ] && [ -x "$dir/$1" ]; then unset IFS; printf '%s\n' "$dir/$1"; return 0; fi
  done
  unset IFS
  echo "assemble.sh: $1 is not on PATH ($2)" >&2
  return 1
}

node=$(find_program node 'a Node.js base image')

# The dynamic loader node was linked against (ldd itself is a bash script some bases lack).
loader=
for candidate in /lib64/ld-linux-*.so.* /lib/ld-linux-*.so.* /lib64/ld64.so.* /lib/ld64.so.*; do
  if [ -x "$candidate" ] && "$candidate" --list "$node" >/dev/null 2>&1; then loader=$candidate; break; fi
done
[ -n "$loader" ] || { echo "assemble.sh: no glibc dynamic loader runs $node" >&2; exit 1; }

# copy_libraries FILE: FILE's shared libraries into /caisson/lib, each also linked from the path
# it was found at. Nothing for a static executable.
copy_libraries() {
  libraries=$("$loader" --list "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }') || return 0
  for library in $libraries; do
    name=${library##*/}
    [ -e "$caisson/lib/$name" ] || cp -L "$library" "$caisson/lib/$name"
    if [ ! -e "$out$library" ] && [ ! -L "$out$library" ]; then
      mkdir -p "$out${library%/*}"
      ln -s "/caisson/lib/$name" "$out$library"
    fi
  done
}

cp -L "$node" "$caisson/node/bin/node"
copy_libraries "$node"
ln -s "${loader##*/}" "$caisson/lib/ld.so"

# Tools: one copy per real file (busybox applets share theirs).
copied=
patchelf=$(find_program patchelf 'Debian: patchelf')
for tool in sh unshare setpriv mount umount getfattr setfattr env cat tr hostname mknod cp; do
  path=$(find_program "$tool" 'Debian: util-linux, attr, coreutils, hostname')
  real=$(readlink -f "$path")
  first=
  for entry in $copied; do
    if [ "${entry#*=}" = "$real" ]; then first=${entry%%=*}; break; fi
  done
  if [ -n "$first" ]; then
    ln -s "$first" "$caisson/tools/bin/$tool"
  else
    cp "$real" "$caisson/tools/bin/$tool"
    chmod 0755 "$caisson/tools/bin/$tool"  # no setuid mount: caisson mounts in its own namespaces
    copy_libraries "$real"
    # A dynamic tool loads through /caisson's loader and libraries, not the root's: container mode
    # replaces /lib with the base image's (musl, another glibc, or none at all).
    if "$loader" --list "$real" >/dev/null 2>&1; then
      "$patchelf" --set-interpreter /caisson/lib/ld.so --force-rpath --set-rpath /caisson/lib "$caisson/tools/bin/$tool"
    fi
    copied="$copied $tool=$real"
  fi
done
ln -s /caisson/tools/bin/sh "$out/bin/sh"

if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$caisson/certs/ca-certificates.crt"
else
  "$node" -e 'process.stdout.write(require("node:tls").rootCertificates.join("\n") + "\n")' > "$caisson/certs/ca-certificates.crt"
fi

printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nonroot:x:65532:65532:nonroot:/home/nonroot:/bin/sh' > "$out/etc/passwd"
printf '%s\n' 'root:x:0:' 'nonroot:x:65532:' > "$out/etc/group"
chmod 1777 "$out/tmp"
chmod -R a+rX,go-w "$caisson"
