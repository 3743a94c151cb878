import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { setUpNamespace } from '../../src/lib/namespace-setup';
import { portOpen, startChild, waitFor, type Child, type ChildOutput } from './stack';
import { postgresProgram, temporalSchemaDir, toolPath } from './tools';

// The production topology without Docker: PostgreSQL (Debian's package), the Temporal server built from the Go
// module proxy with its schema set up by temporal-sql-tool, as docker-compose.yml describes it.

const run = promisify(execFile);

/** The Temporal server's ports: gRPC and membership per service, the frontend's HTTP API and Prometheus metrics. */
export interface ClusterPorts {
  postgres: number;
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  membership: [number, number, number, number];
  metrics: number;
}

/** The fixed ports of `npm run start:cluster`: the frontend where the dev server is, Postgres beside a system one. */
export const DEFAULT_CLUSTER_PORTS: ClusterPorts = {
  postgres: 5433,
  frontend: 7233,
  frontendHttp: 7243,
  history: 7234,
  matching: 7235,
  worker: 7239,
  membership: [6933, 6934, 6935, 6939],
  metrics: 8000,
};

/**
 * A free port below 32768: the server stores its services' ports in a smallint column (cluster_membership), so the
 * kernel's ephemeral ports, which freePort() hands out, will not do.
 */
async function freeLowPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    try {
      await new Promise<void>((resolve, reject) => {
        const server = createServer().once('error', reject);
        server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
      });
      taken.add(port);
      return port;
    } catch {
      // in use: try another
    }
  }
}

export async function freeClusterPorts(): Promise<ClusterPorts> {
  const taken = new Set<number>();
  const next = () => freeLowPort(taken);
  return {
    postgres: await next(),
    frontend: await next(),
    frontendHttp: await next(),
    history: await next(),
    matching: await next(),
    worker: await next(),
    membership: [await next(), await next(), await next(), await next()],
    metrics: await next(),
  };
}

export interface ClusterOptions extends ChildOutput {
  /** Everything the cluster keeps: the Postgres data directory and the server's config. Reused when it exists. */
  dir: string;
  ports: ClusterPorts;
  /**
   * History shards, fixed when the database is first set up. Temporal serialises the writes of one shard, so the dev
   * server's single shard is one queue for every workflow; several let workflows progress in parallel.
   */
  shards: number;
  namespace: string;
  /** The namespace's retention: the idempotency window (IDEMPOTENCY_WINDOW). */
  retentionMs: number;
}

/** PostgreSQL will not run as root: when we are root its files and process belong to the `postgres` user. */
async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout.trim());
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    throw new Error('running as root, and there is no `postgres` user to run PostgreSQL as (Debian creates it)');
  }
}

async function startPostgres(dir: string, port: number, output: ChildOutput['output']): Promise<Child> {
  const dataDir = path.join(dir, 'postgres');
  const user = await postgresUser();
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // Every directory above it must let the postgres user pass (test/helpers/stack.ts opens its mkdtemp one).
    if (user) chownSync(dataDir, user.uid, user.gid);
    // Only loopback connections, trusted: the same machine's processes, as the dev server trusts them.
    const args = ['-D', dataDir, '--username=temporal', '--auth=trust', '--encoding=UTF8', '--no-instructions'];
    await run(postgresProgram('initdb'), args, { ...user });
  }
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1'];
  // No Unix socket (its default directory belongs to the system's cluster); fsync and synchronous commits stay on.
  args.push('-c', 'unix_socket_directories=', '-c', 'max_connections=200', '-c', 'shared_buffers=256MB');
  const child = startChild('postgres', postgresProgram('postgres'), args, { output, user });
  await waitFor('PostgreSQL', async () => {
    if (child.process.exitCode !== null) throw new Error('postgres exited');
    await portOpen(port);
  });
  return child;
}

