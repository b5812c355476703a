# syntax=docker/dockerfile:1
# caisson's own image: node and caisson self-contained under /caisson (node's shared libraries
# and its dynamic loader included), so that container mode can replace the whole root filesystem
# without breaking caisson. Non-root by default; see "caisson's image" in README.md.
#
#   caisson build . -d REGISTRY/caisson:TAG        (or: docker buildx build -t REGISTRY/caisson:TAG .)
#
# Offline, with a prebuilt checkout (npm ci && npm run build done beforehand): named contexts
# stand in for the stages that need the network, as BuildKit's --build-context does:
#   --build-context build=DIR                 DIR/src holds package.json, bin/, dist/src/, dist/bundle/ and the
#                                             production node_modules/ (npm prune --omit=dev)
#   --build-context runtime=docker-image://REF  an image with node, sh, util-linux, attr and patchelf

# A Debian-based image with Node.js 24 and npm (glibc: its ld.so is what starts node).
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim

# build: compile and bundle caisson, then keep only the production dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the `node` devDependency would download a second Node binary; tsc needs none.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY bin bin
COPY scripts scripts
COPY src src
RUN npx tsc -p tsconfig.json && node scripts/bundle.mjs && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# runtime: where node, the programs caisson runs for RUN (util-linux unshare, setpriv, mount;
# attr getfattr, setfattr), patchelf (for assemble.sh) and the CA bundle are taken from.
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends attr ca-certificates patchelf util-linux \
 && rm -rf /var/lib/apt/lists/*

# assemble: the final root in /out — /caisson/{lib,node,app,tools,certs}, /bin/sh, /etc/passwd, /tmp.
FROM runtime AS assemble
COPY --from=build /src/package.json /out/caisson/app/package.json
COPY --from=build /src/bin /out/caisson/app/bin
COPY --from=build /src/dist/src /out/caisson/app/dist/src
COPY --from=build /src/dist/bundle /out/caisson/app/dist/bundle
COPY --from=build /src/node_modules /out/caisson/app/node_modules
COPY image/assemble.sh /usr/local/lib/caisson-assemble.sh
RUN sh /usr/local/lib/caisson-assemble.sh /out

FROM scratch
COPY --from=assemble /out/ /
# CAISSON_IMAGE (this image's REF@sha256:…, recorded in provenance as the builder) cannot be baked
# into the image it names: the Tekton Task and release pipelines set it where caisson runs.
ENV PATH=/caisson/tools/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/home/nonroot \
    CAISSON_CACHE_DIR=/cache \
    SSL_CERT_FILE=/caisson/certs/ca-certificates.crt \
    NODE_EXTRA_CA_CERTS=/caisson/certs/ca-certificates.crt
USER 65532:65532
# WORKDIR makes what it creates the USER's (as BuildKit): nonroot's HOME, /cache (kaniko's
# --cache-dir, where its users mount a volume) and /workspace.
WORKDIR /home/nonroot
WORKDIR /cache
WORKDIR /workspace
# node is started by its own loader with its own libraries: nothing is read from /lib or /usr.
ENTRYPOINT ["/caisson/lib/ld.so", "--library-path", "/caisson/lib", "/caisson/node/bin/node", "/caisson/app/bin/caisson.js"]
CMD ["--help"]
