import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_ADMIN_API_KEY, loadConfigFromProcess, loadEnvFile } from '../src/config';
import { generatePayloadKey } from '../src/lib/payload-codec';
import { DEFAULT_CLUSTER_PORTS, startTemporalCluster } from './lib/cluster';
import { startMailSink } from './lib/mail-sink';
import { ROOT, startNodeScript, startS3, startTemporal, waitFor, type Child } from './lib/stack';
import { toolPath } from './lib/tools';

// `npm start`: the whole local stack in one process tree. Data lives in .data/ and survives restarts.
// `npm run start:cluster` (--cluster): the production topology instead: PostgreSQL and the Temporal server, two
// workers and two APIs (PORT and PORT+1), its data in .data/cluster/.
const CLUSTER = process.argv.includes('--cluster');
const DATA = path.join(ROOT, '.data');
const STACK_DATA = CLUSTER ? path.join(DATA, 'cluster') : DATA;
const TEMPORAL_PORT = 7233;
const TEMPORAL_UI_PORT = 8233;
const SMTP_PORT = 1025;
const PROCESSES = CLUSTER ? 2 : 1;

/** The local stack's payload key, made on first run and kept with the data it encrypts. */
function localPayloadKey(): string {
  const file = path.join(DATA, 'payload-key');
  if (!existsSync(file)) {
    mkdirSync(DATA, { recursive: true });
    writeFileSync(file, generatePayloadKey('local'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

async function main(): Promise<void> {
  loadEnvFile();
  // The local stack delivers to receivers on this machine; production defaults keep private URLs refused.
  process.env.ALLOW_PRIVATE_URLS ??= 'true';
  // A developer's machine: the well-known operator key is allowed here, and only here.
  process.env.LOCAL_STACK ??= 'true';
  process.env.ADMIN_API_KEY ??= LOCAL_ADMIN_API_KEY;
  process.env.PAYLOAD_KEYS ??= localPayloadKey();
  const config = loadConfigFromProcess();
  const s3Port = Number(new URL(config.S3_ENDPOINT).port || 80);
  const tools = CLUSTER ? (['temporal-server', 'temporal-sql-tool', 'postgres'] as const) : (['temporal'] as const);
  for (const tool of [...tools, 'versitygw'] as const) toolPath(tool);

  const mail = await startMailSink({
    port: SMTP_PORT,
    dir: path.join(STACK_DATA, 'mail'),
    onMail: (m) =>
      console.log(
        `[mail] to ${[m.to]
          .flat()
          .map((a) => a?.text)
          .join(', ')}: ${m.subject}`,
      ),
  });
  const children: Child[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the local stack...');
    for (const child of [...children].reverse()) await child.stop();
    await mail.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  if (CLUSTER) {
    const cluster = await startTemporalCluster({
      dir: STACK_DATA,
      ports: DEFAULT_CLUSTER_PORTS,
      shards: Number(process.env.CLUSTER_HISTORY_SHARDS ?? 4),
      namespace: config.TEMPORAL_NAMESPACE,
      output: 'inherit',
    });
    children.push(...cluster.children);
  } else {
    children.push(
      await startTemporal({
        port: TEMPORAL_PORT,
        uiPort: TEMPORAL_UI_PORT,
        dbFile: path.join(DATA, 'temporal.sqlite'),
        namespace: config.TEMPORAL_NAMESPACE,
        codecEndpoint: `${config.publicUrl}/codec`,
        output: 'inherit',
      }),
    );
  }
  children.push(
    await startS3({
      port: s3Port,
      dataDir: path.join(STACK_DATA, 's3'),
      accessKey: config.S3_ACCESS_KEY_ID,
      secretKey: config.S3_SECRET_ACCESS_KEY,
      output: 'inherit',
    }),
  );
  const env = {
    TEMPORAL_ADDRESS: `127.0.0.1:${TEMPORAL_PORT}`,
    SMTP_URL: `smtp://127.0.0.1:${SMTP_PORT}`,
  };
  const apiPorts = Array.from({ length: PROCESSES }, (_, i) => config.PORT + i);
  for (let i = 0; i < PROCESSES; i++) {
    const name = (what: string) => (PROCESSES > 1 ? `${what}-${i + 1}` : what);
    const workerEnv = { ...env, WORKER_METRICS_PORT: String(config.WORKER_METRICS_PORT + i) };
    children.push(startNodeScript(name('worker'), 'src/worker.ts', { output: 'inherit', env: workerEnv }));
    const apiEnv = { ...env, PORT: String(apiPorts[i]) };
    children.push(startNodeScript(name('api'), 'src/api/server.ts', { output: 'inherit', env: apiEnv }));
  }
  for (const child of children) {
    child.process.once('exit', (code) => {
      if (!stopping) {
        console.error(`${child.name} exited (${code}); stopping the stack`);
        void stopAll(1);
      }
    });
  }

  const apis = apiPorts.map((port) => `http://localhost:${port}`);
  for (const api of apis) {
    await waitFor('the API', async () => {
      const res = await fetch(`${api}/healthz`);
      if (!res.ok) throw new Error(`healthz ${res.status}`);
    });
  }
  const temporalLines = CLUSTER
    ? `    Temporal gRPC    127.0.0.1:${DEFAULT_CLUSTER_PORTS.frontend}  (server on PostgreSQL 127.0.0.1:${DEFAULT_CLUSTER_PORTS.postgres}; no Web UI: use the temporal CLI)
    Server metrics   http://127.0.0.1:${DEFAULT_CLUSTER_PORTS.metrics}/metrics  (the Temporal server's)`
    : `    Temporal Web UI  http://localhost:${TEMPORAL_UI_PORT}
    Temporal gRPC    127.0.0.1:${TEMPORAL_PORT}`;
  console.log(`
  ${CLUSTER ? 'Cluster stack' : 'Local stack'} is up.
    API              ${apis.join(', ')}${CLUSTER ? '  (two API processes, two workers)' : ''}
${temporalLines}
    Metrics          ${apis.map((api) => `${api}/metrics`).join(', ')}, ${apiPorts
      .map((_, i) => `http://localhost:${config.WORKER_METRICS_PORT + i}/metrics`)
      .join(', ')}  (APIs, workers)
    S3 (versitygw)   ${config.S3_ENDPOINT}  buckets ${config.BUCKET_SANDBOX}, ${config.BUCKET_PRODUCTION}
    SMTP sink        127.0.0.1:${SMTP_PORT}  (mail saved in ${path.relative(ROOT, STACK_DATA)}/mail)
    Operator key     ${config.ADMIN_API_KEY}
  Ctrl-C stops everything.
`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
