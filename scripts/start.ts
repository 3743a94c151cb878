import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
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
const PROCESSES = CLUSTER ? 2 : 1;

/** A key kept in `.data/` (made on first run): the payload codec's, or the one signing secrets are sealed with. */
function localKey(DATA: string, name: 'payload-key' | 'secret-key'): string {
  const file = path.join(DATA, name);
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
  const DATA = path.resolve(ROOT, process.env.DATA_DIR ?? '.data');
  process.env.PAYLOAD_KEYS ??= localKey(DATA, 'payload-key');
  process.env.SECRET_KEYS ??= localKey(DATA, 'secret-key');
  const uiPort = process.env.TEMPORAL_UI_PORT ?? 8233;
  process.env.CODEC_UI_ORIGINS ??= `http://localhost:${uiPort},http://127.0.0.1:${uiPort}`;
  const config = loadConfigFromProcess();
  const STACK_DATA = CLUSTER ? path.join(DATA, 'cluster') : DATA;
  const { TEMPORAL_PORT, TEMPORAL_UI_PORT, SMTP_PORT } = config;
  const s3Port = Number(new URL(config.S3_ENDPOINT).port || 80);
  await assertPortsFree(config, s3Port);
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
      retentionMs: config.IDEMPOTENCY_WINDOW,
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
        retentionMs: config.IDEMPOTENCY_WINDOW,
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
${tryIt(apis[0], config.ADMIN_API_KEY!)}`);
}

/** Every port this stack will listen on, free now, or a message naming the setting that moves it. */
async function assertPortsFree(config: ReturnType<typeof loadConfigFromProcess>, s3Port: number): Promise<void> {
  const wanted: [number, string][] = [
    [s3Port, 'S3_ENDPOINT'],
    [config.SMTP_PORT, 'SMTP_PORT'],
    ...Array.from({ length: PROCESSES }, (_, i): [number, string] => [config.PORT + i, 'PORT']),
    ...Array.from({ length: PROCESSES }, (_, i): [number, string] => [
      config.WORKER_METRICS_PORT + i,
      'WORKER_METRICS_PORT',
    ]),
  ];
  if (!CLUSTER) wanted.push([config.TEMPORAL_PORT, 'TEMPORAL_PORT'], [config.TEMPORAL_UI_PORT, 'TEMPORAL_UI_PORT']);
  for (const [port, setting] of wanted) {
    if (await portTaken(port)) {
      throw new Error(
        `port ${port} is already taken (${setting}): stop what uses it, or run this stack elsewhere, e.g. ` +
          `${setting}=${setting === 'S3_ENDPOINT' ? `http://localhost:${port + 1}` : port + 1} npm start ` +
          '(docs/operations.md, "Two stacks side by side")',
      );
    }
  }
}

function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

/** A first delivery, copy-paste ready with this stack's address and operator key, to a receiver on this machine. */
function tryIt(api: string, key: string): string {
  const json = "-H 'content-type: application/json'";
  const receiver = `node -e 'require("http").createServer((q, s) => { q.pipe(process.stdout); q.on("end", () => s.end()) }).listen(9999)' &`;
  return `  Try it (a receiver that prints what it gets, a customer, its webhook, a first document):
    ${receiver}
    ACME_KEY=$(curl -s ${api}/v1/customers -H 'authorization: Bearer ${key}' ${json} \\
      -d '{"id":"acme","name":"Acme"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).apiKeys.production')
    curl -s -X PUT ${api}/v1/production/webhook -H "authorization: Bearer $ACME_KEY" ${json} \\
      -d '{"url":"http://localhost:9999/hook"}'
    curl -s ${api}/v1/production/documents -H 'authorization: Bearer ${key}' ${json} \\
      -d '{"customerId":"acme","id":"evt_1","type":"event","data":{"hello":"world"}}'
    curl -s ${api}/v1/production/documents/evt_1 -H "authorization: Bearer $ACME_KEY"
`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
