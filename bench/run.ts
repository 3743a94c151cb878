import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { deliveryWorkflowId } from '../src/domain/ids';
import { dataConverter } from '../src/lib/temporal';
import { startJaeger } from '../test/helpers/jaeger';
import { always, startReceiver, type Receiver } from '../test/helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../test/helpers/stack';
import {
  cpuMs,
  endToEnd,
  inParallel,
  operationsPerDocument,
  paced,
  percentile,
  rssMb,
  serverCounters,
  until,
  webhookIds,
} from './measure';
import { createNaiveActivities } from './naive/activities';
import { benchListings, printListings } from './listings';
import { benchNoisy, printNoisy } from './noisy';
import { benchReaders, printReaders } from './readers';
import { benchSibling, printSibling } from './sibling';

// `npm run bench -- [documents] [concurrency] [--open=N] [--rounds=N] [--cluster] [--json] [--verbose]`: figures only, from one
// run on one stack. This machine is shared and noisy, so compare ratios within a run, never absolute numbers across runs.
//   - the product's delivered docs/s at saturation (a burst) beside the naive ceiling measured on the same server: a
//     trivial workflow calling one POST activity to the same receiver; bursts of each alternate for --rounds (3), and
//     the figures are medians;
//   - submit -> received latency at half the measured saturation rate (steady load);
//   - history events, server round trips (gRPC requests the frontend answered) and database operations per document;
//   - the worker's RSS before and after N open documents (pending in the bucket), and after they are delivered;
//   - --cluster: the same burst on PostgreSQL + the Temporal server, with one and with two workers;
//   - --eager: the API process runs the worker itself (API_EMBEDDED_WORKER, as `npm start` does) and starts each
//     document eagerly on it; no separate worker process.
//   - --set=KEY=VALUE (any mode): a setting for the stack.
//   - --noisy[=N]: only what a failing neighbour (N documents, 1,000) costs a healthy customer (bench/noisy.ts);
//     with --cluster on PostgreSQL + the Temporal server with two workers; --set=KEY=VALUE gives its stack a setting (e.g. --set=WORKER_MAX_CONCURRENT_WORKFLOW_TASKS=10).
//   - --listings[=N]: only the S3 requests per hot-path read with N (100,000) pending objects (bench/listings.ts).
//   - --sibling: only what a customer's webhook that never answers costs its other endpoint (bench/sibling.ts).
//   - --tracing: only what tracing costs per document: the same bursts on a stack without and one with
//     OTEL_EXPORTER_OTLP_ENDPOINT (a Jaeger v2 receiving), side by side, each with its naive ceiling.
//   - --readers[=N]: only what 30 readers at once pay for the message log and the stats of a customer with 20 endpoints
//     and N (100,000) documents (bench/readers.ts); with --cluster on PostgreSQL + the Temporal server.
const args = process.argv.slice(2);
const positional = args.filter((a) => !a.startsWith('--'));
const flag = (name: string) => args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const JSON_OUTPUT = Boolean(flag('json'));
const CLUSTER = Boolean(flag('cluster'));
const EAGER = Boolean(flag('eager'));
const NOISY = flag('noisy');
const LISTINGS = flag('listings');
const SIBLING = flag('sibling');
const READERS = flag('readers');
const TRACING = flag('tracing');
/** `--set=KEY=VALUE` (repeatable): a setting for the stack's worker and API, to compare tunings in one command. */
const SETTINGS = Object.fromEntries(
  args
    .filter((a) => a.startsWith('--set='))
    .map((a) => a.slice('--set='.length).split(/=(.*)/s, 2) as [string, string]),
);
const DOCUMENTS = Number(positional[0] ?? 300);
const CONCURRENCY = Number(positional[1] ?? 20);
const OPEN_DOCUMENTS = CLUSTER ? 0 : Number(flag('open')?.split('=')[1] ?? 10_000);
const ROUNDS = Math.max(1, Number(flag('rounds')?.split('=')[1] ?? 3));
const DEADLINE_MS = 300_000;

type Api = ReturnType<typeof apiClient>;

/** The process that runs the workflows: the worker, or with --eager the API and the worker it embeds. */
const workerPid = (stack: TestStack) => (EAGER ? stack.pids().apis[0] : stack.workerPid());

