import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { MAX_WORKFLOW_ID_LENGTH } from '../../src/domain/ids';
import { cliTypeOf, SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import { ensureRetention } from '../../src/lib/namespace-setup';
import { toolPath } from './tools';

export const ROOT = path.resolve(__dirname, '../..');

export interface Child {
  name: string;
  process: ChildProcess;
  /** SIGTERM, then SIGKILL if it has not exited in time. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ChildOutput {
  /** 'inherit' prefixes each line with the child's name on our stdout; a path appends to that log file. */
  output: 'inherit' | string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await probe();
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${String(lastError)}`);
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      socket.destroy();
      reject(err);
    });
    socket.connect(port, host);
  });
}

export interface ChildOptions extends ChildOutput {
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (PostgreSQL refuses to run as root). */
  user?: { uid: number; gid: number };
}

export function startChild(name: string, command: string, args: string[], { output, env, user }: ChildOptions): Child {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...user,
  });
  if (output === 'inherit') {
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (buffered + chunk.toString()).split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) process.stdout.write(`[${name}] ${line}\n`);
      });
    }
  } else {
    const log = createWriteStream(output, { flags: 'a' });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    process: child,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface TemporalOptions extends ChildOutput {
  port: number;
  uiPort?: number;
  /** Where the server serves its Prometheus metrics (the bench counts requests per document there). */
  metricsPort?: number;
  dbFile: string;
  namespace?: string;
  /** Where the Web UI asks to decode encrypted payloads: the API's codec endpoint. */
  codecEndpoint?: string;
  /** The namespace's retention: the idempotency window (IDEMPOTENCY_WINDOW). */
  retentionMs: number;
}

/**
 * The dev server's dynamic config, as deploy/temporal/dynamicconfig/development-sql.yaml sets it for docker-compose
 * and the cluster stack: the id budget the API checks against (the dev server's default is 1,000, which would let an
 * id past a production cluster's limit pass here), and task-queue fairness (Temporal 1.29: pre-release, off by
 * default): a backlog is dispatched in turn by fairness key (customer environment), so one customer's burst queues
 * beside another's, not in front of it (docs/architecture.md, "A failing endpoint costs other customers nothing"); and
 * visibility's rate (the yaml says why).
 */
export const DEV_SERVER_DYNAMIC_CONFIG = [
  `limit.maxIDLength=${MAX_WORKFLOW_ID_LENGTH}`,
  'matching.useNewMatcher=true',
  'matching.enableFairness=true',
  // Visibility's rate for the message log and stats (the default, 10 a second, is shared by every customer; 300 and
  // its burst of 600 answer 30 readers at once, deploy/temporal/dynamicconfig/development-sql.yaml says why).
  'frontend.namespaceRPS.visibility=300',
  'frontend.namespaceBurstRatio.visibility=2',
];

/** The Temporal CLI dev server: a real server on a SQLite file, with the Web UI unless no uiPort is given. */
export async function startTemporal({
  port,
  uiPort,
  metricsPort,
  dbFile,
  namespace = 'default',
  codecEndpoint,
  retentionMs,
  output,
}: TemporalOptions) {
  mkdirSync(path.dirname(dbFile), { recursive: true });
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--db-filename', dbFile];
  args.push('--log-level', 'warn', '--namespace', namespace);
  args.push(...(uiPort ? ['--ui-port', String(uiPort)] : ['--headless']));
  if (uiPort && codecEndpoint) args.push('--ui-codec-endpoint', codecEndpoint);
  if (metricsPort) args.push('--metrics-port', String(metricsPort));
  // WAL with synchronous=NORMAL: a commit is one append to the log instead of a rewrite and two fsyncs. It survives
  // the server being killed (the log is replayed on start, test/e2e/outages.test.ts kills it); a power loss can lose
  // the last commits before the next checkpoint.
  for (const pragma of ['journal_mode=wal', 'synchronous=normal']) args.push('--sqlite-pragma', pragma);
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${cliTypeOf(key)}`);
  // The CLI turns the search-attribute cache off so attributes made at run time show at once; ours are all made at
  // start. With the cache off every start and upsert reads the cluster metadata from SQLite: 12 reads per document.
  args.push('--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=false');
  for (const value of DEV_SERVER_DYNAMIC_CONFIG) args.push('--dynamic-config-value', value);
  const child = startChild('temporal', toolPath('temporal'), args, { output });
  await waitFor('the Temporal server', async () => {
    if (child.process.exitCode !== null) throw new Error('temporal exited');
    const connection = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 1_000 });
    try {
      await ensureRetention(connection, namespace, retentionMs);
    } finally {
      await connection.close();
    }
  });
  return child;
}

export interface S3Options extends ChildOutput {
  port: number;
  dataDir: string;
  accessKey: string;
  secretKey: string;
}

/** versitygw on a POSIX directory: a real S3 API, path-style, on loopback. */
export async function startS3({ port, dataDir, accessKey, secretKey, output }: S3Options) {
  mkdirSync(dataDir, { recursive: true });
  const args = ['--port', `127.0.0.1:${port}`, '--quiet', 'posix', dataDir];
  const child = startChild('s3', toolPath('versitygw'), args, {
    output,
    env: { ROOT_ACCESS_KEY_ID: accessKey, ROOT_SECRET_ACCESS_KEY: secretKey },
  });
  await waitFor('the S3 server', () => portOpen(port));
  return child;
}

/** Runs one of our TypeScript entry points (worker, API) as its own Node process. */
export function startNodeScript(
  name: string,
  script: string,
  { output, env }: ChildOutput & { env: NodeJS.ProcessEnv },
) {
  // An absolute script (another checkout's) runs as it is; a relative one is this checkout's.
  return startChild(name, process.execPath, ['--import', 'tsx', path.resolve(ROOT, script)], { output, env });
}
