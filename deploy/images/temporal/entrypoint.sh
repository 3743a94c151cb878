#!/usr/bin/env bash
# The Temporal server of the compose stack, for an image built here (scripts/build-stack-images.sh) in place of
# temporalio/auto-setup. It keeps the contract docker-compose.yml relies on: the same variables (DB, DB_PORT,
# POSTGRES_SEEDS, POSTGRES_USER, POSTGRES_PWD, DEFAULT_NAMESPACE, DEFAULT_NAMESPACE_RETENTION,
# DYNAMIC_CONFIG_FILE_PATH relative to /etc/temporal, PROMETHEUS_ENDPOINT), the same ports (frontend 7233), the
# databases `temporal` and `temporal_visibility` created and brought to the server's schema on every start (a newer
# server migrates them), and the default namespace created once the frontend answers.
set -euo pipefail

DB=${DB:-postgres12}
DB_PORT=${DB_PORT:-5432}
: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS to the PostgreSQL host}"
POSTGRES_USER=${POSTGRES_USER:-temporal}
# temporal-sql-tool reads the password from SQL_PASSWORD (kept off its command line).
export SQL_PASSWORD=${POSTGRES_PWD:-}
DBNAME=${DBNAME:-temporal}
VISIBILITY_DBNAME=${VISIBILITY_DBNAME:-temporal_visibility}
NUM_HISTORY_SHARDS=${NUM_HISTORY_SHARDS:-4}
DEFAULT_NAMESPACE=${DEFAULT_NAMESPACE:-default}
DEFAULT_NAMESPACE_RETENTION=${DEFAULT_NAMESPACE_RETENTION:-24h}
DYNAMIC_CONFIG_FILE_PATH=${DYNAMIC_CONFIG_FILE_PATH:-config/dynamicconfig/development-sql.yaml}
SCHEMA=/etc/temporal/schema/postgresql/v12
log() { echo "temporal-entrypoint: $*" >&2; }

log "waiting for PostgreSQL at $POSTGRES_SEEDS:$DB_PORT"
for _ in $(seq 1 120); do
  (exec 3<>"/dev/tcp/$POSTGRES_SEEDS/$DB_PORT") 2>/dev/null && break
  sleep 1
done

sql() {
  temporal-sql-tool --plugin "$DB" --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --db "$1" "${@:2}"
}
for pair in "$DBNAME:temporal" "$VISIBILITY_DBNAME:visibility"; do
  database=${pair%%:*} dir=${pair##*:}
  # create-database and setup-schema fail harmlessly when the database and its version table exist.
  sql "$database" create-database >/dev/null 2>&1 || true
  sql "$database" setup-schema -v 0.0 >/dev/null 2>&1 || true
  sql "$database" update-schema -d "$SCHEMA/$dir/versioned"
done

# Every service of the server in this one process; the membership ring is announced on the container's address.
address=$(getent hosts "$HOSTNAME" | awk '{ print $1; exit }')
store() {
  cat <<STORE
    $1:
      sql:
        pluginName: $DB
        databaseName: $2
        connectAddr: "$POSTGRES_SEEDS:$DB_PORT"
        connectProtocol: tcp
        user: "$POSTGRES_USER"
        password: "$SQL_PASSWORD"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
STORE
}
service() {
  cat <<SERVICE
  $1:
    rpc:
      grpcPort: $2
      membershipPort: $3
      bindOnIP: 0.0.0.0
SERVICE
}
mkdir -p /etc/temporal/config
{
  cat <<CONFIG
log:
  stdout: true
  level: ${LOG_LEVEL:-warn}
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: $NUM_HISTORY_SHARDS
  datastores:
$(store default "$DBNAME")
$(store visibility "$VISIBILITY_DBNAME")
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "$address"
CONFIG
  if [ -n "${PROMETHEUS_ENDPOINT:-}" ]; then
    cat <<CONFIG
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "$PROMETHEUS_ENDPOINT"
CONFIG
  fi
  echo "services:"
  service frontend 7233 6933
  echo "      httpPort: 7243"
  service history 7234 6934
  service matching 7235 6935
  service worker 7239 6939
  cat <<CONFIG
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:7233
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: /etc/temporal/$DYNAMIC_CONFIG_FILE_PATH
  pollInterval: 10s
CONFIG
} >/etc/temporal/config/docker.yaml

# The default namespace, once the frontend answers (in the background: the server runs in the foreground).
(
  for _ in $(seq 1 180); do
    if temporal operator namespace describe --address 127.0.0.1:7233 -n "$DEFAULT_NAMESPACE" >/dev/null 2>&1 ||
      temporal operator namespace create --address 127.0.0.1:7233 -n "$DEFAULT_NAMESPACE" \
        --retention "$DEFAULT_NAMESPACE_RETENTION" >/dev/null 2>&1; then
      log "namespace $DEFAULT_NAMESPACE ready"
      exit 0
    fi
    sleep 1
  done
  log "namespace $DEFAULT_NAMESPACE could not be created"
) &

exec temporal-server --root /etc/temporal --config config --env docker --allow-no-auth start
