#!/usr/bin/env bash
# Builds the service's image with podman, from a Node 20 base made on this machine (no registry image is pulled):
#
#   scripts/build-image.sh            -> localhost/webhook-delivery:<inputs hash> (also tagged :local)
#
# 1. Base `localhost/webhook-delivery-node:20`: present -> kept; else imported from the cached root filesystem
#    ${TOOLS_DIR:-.tools}/images/webhook-delivery-node-20.tar; else made: debootstrap Debian 13 (trixie, minbase)
#    with Debian's nodejs 20.19 and ca-certificates, npm from the npm registry's tarball, a `node` user (uid/gid
#    1000, as in the official node images: the Dockerfile's `USER node` needs it). Needs root and debootstrap.
# 2. The project: `podman build --build-arg NODE_IMAGE=<base>` of the unchanged Dockerfile (whose default base is the
#    public node:20-bookworm-slim). The tag is a hash of the build's inputs (Dockerfile, package files, tsconfigs,
#    src/, the base's id): if that image exists the build is skipped ("up to date"), else podman's layer cache and
#    the npm cache mount keep a rebuild to the layers whose inputs changed.
#
# Outbound TLS may be intercepted by a proxy whose CA only the host trusts: the host's CA bundle is bind-mounted
# read-only into the build's RUN steps (never copied into an image), and the local base sets NODE_EXTRA_CA_CERTS
# to that path, which in the image is Debian's own bundle.
#
# Stdout: `image=<ref>` and `size=<bytes>` (for scripts and the test); progress goes to stderr.
# Env: TOOLS_DIR, IMAGE_TAG (an extra tag, default `local`), NPM_VERSION (npm in the base, default 10.8.2),
#      BUILD_NETWORK (network of the RUN steps, default host), HOST_CA_BUNDLE (default
#      /etc/ssl/certs/ca-certificates.crt; empty: no bind mount).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "${TOOLS_DIR:-$root/.tools}/images"
images=$(cd "${TOOLS_DIR:-$root/.tools}/images" && pwd)

base=localhost/webhook-delivery-node:20
base_tar=$images/webhook-delivery-node-20.tar
app=localhost/webhook-delivery
npm_version=${NPM_VERSION:-10.8.2}
ca_bundle=${HOST_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}
log() { echo "build-image.sh: $*" >&2; }

# One run at a time (test files may run in parallel): a second run waits, then finds the image made.
exec 9>"$images/.build.lock"
flock -n 9 || { log "waiting for another run..."; flock 9; }

# --- 1. the base ---
import_base() {
  # The import sets what a Dockerfile would: PATH (npm in /usr/local/bin), the CA bundle for Node, the default CMD.
  podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["node"]' \
    "$base_tar" "$base" >/dev/null
}

# Node's and npm's versions in a base just made or imported (two container starts: not on every run).
base_versions() { log "base: $(podman run --rm "$base" node --version), npm $(podman run --rm "$base" npm --version)"; }

if podman image exists "$base"; then
  log "base $base present"
elif [ -f "$base_tar" ]; then
  log "base: importing $base_tar"
  import_base
  base_versions
else
  command -v debootstrap >/dev/null || { log "debootstrap is needed to make the base (apt-get install debootstrap)"; exit 1; }
  t0=$(date +%s)
  work=$(mktemp -d "$images/base.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  rootfs=$work/rootfs
  log "base: debootstrap trixie into $rootfs (log: $work/debootstrap.log)"
  # nodejs from trixie is 20.19 (bookworm has 18); ca-certificates for outbound TLS of the service.
  debootstrap --variant=minbase --include=nodejs,ca-certificates --components=main \
    trixie "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # npm from the npm registry (Debian's npm package drags in ~400 packages): the npm of Node 20.19.
  (cd "$work" && npm pack "npm@$npm_version" --silent >/dev/null)
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm" "$rootfs/usr/local/bin"
  tar -xzf "$work/npm-$npm_version.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # Slim: no apt lists or caches, docs, man pages, locales.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  # Cache the root filesystem (written aside, then renamed: never half-written), then import it.
  tar -C "$rootfs" --numeric-owner -cf "$work/base.tar" .
  mv "$work/base.tar" "$base_tar"
  import_base
  log "base made in $(($(date +%s) - t0)) s"
  base_versions
fi

# --- 2. the project ---
cd "$root"
# The tag names the inputs: the files the Dockerfile copies (see .dockerignore) and the base image.
inputs_hash=$(
  {
    podman image inspect --format '{{.Id}}' "$base"
    find Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json src -type f |
      LC_ALL=C sort | xargs sha256sum
  } | sha256sum | cut -c1-12
)
image=$app:$inputs_hash
if podman image exists "$image"; then
  log "$image is up to date"
else
  t0=$(date +%s)
  build_args=(--build-arg "NODE_IMAGE=$base" --network "${BUILD_NETWORK:-host}" -t "$image")
  [ -z "$ca_bundle" ] || build_args+=(-v "$ca_bundle:/etc/ssl/certs/ca-certificates.crt:ro")
  podman build "${build_args[@]}" . >&2
  log "built $image in $(($(date +%s) - t0)) s"
fi
podman tag "$image" "$app:${IMAGE_TAG:-local}"
size=$(podman image inspect --format '{{.Size}}' "$image")
log "$image: $((size / 1000000)) MB"
echo "image=$image"
echo "size=$size"
