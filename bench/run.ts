import { readFileSync } from 'node:fs';
import { always, startReceiver } from '../test/helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack } from '../test/helpers/stack';

// `npm run bench`: submits documents through the API of a real local stack and prints throughput, latencies and
// the worker's memory. Figures only; nothing here asserts a speed.
const DOCUMENTS = Number(process.argv[2] ?? 300);
const CONCURRENCY = Number(process.argv[3] ?? 20);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function rssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function main(): Promise<void> {
  const stack = await startTestStack({ LOG_LEVEL: 'warn' });
  const receiver = await startReceiver(always(200));
  const api = apiClient(stack.baseUrl);
  try {
    const created = await api('POST', '/v1/customers', ADMIN_KEY, { id: 'bench', name: 'Bench' });
    await api('PUT', '/v1/production/webhook', created.body.apiKeys.production, { url: receiver.url });

    const submittedAt = new Map<string, number>();
    const submitLatency: number[] = [];
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < DOCUMENTS) {
          const id = `doc_${next++}`;
          const t0 = Date.now();
          submittedAt.set(id, t0);
          const res = await api('POST', '/v1/production/documents', ADMIN_KEY, {
            customerId: 'bench',
            id,
            type: 'event',
            data: { n: id, padding: 'x'.repeat(1024) },
          });
          if (res.status !== 202) throw new Error(`submit ${id}: ${res.status}`);
          submitLatency.push(Date.now() - t0);
        }
      }),
    );
    const submitted = Date.now();
    while (new Set(receiver.received.map((r) => r.headers['webhook-id'])).size < DOCUMENTS) {
      if (Date.now() - submitted > 120_000) throw new Error('deliveries did not finish in 2 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    const finished = Date.now();
    const endToEnd = receiver.received
      .map((r) => r.at - submittedAt.get(String(r.headers['webhook-id']))!)
      .sort((a, b) => a - b);
    submitLatency.sort((a, b) => a - b);

    console.log(`documents            ${DOCUMENTS} (concurrency ${CONCURRENCY}, 1 KiB each, one worker, one API)`);
    console.log(`submit throughput    ${((DOCUMENTS / (submitted - started)) * 1000).toFixed(1)} docs/s`);
    console.log(`delivery throughput  ${((DOCUMENTS / (finished - started)) * 1000).toFixed(1)} docs/s`);
    console.log(
      `submit latency       p50 ${percentile(submitLatency, 50)} ms  p95 ${percentile(submitLatency, 95)} ms  p99 ${percentile(submitLatency, 99)} ms`,
    );
    console.log(
      `submit -> received   p50 ${percentile(endToEnd, 50)} ms  p95 ${percentile(endToEnd, 95)} ms  max ${endToEnd.at(-1)} ms`,
    );
    console.log(`duplicates received  ${receiver.received.length - DOCUMENTS}`);
    console.log(`worker RSS           ${rssMb(stack.workerPid()).toFixed(0)} MiB`);
  } catch (err) {
    console.error(stack.logs('worker').split('\n').slice(-40).join('\n'));
    throw err;
  } finally {
    await receiver.close();
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
