#!/usr/bin/env bash
# Podman and debootstrap for the image test (test/deploy/image.test.ts builds the image with scripts/build-image.sh and
# runs the API and the worker from it). Idempotent: does nothing when both are there and podman is configured.
#
# Podman is Debian's (bookworm: 4.3), run as root without systemd. Its configuration is written only when
# /etc/containers/containers.conf does not exist yet (a machine's own is left alone): no raised ulimits (containers
# in a sandbox that refuses setrlimit above the hard limit fail to start otherwise), cgroupfs instead of systemd's
# cgroup manager, logs and events to files instead of journald, runc, netavark.
set -euo pipefail
# shellcheck source=lib/debian-packages.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian-packages.sh"

CONF=/etc/containers/containers.conf

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman runc catatonit netavark aardvark-dns iptables)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)

if [ ${#missing[@]} -gt 0 ]; then
  debian_install install-podman --no-recommends "${missing[@]}"
fi

if [ ! -e "$CONF" ] && [ "$(id -u)" -eq 0 ]; then
  mkdir -p "$(dirname "$CONF")"
  cat >"$CONF" <<'CONF'
[containers]
# podman/buildah would otherwise raise RLIMIT_NOFILE/NPROC to 1048576, which a sandbox may refuse
default_ulimits = []
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
[network]
network_backend = "netavark"
CONF
  echo "install-podman: wrote $CONF" >&2
fi

podman info --format '{{.Host.OCIRuntime.Name}} {{.Store.GraphDriverName}} {{.Host.CgroupManager}}' >/dev/null