/** Creates the two databases and their tables on first start; later starts apply the schema's new versions only. */
async function setupSchema(port: number, fresh: boolean): Promise<void> {
  const schema = temporalSchemaDir();
  const tool = toolPath('temporal-sql-tool');
  for (const [database, dir] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ]) {
    const sql = (...args: string[]) =>
      run(tool, [
        '--plugin',
        'postgres12',
        '--ep',
        '127.0.0.1',
        '-p',
        String(port),
        '-u',
        'temporal',
        '--db',
        database,
        ...args,
      ]);
    if (fresh) {
      await sql('create-database');
      await sql('setup-schema', '-v', '0.0');
    }
    await sql('update-schema', '-d', path.join(schema, dir, 'versioned'));
  }
}

function serverConfig({ ports, shards, dir }: ClusterOptions): string {
  const store = (database: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `127.0.0.1:${ports.postgres}`,
      connectProtocol: 'tcp',
      user: 'temporal',
      password: '',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const [frontendMembership, historyMembership, matchingMembership, workerMembership] = ports.membership;
  const service = (grpcPort: number, membershipPort: number, extra = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  // JSON is YAML: the server reads this file as its config.
  return JSON.stringify(
    {
      log: { stdout: true, level: 'warn' },
      persistence: {
        defaultStore: 'default',
        visibilityStore: 'visibility',
        numHistoryShards: shards,
        datastores: { default: store('temporal', 20), visibility: store('temporal_visibility', 4) },
      },
      global: {
        membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
        metrics: {
          prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${ports.metrics}` },
        },
      },
      services: {
        frontend: service(ports.frontend, frontendMembership, { httpPort: ports.frontendHttp }),
        history: service(ports.history, historyMembership),
        matching: service(ports.matching, matchingMembership),
        worker: service(ports.worker, workerMembership),
      },
      clusterMetadata: {
        enableGlobalNamespace: false,
        failoverVersionIncrement: 10,
        masterClusterName: 'active',
        currentClusterName: 'active',
        clusterInformation: {
          active: {
            enabled: true,
            initialFailoverVersion: 1,
            rpcName: 'frontend',
            rpcAddress: `127.0.0.1:${ports.frontend}`,
          },
        },
      },
      dcRedirectionPolicy: { policy: 'noop' },
      dynamicConfigClient: {
        filepath: path.resolve(__dirname, '../../deploy/temporal/dynamicconfig/development-sql.yaml'),
        pollInterval: '10s',
      },
    },
    null,
    2,
  ).replace(/^/, `# Written by scripts/lib/cluster.ts for ${dir}\n`);
}

/** The namespace and our search attributes, then a visibility query that uses them: the cluster is ready for us. */
async function prepareNamespace(server: Child, address: string, namespace: string, retentionMs: number) {
  const connection = await waitFor('the Temporal frontend', () => {
    if (server.process.exitCode !== null) throw new Error(`the Temporal server exited (${server.process.exitCode})`);
    return Connection.connect({ address, connectTimeout: 1_000 });
  });
  try {
    await waitFor('the namespace', () => setUpNamespace(connection, namespace, retentionMs));
  } finally {
    await connection.close();
  }
}

export interface TemporalCluster {
  address: string;
  metricsUrl: string;
  children: Child[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** PostgreSQL, the schema, the Temporal server (all four services in one process) and the namespace. */
export async function startTemporalCluster(options: ClusterOptions): Promise<TemporalCluster> {
  const { dir, ports, namespace, output } = options;
  mkdirSync(dir, { recursive: true });
  const fresh = !existsSync(path.join(dir, 'postgres', 'PG_VERSION'));
  const postgres = await startPostgres(dir, ports.postgres, output);
  const children = [postgres];
  const stop = async (signal?: NodeJS.Signals) => {
    for (const child of [...children].reverse()) await child.stop(signal);
  };
  try {
    await setupSchema(ports.postgres, fresh);
    const configDir = path.join(dir, 'config');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(path.join(configDir, 'cluster.yaml'), serverConfig(options));
    const args = ['--root', dir, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start'];
    const server = startChild('temporal', toolPath('temporal-server'), args, { output });
    children.push(server);
    const address = `127.0.0.1:${ports.frontend}`;
    await prepareNamespace(server, address, namespace, options.retentionMs);
    return { address, metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`, children, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
