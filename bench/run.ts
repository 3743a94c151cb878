import { readFileSync } from 'node:fs';
import { NativeConnection, Worker } from '@temporalio/worker';
import { deliveryWorkflowId } from '../src/domain/ids';
import { dataConverter } from '../src/lib/temporal';
import { always, startReceiver, type Receiver } from '../test/helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../test/helpers/stack';
import { createNaiveActivities } from './naive/activities';

// `npm run bench [documents] [concurrency] [--json]`: on one real local stack, the product's delivered docs/s beside
// the naive ceiling measured on the same server in the same run (a trivial workflow calling one POST activity to the
// same receiver), their ratio, latencies, history events per document and the worker's memory. Figures only: this
// machine is shared and noisy, so compare ratios within a run, never absolute numbers across runs.
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const JSON_OUTPUT = process.argv.includes('--json');
const DOCUMENTS = Number(args[0] ?? 300);
const CONCURRENCY = Number(args[1] ?? 20);
const DEADLINE_MS = 180_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function rssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** Runs `work` for ids 0..count-1 with at most `width` at a time; returns each one's start time. */
async function inParallel(count: number, width: number, work: (id: string) => Promise<void>) {
  const startedAt = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const id = `doc_${next++}`;
        startedAt.set(id, Date.now());
        await work(id);
      }
    }),
  );
  return startedAt;
}

async function untilReceived(receiver: Receiver, count: number, since: number) {
  while (new Set(receiver.received.map((r) => r.headers['webhook-id'])).size < count) {
    if (Date.now() - since > DEADLINE_MS) throw new Error(`not all ${count} delivered in ${DEADLINE_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now();
}

/** The product: documents through the API, delivered by the worker process. */
async function product(stack: TestStack) {
  const receiver = await startReceiver(always(200));
  const api = apiClient(stack.baseUrl);
  try {
    const created = await api('POST', '/v1/customers', ADMIN_KEY, { id: 'bench', name: 'Bench' });
    await api('PUT', '/v1/production/webhook', created.body.apiKeys.production, { url: receiver.url });
    const submitLatency: number[] = [];
    const started = Date.now();
    const submittedAt = await inParallel(DOCUMENTS, CONCURRENCY, async (id) => {
      const t0 = Date.now();
      const res = await api('POST', '/v1/production/documents', ADMIN_KEY, {
        customerId: 'bench',
        id,
        type: 'event',
        data: { n: id, padding: 'x'.repeat(1024) },
      });
      if (res.status !== 202) throw new Error(`submit ${id}: ${res.status}`);
      submitLatency.push(Date.now() - t0);
    });
    const finished = await untilReceived(receiver, DOCUMENTS, started);
    const endToEnd = receiver.received
      .map((r) => r.at - submittedAt.get(String(r.headers['webhook-id']))!)
      .sort((a, b) => a - b);
    submitLatency.sort((a, b) => a - b);
    const client = await stack.temporalClient();
    const history = await client.workflow.getHandle(deliveryWorkflowId('production', 'bench', 'doc_0')).fetchHistory();
    await client.connection.close();
    return {
      docsPerSecond: (DOCUMENTS / (finished - started)) * 1000,
      submitP50Ms: percentile(submitLatency, 50),
      submitP99Ms: percentile(submitLatency, 99),
      receivedP50Ms: percentile(endToEnd, 50),
      receivedP99Ms: percentile(endToEnd, 99),
      duplicates: receiver.received.length - DOCUMENTS,
      eventsPerDocument: history.events?.length ?? 0,
      workerRssMb: Math.round(rssMb(stack.workerPid())),
    };
  } finally {
    await receiver.close();
  }
}

/** The naive ceiling: a trivial workflow calling one POST activity, started straight from a client. */
async function naive(stack: TestStack) {
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
  try {
    const started = Date.now();
    await inParallel(DOCUMENTS, CONCURRENCY, async (id) => {
      await client.workflow.start('naiveDelivery', {
        taskQueue: 'bench-naive',
        workflowId: `naive-${id}`,
        args: [receiver.url, id],
      });
    });
    const finished = await untilReceived(receiver, DOCUMENTS, started);
    const history = await client.workflow.getHandle('naive-doc_0').fetchHistory();
    return {
      docsPerSecond: (DOCUMENTS / (finished - started)) * 1000,
      eventsPerDocument: history.events?.length ?? 0,
    };
  } finally {
    worker.shutdown();
    await running;
    await client.connection.close();
    await connection.close();
    await receiver.close();
  }
}

async function main(): Promise<void> {
  const stack = await startTestStack({ LOG_LEVEL: 'warn' });
  try {
    const ours = await product(stack);
    const ceiling = await naive(stack);
    const result = {
      at: new Date().toISOString(),
      documents: DOCUMENTS,
      concurrency: CONCURRENCY,
      product: ours,
      naive: ceiling,
      ratio: Number((ours.docsPerSecond / ceiling.docsPerSecond).toFixed(2)),
    };
    if (JSON_OUTPUT) {
      console.log(JSON.stringify(result));
      return;
    }
    const f = (n: number) => n.toFixed(1);
    console.log(`documents            ${DOCUMENTS} (concurrency ${CONCURRENCY}, 1 KiB each, one worker, one API)`);
    console.log(`delivered            ${f(ours.docsPerSecond)} docs/s`);
    console.log(`naive ceiling        ${f(ceiling.docsPerSecond)} workflows/s (one POST activity, same server)`);
    console.log(`ratio                ${result.ratio} of the naive ceiling`);
    console.log(`submit latency       p50 ${ours.submitP50Ms} ms  p99 ${ours.submitP99Ms} ms`);
    console.log(`submit -> received   p50 ${ours.receivedP50Ms} ms  p99 ${ours.receivedP99Ms} ms (a burst)`);
    console.log(`history events       ${ours.eventsPerDocument} per document (naive: ${ceiling.eventsPerDocument})`);
    console.log(`duplicates received  ${ours.duplicates}`);
    console.log(`worker RSS           ${ours.workerRssMb} MiB`);
  } catch (err) {
    console.error(stack.logs('worker').split('\n').slice(-40).join('\n'));
    throw err;
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
