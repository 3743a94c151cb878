import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DEFAULT_IDEMPOTENCY_WINDOW, loadConfig } from '../../src/config';
import { parseDuration } from '../../src/domain/duration';
import { dataConverter } from '../../src/lib/temporal';
import { generatePayloadKey } from '../../src/lib/payload-codec';
import { createS3Client } from '../../src/lib/s3';
import { freeClusterPorts, startTemporalCluster } from '../../scripts/lib/cluster';
import { freePort, startNodeScript, startTemporal, waitFor, type Child } from '../../scripts/lib/stack';
import { startMailSink } from '../../scripts/lib/mail-sink';
import { TEST_SECRET_KEYS } from './config';
import { startContainer } from './image';
import { startS3Proxy } from './s3-proxy';
import { startTestS3 } from './s3';

export const ADMIN_KEY = 'e2e-admin-key-0123456789';
/** A fresh key per test process: what Temporal stores is encrypted, as in production. */
export const PAYLOAD_KEYS = generatePayloadKey('e2e');

export interface StackShape {
  /** 'dev': the CLI's dev server on SQLite (default); 'cluster': PostgreSQL and the Temporal server, as production. */
  temporal?: 'dev' | 'cluster';
  /** Worker and API processes, each its own Node process against the same Temporal and S3. */
  workers?: number;
  apis?: number;
  /** History shards of the cluster. */
  shards?: number;
  /** The workers reach S3 through a proxy that can hold chosen requests (helpers/s3-proxy.ts): a slow S3. */
  workerS3Proxy?: boolean;
  /** Another checkout to run the worker and API from (an older version: test/e2e/upgrade.test.ts); this one's else. */
  codeRoot?: string;
  /**
   * Run the worker and API from this image instead (scripts/build-image.sh: compiled dist/, production dependencies),
   * each a `podman run` container on the host's network (test/helpers/image.ts).
   */
  image?: string;
}

/**
 * The real stack on free ports: Temporal (dev server or cluster), versitygw, and the worker and API as their own
 * processes, configured only through environment variables as a user would.
 */
