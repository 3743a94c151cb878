#!/usr/bin/env bash
# Builds, with podman, every image docker-compose.yml runs, on a machine that cannot pull from a registry: the
# service's image (scripts/build-image.sh) and an image per role of the stack, FROM the same locally made Debian 13
# base, with the servers scripts/install-tools.sh obtained (deploy/images/<role>/Containerfile says what each holds):
#
#   postgres   Debian's PostgreSQL 17, the official image's contract        (for postgres:16)
#   temporal   temporal-server, temporal-sql-tool, schema, the CLI          (for temporalio/auto-setup and admin-tools)
#   s3         versitygw                                                    (for versity/versitygw)
#   mail       mailpit                                                      (for axllent/mailpit)
#
# Stdout: one `NAME=image` line per variable docker-compose.yml reads (APP_IMAGE, POSTGRES_IMAGE, TEMPORAL_IMAGE,
# TEMPORAL_ADMINTOOLS_IMAGE, S3_IMAGE, MAIL_IMAGE): an env file for compose (scripts/compose.sh uses it).
# Podman's layer cache keeps a second run to seconds. Env: TOOLS_DIR, BUILD_NETWORK (default host).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=$(cd "${TOOLS_DIR:-$root/.tools}" 2>/dev/null && pwd) || tools=$root/.tools
log() { echo "build-stack-images.sh: $*" >&2; }

bash "$root/scripts/install-tools.sh" temporal temporal-server temporal-sql-tool versitygw mailpit >&2
app=$(bash "$root/scripts/build-image.sh" | sed -n 's/^image=//p')
base=localhost/webhook-delivery-node:20
schema=$(ls -d "$tools"/temporal-schema/*/postgresql | sort -V | tail -n 1)

work=$(mktemp -d "$tools/.stack-images.XXXXXX")
trap 'rm -rf "$work"' EXIT

# build ROLE FILE... : a context of deploy/images/ROLE plus FILEs (hard links where possible: binaries are large).
build() {
  local role=$1 context=$work/$1 file
  shift
  cp -R "$root/deploy/images/$role" "$context"
  for file in "$@"; do
    ln "$file" "$context/$(basename "$file")" 2>/dev/null || cp -R "$file" "$context/"
  done
  local t0 image=localhost/webhook-delivery-$role:local
  t0=$(date +%s)
  podman build -q --network "${BUILD_NETWORK:-host}" --build-arg "BASE_IMAGE=$base" -t "$image" "$context" >/dev/null
  log "$image ($(($(podman image inspect --format '{{.Size}}' "$image") / 1000000)) MB) in $(($(date +%s) - t0)) s"
  echo "$image"
}

postgres=$(build postgres)
temporal=$(build temporal "$tools/bin/temporal" "$tools/bin/temporal-server" "$tools/bin/temporal-sql-tool" "$schema")
s3=$(build s3 "$tools/bin/versitygw")
mail=$(build mail "$tools/bin/mailpit")

echo "APP_IMAGE=$app"
echo "POSTGRES_IMAGE=$postgres"
echo "TEMPORAL_IMAGE=$temporal"
echo "TEMPORAL_ADMINTOOLS_IMAGE=$temporal"
echo "S3_IMAGE=$s3"
echo "MAIL_IMAGE=$mail"
