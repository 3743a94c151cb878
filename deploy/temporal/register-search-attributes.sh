#!/usr/bin/env bash
# One-shot setup run by the `temporal-admin-tools` compose service (temporalio/admin-tools image).
# Waits for the Temporal frontend and the app's namespace, then registers the custom search attributes
# the app writes (Keyword, and CreatedAt a Datetime). Idempotent: re-running it against an already set-up cluster succeeds.
set -euo pipefail

TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${NAMESPACE_RETENTION:-720h}"
MAX_ATTEMPTS="${MAX_ATTEMPTS:-90}"
SLEEP_SECONDS="${SLEEP_SECONDS:-2}"
# name:type, as src/domain/search-attributes.ts defines them.
ATTRIBUTES=(CustomerId:Keyword Environment:Keyword DocumentType:Keyword DeliveryStatus:Keyword EventType:Keyword CreatedAt:Datetime EndpointId:Keyword EndpointStatus:Keyword)

t() { temporal "$@" --address "$TEMPORAL_ADDRESS"; }

retry() {
  local what="$1"; shift
  local attempt=1
  until "$@"; do
    if ((attempt >= MAX_ATTEMPTS)); then
      echo "gave up: ${what} (after ${MAX_ATTEMPTS} attempts)" >&2
      return 1
    fi
    echo "waiting: ${what} (${attempt}/${MAX_ATTEMPTS})"
    attempt=$((attempt + 1))
    sleep "$SLEEP_SECONDS"
  done
}

echo "Temporal at ${TEMPORAL_ADDRESS}, namespace ${NAMESPACE}"
retry "Temporal frontend" t operator cluster health

# auto-setup creates the namespace (DEFAULT_NAMESPACE); create it here too if it is still missing.
ensure_namespace() {
  t operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1 && return 0
  t operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" >/dev/null 2>&1 || true
  return 1
}
retry "namespace ${NAMESPACE}" ensure_namespace
# The retention is the idempotency window (a document id again starts nothing this long after it closed): a
# namespace made before with another retention is brought to it.
retry "retention ${RETENTION}" t operator namespace update --namespace "$NAMESPACE" --retention "$RETENTION"


all_registered() {
  local listing
  listing="$(t operator search-attribute list --namespace "$NAMESPACE" 2>/dev/null)" || return 1
  for attribute in "${ATTRIBUTES[@]}"; do
    grep -Eq "(^|[[:space:]])${attribute%%:*}([[:space:]]|$)" <<<"$listing" || return 1
  done
}

register() {
  all_registered && return 0
  # One at a time: a cluster set up before an attribute existed has the others, and a create naming one that exists
  # is refused whole.
  for attribute in "${ATTRIBUTES[@]}"; do
    t operator search-attribute create --namespace "$NAMESPACE" --name "${attribute%%:*}" --type "${attribute##*:}" \
      >/dev/null 2>&1 || true
  done
  all_registered
}
retry "search attributes ${ATTRIBUTES[*]}" register

t operator search-attribute list --namespace "$NAMESPACE"
echo "Search attributes registered: ${ATTRIBUTES[*]} in namespace ${NAMESPACE}"
