import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../src/config';
import { dataConverter } from '../../src/lib/temporal';
import { generatePayloadKey } from '../../src/lib/payload-codec';
import { createS3Client } from '../../src/lib/s3';
import { freePort, startNodeScript, startTemporal, waitFor, type Child } from '../../scripts/lib/stack';
import { startMailSink } from '../../scripts/lib/mail-sink';
import { startTestS3 } from './s3';

export const ADMIN_KEY = 'e2e-admin-key-0123456789';
/** A fresh key per test process: what Temporal stores is encrypted, as in production. */
export const PAYLOAD_KEYS = generatePayloadKey('e2e');

/**
 * The real stack on free ports: Temporal dev server, versitygw, and the worker and API as their own processes,
 * configured only through environment variables as a user would.
 */
export async function startTestStack(overrides: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'webhooks-e2e-'));
  const temporalPort = await freePort();
  const apiPort = await freePort();
  const startServer = () =>
    startTemporal({
      port: temporalPort,
      dbFile: path.join(dir, 'temporal.sqlite'),
      output: path.join(dir, 'temporal.log'),
    });
  let temporal = await startServer();
  const s3 = await startTestS3();
  const mail = await startMailSink({ port: await freePort() });
  const env: Record<string, string> = {
    ...s3.env,
    SMTP_URL: `smtp://127.0.0.1:${mail.port}`,
    PORT: String(apiPort),
    ADMIN_API_KEY: ADMIN_KEY,
    PAYLOAD_KEYS: PAYLOAD_KEYS,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TASK_QUEUE: 'e2e',
    ALLOW_PRIVATE_URLS: 'true',
    LOG_LEVEL: 'warn',
    ...overrides,
  };
  const config = loadConfig(env);
  const startWorker = () => startNodeScript('worker', 'src/worker.ts', { output: path.join(dir, 'worker.log'), env });
  let worker: Child = startWorker();
  const api = startNodeScript('api', 'src/api/server.ts', { output: path.join(dir, 'api.log'), env });
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  await waitFor('the API to be healthy', async () => {
    const res = await fetch(`${baseUrl}/healthz`);
    if (res.status !== 200) throw new Error(`healthz ${res.status}`);
  });

  return {
    baseUrl,
    config,
    /** A Temporal client as the worker and API have it (with the payload codec); close its connection when done. */
    async temporalClient() {
      const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
      return new Client({ connection, dataConverter: dataConverter(config) });
    },
    s3: createS3Client(config),
    /** Every email the worker sent, received by a real SMTP server. */
    mail,
    /** SIGKILL: the worker gets no chance to finish anything. */
    async killWorker() {
      await worker.stop('SIGKILL');
    },
    async restartWorker() {
      worker = startWorker();
    },
    /** The Temporal server goes down hard and comes back on the same SQLite file and port. */
    async killTemporal() {
      await temporal.stop('SIGKILL');
    },
    async restartTemporal() {
      temporal = await startServer();
    },
    killS3: () => s3.kill(),
    restartS3: () => s3.restart(),
    workerPid: () => worker.process.pid,
    logs: (name: string) => readFileSync(path.join(dir, `${name}.log`), 'utf8'),
    async stop() {
      await Promise.all([api.stop(), worker.stop()]);
      await temporal.stop();
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
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
  };
}