export async function startTestStack(overrides: Record<string, string> = {}, shape: StackShape = {}) {
  const { temporal: kind = 'dev', workers: workerCount = 1, apis: apiCount = 1, shards = 4 } = shape;
  let codeRoot = shape.codeRoot ?? '.';
  const dir = mkdtempSync(path.join(tmpdir(), 'webhooks-e2e-'));
  // PostgreSQL runs as its own user (we may be root): it must be able to pass through to its data directory.
  if (kind === 'cluster') chmodSync(dir, 0o711);
  const temporalPort = await freePort();
  let clusterPorts: Awaited<ReturnType<typeof freeClusterPorts>> | undefined;
  const devMetricsPort = await freePort();
  // The namespace is made with the idempotency window the stack is configured with, as `npm start` makes it.
  const retentionMs = parseDuration(overrides.IDEMPOTENCY_WINDOW ?? DEFAULT_IDEMPOTENCY_WINDOW);
  const startServer = async (): Promise<{
    address: string;
    pid?: number;
    stop(signal?: NodeJS.Signals): Promise<void>;
  }> => {
    if (kind === 'cluster') {
      const ports = clusterPorts ?? (clusterPorts = await freeClusterPorts());
      const output = path.join(dir, 'temporal.log');
      const cluster = await startTemporalCluster({
        dir: path.join(dir, 'cluster'),
        ports,
        shards,
        namespace: 'default',
        retentionMs,
        output,
      });
      return { ...cluster, pid: cluster.children.find((c) => c.name === 'temporal')?.process.pid };
    }
    const child = await startTemporal({
      port: temporalPort,
      metricsPort: devMetricsPort,
      dbFile: path.join(dir, 'temporal.sqlite'),
      retentionMs,
      output: path.join(dir, 'temporal.log'),
    });
    return { address: `127.0.0.1:${temporalPort}`, pid: child.process.pid, stop: (signal) => child.stop(signal) };
  };
  let temporal = await startServer();
  const s3 = await startTestS3();
  const workerS3Proxy = shape.workerS3Proxy ? await startS3Proxy(s3.env.S3_ENDPOINT) : undefined;
  const mail = await startMailSink({ port: await freePort() });
  const env: Record<string, string> = {
    ...s3.env,
    SMTP_URL: `smtp://127.0.0.1:${mail.port}`,
    ADMIN_API_KEY: ADMIN_KEY,
    PAYLOAD_KEYS: PAYLOAD_KEYS,
    SECRET_KEYS: TEST_SECRET_KEYS,
    TEMPORAL_ADDRESS: temporal.address,
    TASK_QUEUE: 'e2e',
    ALLOW_PRIVATE_URLS: 'true',
    LOG_LEVEL: 'warn',
    ...overrides,
  };
  const config = loadConfig(env);
  const log = (name: string, i: number) => path.join(dir, `${name}${i ? `-${i + 1}` : ''}.log`);
  const workerMetricsPorts = await Promise.all(Array.from({ length: workerCount }, () => freePort()));
  // A process of this checkout (or codeRoot's) from its sources, or the image's compiled one in a container.
  const startProcess = (
    name: string,
    source: string,
    compiled: string,
    options: { output: string; env: Record<string, string> },
  ) =>
    shape.image
      ? startContainer(name, shape.image, ['node', compiled], options)
      : startNodeScript(name, path.join(codeRoot, source), options);
  const startWorker = (i: number) =>
    startProcess(`worker-${i + 1}`, 'src/worker.ts', 'dist/worker.js', {
      output: log('worker', i),
      env: {
        ...env,
        WORKER_METRICS_PORT: String(workerMetricsPorts[i]),
        ...(workerS3Proxy ? { S3_ENDPOINT: workerS3Proxy.url } : {}),
      },
    });
  const workers: Child[] = Array.from({ length: workerCount }, (_, i) => startWorker(i));
  const apiPorts = await Promise.all(Array.from({ length: apiCount }, () => freePort()));
  const startApi = (i: number) =>
    startProcess(`api-${i + 1}`, 'src/api/server.ts', 'dist/api/server.js', {
      output: log('api', i),
      env: { ...env, PORT: String(apiPorts[i]) },
    });
  const apis = apiPorts.map((_port, i) => startApi(i));
  const apiHealthy = (url: string) =>
    waitFor('the API to be healthy', async () => {
      const res = await fetch(`${url}/healthz`);
      if (res.status !== 200) throw new Error(`healthz ${res.status}`);
    });
  const baseUrls = apiPorts.map((port) => `http://127.0.0.1:${port}`);
  const baseUrl = baseUrls[0];
  for (const url of baseUrls) await apiHealthy(url);

  return {
    baseUrl,
    /** Every API process's base URL (one unless `apis` asked for more). */
    baseUrls,
    config,
    /** Each worker process's GET /metrics. */
    workerMetricsUrls: workerMetricsPorts.map((port) => `http://127.0.0.1:${port}/metrics`),
    /** The Temporal server's Prometheus endpoint. */
    metricsUrl: `http://127.0.0.1:${clusterPorts?.metrics ?? devMetricsPort}/metrics`,
    /** A Temporal client as the worker and API have it (with the payload codec); close its connection when done. */
    async temporalClient() {
      const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
      return new Client({ connection, dataConverter: dataConverter(config) });
    },
    s3: createS3Client(config),
    /** Every email the worker sent, received by a real SMTP server. */
    mail,
    /** SIGKILL: the worker (the first, or worker i) gets no chance to finish anything. */
    async killWorker(i = 0) {
      await workers[i].stop('SIGKILL');
    },
    /** SIGTERM: the worker finishes what it holds and leaves (the bench measures with fewer workers this way). */
    async stopWorker(i = 0) {
      await workers[i].stop();
    },
    async restartWorker(i = 0) {
      workers[i] = startWorker(i);
    },
    /** From now on the worker and API (re)start from this checkout: `.` is this one, the upgrade's new version. */
    useCode(root: string) {
      codeRoot = root;
    },
    /** SIGKILL the API (the first, or API i), and bring it back on its port. */
    async killApi(i = 0) {
      await apis[i].stop('SIGKILL');
    },
    async restartApi(i = 0) {
      apis[i] = startApi(i);
      await apiHealthy(baseUrls[i]);
    },
    /** The Temporal server goes down hard and comes back on the same SQLite file and port. */
    async killTemporal() {
      await temporal.stop('SIGKILL');
    },
    async restartTemporal() {
      temporal = await startServer();
    },
    /** The proxy between the workers and S3, with `workerS3Proxy`. */
    workerS3Proxy,
    killS3: () => s3.kill(),
    restartS3: () => s3.restart(),
    workerPid: (i = 0) => workers[i].process.pid,
    /** The processes the bench weighs: the Temporal server, each worker and each API. */
    pids: () => ({
      temporal: temporal.pid,
      workers: workers.map((w) => w.process.pid),
      apis: apis.map((a) => a.process.pid),
    }),
    logs: (name: string) => readFileSync(path.join(dir, `${name}.log`), 'utf8'),
    async stop() {
      await Promise.all([...apis, ...workers].map((child) => child.stop()));
      await temporal.stop();
      await workerS3Proxy?.close();
      await s3.stop();
      await mail.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type TestStack = Awaited<ReturnType<typeof startTestStack>>;

/** A small HTTP client for the API: JSON in, status and JSON out. */
export function apiClient(baseUrl: string) {
  return async (method: string, route: string, key?: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${route}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const answer = { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
    // Not enumerable: tests compare `{ status, body }` whole, and the headers are there when one asks.
    return Object.defineProperty(answer, 'headers', { value: res.headers, enumerable: false }) as typeof answer & {
      headers: Headers;
    };
  };
}