/** A customer whose production endpoint is the receiver; returns its production API key. */
async function customer(api: Api, id: string, receiver: Receiver): Promise<string> {
  const created = await api('POST', '/v1/customers', ADMIN_KEY, { id, name: id });
  if (created.status !== 201) throw new Error(`create ${id}: ${created.status}`);
  const key = created.body.apiKeys.production as string;
  const put = await api('PUT', '/v1/production/webhook', key, { url: receiver.url });
  if (put.status !== 200) throw new Error(`webhook ${id}: ${put.status}`);
  return key;
}

/** Submits one document through the APIs in turn; returns how long the submit took. */
function submitter(apis: Api[], customerId: string) {
  let turn = 0;
  return async (id: string) => {
    const t0 = Date.now();
    const res = await apis[turn++ % apis.length]('POST', '/v1/production/documents', ADMIN_KEY, {
      customerId,
      id,
      type: 'event',
      data: { n: id, padding: 'x'.repeat(1024) },
    });
    if (res.status !== 202) throw new Error(`submit ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    return Date.now() - t0;
  };
}

/** CPU ms per document of each kind of process (the bench itself is the client: the naive one's starter). */
function cpuReader(stack: TestStack) {
  const { temporal, workers, apis } = stack.pids();
  const sum = (pids: (number | undefined)[]) => pids.reduce<number>((total, pid) => total + cpuMs(pid), 0);
  const own = () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  };
  const before = [cpuMs(temporal), sum(workers), sum(apis), own()];
  return (count: number) => {
    const after = [cpuMs(temporal), sum(workers), sum(apis), own()];
    const [server, worker, api, bench] = after.map((ms, i) => Number(((ms - before[i]) / count).toFixed(2)));
    return { cpuServerMs: server, cpuWorkersMs: worker, cpuApisMs: api, cpuBenchMs: bench };
  };
}

async function perDocument(stack: TestStack, count: number, run: () => Promise<void>) {
  const before = await serverCounters(stack.metricsUrl);
  const cpu = cpuReader(stack);
  await run();
  const cpuMsPerDocument = cpu(count);
  const after = await serverCounters(stack.metricsUrl);
  if (flag('verbose')) console.error(operationsPerDocument(before.byOperation, after.byOperation, count));
  return {
    ...cpuMsPerDocument,
    roundTripsPerDocument: Number(((after.frontendRequests - before.frontendRequests) / count).toFixed(1)),
    dbOperationsPerDocument: Number(((after.persistenceRequests - before.persistenceRequests) / count).toFixed(1)),
  };
}

/** Saturation: DOCUMENTS submitted CONCURRENCY at a time, until the receiver has seen every one. */
async function burst(stack: TestStack, apis: Api[], receiver: Receiver, customerId: string, prefix: string) {
  const submit = submitter(apis, customerId);
  receiver.received.length = 0;
  const submitLatency: number[] = [];
  let submittedAt = new Map<string, number>();
  let started = 0;
  let finished = 0;
  const counts = await perDocument(stack, DOCUMENTS, async () => {
    started = Date.now();
    submittedAt = await inParallel(prefix, DOCUMENTS, CONCURRENCY, async (id) => {
      submitLatency.push(await submit(id));
    });
    finished = await until('the burst delivered', () => webhookIds(receiver).size >= DOCUMENTS, DEADLINE_MS);
  });
  const latency = endToEnd(receiver, submittedAt);
  const client = await stack.temporalClient();
  const history = await client.workflow
    .getHandle(deliveryWorkflowId('production', customerId, `${prefix}0`))
    .fetchHistory();
  await client.connection.close();
  return {
    docsPerSecond: Number(((DOCUMENTS / (finished - started)) * 1000).toFixed(1)),
    submitP50Ms: percentile(submitLatency, 50),
    submitP99Ms: percentile(submitLatency, 99),
    burstReceivedP50Ms: percentile(latency, 50),
    burstReceivedP99Ms: percentile(latency, 99),
    duplicates: receiver.received.length - DOCUMENTS,
    eventsPerDocument: history.events?.length ?? 0,
    ...counts,
  };
}

/** Half the saturation rate, paced: what a receiver waits for when the service is not overloaded. */
async function steady(apis: Api[], receiver: Receiver, customerId: string, perSecond: number) {
  const submit = submitter(apis, customerId);
  const count = Math.max(50, Math.min(DOCUMENTS, Math.round(perSecond * 30)));
  const submittedAt = await paced('steady_', count, perSecond, async (id) => void (await submit(id)));
  await until('the steady load delivered', () => endToEnd(receiver, submittedAt).length >= count, DEADLINE_MS);
  const latency = endToEnd(receiver, submittedAt);
  return {
    perSecond: Number(perSecond.toFixed(1)),
    documents: count,
    receivedP50Ms: percentile(latency, 50),
    receivedP99Ms: percentile(latency, 99),
  };
}

/**
 * Memory for open documents: OPEN_DOCUMENTS go to a suspended endpoint and wait in the bucket (their workflows stay
 * open), then the endpoint is reactivated and every one is redelivered and closes.
 */
async function openDocuments(stack: TestStack, api: Api) {
  const receiver = await startReceiver(always(410));
  try {
    const key = await customer(api, 'bench-open', receiver);
    const pendingCount = async () => (await api('GET', '/v1/production/webhook', key)).body.pendingCount as number;
    const before = rssMb(workerPid(stack));
    const t0 = Date.now();
    const submit = submitter([api], 'bench-open');
    await inParallel('open_', OPEN_DOCUMENTS, CONCURRENCY, async (id) => void (await submit(id)));
    // Submits answer before the documents reach the bucket (eagerly started ones most of all): allow 10 per second.
    const backlog = Math.max(DEADLINE_MS, OPEN_DOCUMENTS * 100);
    await until('documents pending', async () => (await pendingCount()) >= OPEN_DOCUMENTS, backlog);
    const openedIn = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 5_000));
    const open = rssMb(workerPid(stack));
    receiver.setBehaviour(always(200));
    const t1 = Date.now();
    const patched = await api('PATCH', '/v1/production/webhook', key, { active: true });
    if (patched.status !== 200) throw new Error(`reactivate: ${patched.status}`);
    await until('documents redelivered', () => webhookIds(receiver).size >= OPEN_DOCUMENTS, 4 * DEADLINE_MS);
    await until('the bucket empty', async () => (await pendingCount()) === 0, DEADLINE_MS);
    const closedIn = Date.now() - t1;
    await new Promise((r) => setTimeout(r, 5_000));
    return {
      documents: OPEN_DOCUMENTS,
      workerRssBeforeMb: before,
      workerRssOpenMb: open,
      workerRssClosedMb: rssMb(workerPid(stack)),
      openedPerSecond: Number(((OPEN_DOCUMENTS / openedIn) * 1000).toFixed(1)),
      redeliveredPerSecond: Number(((OPEN_DOCUMENTS / closedIn) * 1000).toFixed(1)),
    };
  } finally {
    await receiver.close();
  }
}

/** The naive ceiling: a trivial workflow calling one POST activity, started straight from a client. */
async function startNaive(stack: TestStack) {
  const receiver = await startReceiver(always(200));
  const connection = await NativeConnection.connect({ address: stack.config.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    taskQueue: 'bench-naive',
    workflowsPath: require.resolve('./naive/workflows'),
    activities: createNaiveActivities(),
    // The same codec as the product's worker: the ceiling pays for encryption too.
    dataConverter: dataConverter(stack.config),
  });
  const running = worker.run();
  const client = await stack.temporalClient();
  return {
    async burst(prefix: string) {
      receiver.received.length = 0;
      let started = 0;
      let finished = 0;
      const counts = await perDocument(stack, DOCUMENTS, async () => {
        started = Date.now();
        await inParallel(prefix, DOCUMENTS, CONCURRENCY, async (id) => {
          await client.workflow.start('naiveDelivery', {
            taskQueue: 'bench-naive',
            workflowId: `naive-${id}`,
            args: [receiver.url, id],
          });
        });
        finished = await until('the naive burst', () => webhookIds(receiver).size >= DOCUMENTS, DEADLINE_MS);
      });
      const history = await client.workflow.getHandle(`naive-${prefix}0`).fetchHistory();
      return {
        docsPerSecond: Number(((DOCUMENTS / (finished - started)) * 1000).toFixed(1)),
        eventsPerDocument: history.events?.length ?? 0,
        ...counts,
      };
    },
    async stop() {
      worker.shutdown();
      await running;
      await client.connection.close();
      await connection.close();
      await receiver.close();
    },
  };
}

type Burst = Awaited<ReturnType<typeof burst>>;
type NaiveBurst = Awaited<ReturnType<Awaited<ReturnType<typeof startNaive>>['burst']>>;

/**
 * ROUNDS alternating bursts of the product and of the naive workflow, so both see the same machine; each figure is
 * the median of its rounds, and the ratio the median of the rounds' ratios.
 */
async function alternate(stack: TestStack, productBurst: (prefix: string) => Promise<Burst>) {
  const naiveRun = await startNaive(stack);
  const rounds: { product: Burst; naive: NaiveBurst }[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      rounds.push({ product: await productBurst(`r${r}_`), naive: await naiveRun.burst(`r${r}_`) });
    }
  } finally {
    await naiveRun.stop();
  }
  const median = (values: number[]) => percentile(values, 50);
  const medianOf = <T extends Record<string, number>>(items: T[]): T =>
    Object.fromEntries(Object.keys(items[0]).map((k) => [k, median(items.map((i) => i[k]))])) as T;
  return {
    product: medianOf(rounds.map((r) => r.product)),
    naive: medianOf(rounds.map((r) => r.naive)),
    ratio: Number(median(rounds.map((r) => r.product.docsPerSecond / r.naive.docsPerSecond)).toFixed(2)),
    ratios: rounds.map((r) => Number((r.product.docsPerSecond / r.naive.docsPerSecond).toFixed(2))),
  };
}

function commit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

async function benchDevServer(stack: TestStack) {
  const api = apiClient(stack.baseUrl);
  const receiver = await startReceiver(always(200));
  try {
    await customer(api, 'bench', receiver);
    const { product, naive, ratio, ratios } = await alternate(stack, (prefix) =>
      burst(stack, [api], receiver, 'bench', prefix),
    );
    const workerRssMb = rssMb(workerPid(stack));
    receiver.received.length = 0;
    const halfLoad = await steady([api], receiver, 'bench', product.docsPerSecond / 2);
    const open = OPEN_DOCUMENTS > 0 ? await openDocuments(stack, api) : undefined;
    return { product: { ...product, workerRssMb }, naive, ratio, ratios, steady: halfLoad, open };
  } finally {
    await receiver.close();
  }
}

async function benchCluster(stack: TestStack) {
  const apis = stack.baseUrls.map((url) => apiClient(url));
  const receiver = await startReceiver(always(200));
  try {
    await customer(apis[0], 'bench', receiver);
    await stack.stopWorker(1);
    const one = await alternate(stack, (prefix) => burst(stack, apis, receiver, 'bench', `one_${prefix}`));
    await stack.restartWorker(1);
    await new Promise((r) => setTimeout(r, 5_000));
    const two = await alternate(stack, (prefix) => burst(stack, apis, receiver, 'bench', `two_${prefix}`));
    return { ...two, oneWorker: one.product, oneWorkerRatio: one.ratio };
  } finally {
    await receiver.close();
  }
}

async function noisy(): Promise<void> {
  const stack = CLUSTER
    ? await startTestStack({ LOG_LEVEL: 'warn', ...SETTINGS }, { temporal: 'cluster', workers: 2, apis: 1 })
    : await startTestStack({ LOG_LEVEL: 'warn', ...SETTINGS });
  try {
    const figures = await benchNoisy(stack, Number(NOISY!.split('=')[1] ?? 1000));
    const result = {
      commit: commit(),
      at: new Date().toISOString(),
      stack: CLUSTER ? 'cluster-noisy' : 'dev-noisy',
      settings: SETTINGS,
      ...figures,
    };
    if (JSON_OUTPUT) console.log(JSON.stringify(result));
    else printNoisy(figures);
  } catch (err) {
    console.error(err);
    console.error(stack.logs('worker').split('\n').slice(-40).join('\n'));
    throw err;
  } finally {
    await stack.stop();
  }
}

async function listings(): Promise<void> {
  const stack = await startTestStack({ LOG_LEVEL: 'warn', ...SETTINGS });
  try {
    const figures = await benchListings(stack, Number(LISTINGS!.split('=')[1] ?? 100_000));
    if (JSON_OUTPUT) console.log(JSON.stringify({ commit: commit(), at: new Date().toISOString(), ...figures }));
    else printListings(figures);
  } finally {
    await stack.stop();
  }
}

async function sibling(): Promise<void> {
  const stack = await startTestStack({ LOG_LEVEL: 'warn', DELIVERY_TIMEOUT: '15s', ...SETTINGS });
  try {
    const figures = await benchSibling(stack);
    if (JSON_OUTPUT) console.log(JSON.stringify({ commit: commit(), at: new Date().toISOString(), ...figures }));
    else printSibling(figures);
  } finally {
    await stack.stop();
  }
}

async function readers(): Promise<void> {
  const stack = CLUSTER
    ? await startTestStack({ LOG_LEVEL: 'warn', ...SETTINGS }, { temporal: 'cluster', workers: 2, apis: 1 })
    : await startTestStack({ LOG_LEVEL: 'warn', ...SETTINGS });
  try {
    const figures = await benchReaders(stack, Number(READERS!.split('=')[1] ?? 100_000));
    const result = { commit: commit(), at: new Date().toISOString(), stack: CLUSTER ? 'cluster' : 'dev', ...figures };
    if (JSON_OUTPUT) console.log(JSON.stringify(result));
    else printReaders(figures);
  } finally {
    await stack.stop();
  }
}

/**
 * The bursts of the default mode on two stacks in one run: tracing off, then on (exported to a Jaeger v2 started
 * here, whose own CPU is not counted). Each burst keeps its ratio to the naive ceiling of its own stack.
 */
async function tracingCost(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-tracing-'));
  const jaeger = await startJaeger(dir);
  try {
    const rows: { tracing: string; product: Burst; ratio: number }[] = [];
    for (const [tracing, settings] of [
      ['off', {}],
      ['on', { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint }],
    ] as const) {
      const stack = await startTestStack({ LOG_LEVEL: 'warn', ...SETTINGS, ...settings });
      try {
        const api = apiClient(stack.baseUrl);
        const receiver = await startReceiver(always(200));
        try {
          await customer(api, 'bench', receiver);
          const { product, ratio } = await alternate(stack, (prefix) => burst(stack, [api], receiver, 'bench', prefix));
          rows.push({ tracing, product, ratio });
        } finally {
          await receiver.close();
        }
      } finally {
        await stack.stop();
      }
    }
    if (JSON_OUTPUT) {
      console.log(JSON.stringify({ commit: commit(), at: new Date().toISOString(), documents: DOCUMENTS, rows }));
      return;
    }
    const line = (label: string, text: string) => console.log(`${label.padEnd(24)}${text}`);
    line('stack', `dev server, 1 worker, 1 API; ${DOCUMENTS} documents, concurrency ${CONCURRENCY}, medians`);
    for (const { tracing, product: p, ratio } of rows) {
      line(`tracing ${tracing}`, `${p.docsPerSecond} docs/s, ${ratio} of its naive ceiling`);
      line('', `CPU ms per document: worker ${p.cpuWorkersMs}, API ${p.cpuApisMs}, server ${p.cpuServerMs}`);
      line('', `${p.eventsPerDocument} history events per document`);
    }
    const [off, on] = rows;
    line(
      'on / off',
      `ratio to naive ${(on.ratio / off.ratio).toFixed(2)}, worker CPU ${(
        on.product.cpuWorkersMs / off.product.cpuWorkersMs
      ).toFixed(2)}, API CPU ${(on.product.cpuApisMs / off.product.cpuApisMs).toFixed(2)}`,
    );
  } finally {
    await jaeger.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (TRACING) return tracingCost();
  if (SIBLING) return sibling();
  if (READERS) return readers();
  if (NOISY) return noisy();
  if (LISTINGS) return listings();
  const stack = CLUSTER
    ? await startTestStack({ LOG_LEVEL: 'warn', ...SETTINGS }, { temporal: 'cluster', workers: 2, apis: 2 })
    : EAGER
      ? await startTestStack({ LOG_LEVEL: 'warn', API_EMBEDDED_WORKER: 'true', ...SETTINGS }, { workers: 0 })
      : await startTestStack({ LOG_LEVEL: 'warn', ...SETTINGS });
  try {
    const figures = CLUSTER ? await benchCluster(stack) : await benchDevServer(stack);
    const result = {
      commit: commit(),
      at: new Date().toISOString(),
      stack: CLUSTER ? 'cluster' : EAGER ? 'dev-eager' : 'dev',
      documents: DOCUMENTS,
      concurrency: CONCURRENCY,
      rounds: ROUNDS,
      ...figures,
    };
    if (JSON_OUTPUT) {
      console.log(JSON.stringify(result));
      return;
    }
    printResult(result);
  } catch (err) {
    console.error(err);
    // The process that ran the workflows: with --eager, the API.
    console.error(
      stack
        .logs(EAGER ? 'api' : 'worker')
        .split('\n')
        .slice(-40)
        .join('\n'),
    );
    throw err;
  } finally {
    await stack.stop();
  }
}

interface Result {
  stack: string;
  ratio: number;
  ratios: number[];
  oneWorkerRatio?: number;
  product: Burst & { workerRssMb?: number };
  naive: NaiveBurst;
  steady?: Awaited<ReturnType<typeof steady>>;
  open?: Awaited<ReturnType<typeof openDocuments>>;
  oneWorker?: Burst;
}

function printResult(result: Result) {
  const { stack, product: p, naive: n, ratio, ratios, steady: s, open: o, oneWorker, oneWorkerRatio } = result;
  const where =
    stack === 'cluster'
      ? 'PostgreSQL + Temporal server, 2 workers, 2 APIs'
      : stack === 'dev-eager'
        ? 'dev server, 1 API running the worker (eager start)'
        : 'dev server, 1 worker, 1 API';
  const line = (label: string, text: string) => console.log(`${label.padEnd(24)}${text}`);
  line('stack', `${where}; ${DOCUMENTS} documents of 1 KiB, concurrency ${CONCURRENCY}`);
  line('', `${ROUNDS} rounds of product then naive bursts; medians`);
  if (oneWorker) line('delivered, 1 worker', `${oneWorker.docsPerSecond} docs/s (ratio ${oneWorkerRatio})`);
  line(stack === 'cluster' ? 'delivered, 2 workers' : 'delivered', `${p.docsPerSecond} docs/s (a burst)`);
  line('naive ceiling', `${n.docsPerSecond} workflows/s (one POST activity, same server)`);
  line('ratio', `${ratio} of the naive ceiling (rounds: ${ratios.join(', ')})`);
  line('submit latency', `p50 ${p.submitP50Ms} ms  p99 ${p.submitP99Ms} ms`);
  line('burst submit->received', `p50 ${p.burstReceivedP50Ms} ms  p99 ${p.burstReceivedP99Ms} ms`);
  if (s) {
    const load = `at ${s.perSecond} docs/s (half load, ${s.documents} documents)`;
    line('steady submit->received', `p50 ${s.receivedP50Ms} ms  p99 ${s.receivedP99Ms} ms ${load}`);
  }
  line('per document', `${p.eventsPerDocument} history events, ${p.roundTripsPerDocument} server round trips, `);
  line('', `${p.dbOperationsPerDocument} database operations`);
  line('naive, per workflow', `${n.eventsPerDocument} history events, ${n.roundTripsPerDocument} server round trips, `);
  line('', `${n.dbOperationsPerDocument} database operations`);
  const cpu = (b: Burst | NaiveBurst) =>
    `server ${b.cpuServerMs}, workers ${b.cpuWorkersMs}, APIs ${b.cpuApisMs}, client ${b.cpuBenchMs}`;
  line('CPU ms per document', cpu(p));
  line('naive, CPU ms', cpu(n));
  line('duplicates received', String(p.duplicates));
  if (p.workerRssMb) line('worker RSS', `${p.workerRssMb} MiB after the burst`);
  if (o) {
    line(`${o.documents} open documents`, `worker RSS ${o.workerRssBeforeMb} -> ${o.workerRssOpenMb} MiB open`);
    line('', `-> ${o.workerRssClosedMb} MiB once redelivered and closed`);
    line('', `pending at ${o.openedPerSecond} docs/s, redelivered at ${o.redeliveredPerSecond} docs/s`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
