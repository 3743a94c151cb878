#!/usr/bin/env bash
# docker-compose.yml on a machine with podman and no Docker engine or registry (this one: docs/operations.md,
# "Compose"):
#
#   scripts/compose.sh up -d --wait     builds every image here (scripts/build-stack-images.sh), then compose up
#   scripts/compose.sh ps | logs | down -v | ...      any other Compose command
#
# The compose implementation is Docker's own (Compose v2, scripts/install-tools.sh docker-compose), talking to
# podman's Docker-compatible API, which this script serves on a private socket for the time of the command. Podman
# runs healthchecks from systemd timers; where there is no systemd (containers, CI sandboxes) nothing would ever run
# them and `condition: service_healthy` would wait for ever, so this script runs the starting or unhealthy ones of
# compose's containers (`podman healthcheck run`) every 2 s while the command runs.
# The images' variables (APP_IMAGE, POSTGRES_IMAGE, ...) come from the build; ones already set are kept.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=${TOOLS_DIR:-$root/.tools}
mkdir -p "$tools"
log() { echo "compose.sh: $*" >&2; }

bash "$root/scripts/install-podman.sh" >&2
compose=$(bash "$root/scripts/install-tools.sh" docker-compose | awk '{ print $2 }')

# The images: built for the commands that start containers, else those of the last build.
images=$tools/stack-images.env
case ${1:-} in
  up | create | run | start | restart) bash "$root/scripts/build-stack-images.sh" >"$images.tmp" && mv "$images.tmp" "$images" ;;
esac
if [ -f "$images" ]; then
  while IFS='=' read -r name value; do
    [ -n "${!name:-}" ] || export "$name=$value"
  done <"$images"
fi

work=$(mktemp -d)
socket=$work/podman.sock
podman system service --time=0 "unix://$socket" >"$work/service.log" 2>&1 &
service=$!
(
  while sleep 2; do
    for id in $(podman ps -q --filter label=com.docker.compose.project --filter health=starting) \
      $(podman ps -q --filter label=com.docker.compose.project --filter health=unhealthy); do
      podman healthcheck run "$id" >/dev/null 2>&1 || true
    done
  done
) &
pump=$!
cleanup() {
  kill "$pump" "$service" 2>/dev/null || true
  wait "$service" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  [ -S "$socket" ] && break
  kill -0 "$service" 2>/dev/null || { cat "$work/service.log" >&2; log "podman system service did not start"; exit 1; }
  sleep 0.1
done

DOCKER_HOST=unix://$socket "$compose" -f "$root/docker-compose.yml" "$@"
