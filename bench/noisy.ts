import { always, startReceiver, type Behaviour, type Receiver } from '../test/helpers/receiver';
import { ADMIN_KEY, apiClient, type TestStack } from '../test/helpers/stack';
import { endToEnd, firstArrivals, inParallel, paced, percentile, until } from './measure';

// `npm run bench -- --noisy`: what one customer's failing endpoint costs another (issue 17). A healthy customer gets
// HEALTHY documents at RATE a second, alone and then right after a neighbour was sent NEIGHBOUR documents at once,
// for three neighbours: one that never answers, one that answers 500 after 10 s, one that resets every connection;
// and first beside a healthy neighbour sent as many, the control: what the volume alone costs.
// Printed: the healthy customer's submit -> received p50/p99 alone and beside each, their ratio (target <= 2), and
// what became of the neighbour's documents (each must have its first attempt, sent or skipped by the breaker, and
// none be lost). Every endpoint's schedule is 1h, so only first attempts run while it is measured.

const HEALTHY = 60;
const RATE = 4;
const DEADLINE_MS = 600_000;

type Api = ReturnType<typeof apiClient>;

const NEIGHBOURS: { name: string; behaviour: Behaviour }[] = [
  // The control: the same burst to an endpoint that works. What it costs is the burst's volume, not a failure.
  { name: 'healthy (control)', behaviour: always(200) },
  { name: 'never answers', behaviour: () => 'hang' },
  { name: '500 after 10 s', behaviour: () => ({ status: 500, delayMs: 10_000 }) },
  { name: 'resets', behaviour: () => 'reset' },
];

async function customer(api: Api, id: string, receiver: Receiver): Promise<string> {
  const created = await api('POST', '/v1/customers', ADMIN_KEY, { id, name: id });
  if (created.status !== 201) throw new Error(`create ${id}: ${created.status}`);
  const key = created.body.apiKeys.production as string;
  const put = await api('PUT', '/v1/production/webhook', key, { url: receiver.url, retrySchedule: '1h' });
  if (put.status !== 200) throw new Error(`webhook ${id}: ${put.status}`);
  return key;
}

const submit = (api: Api, customerId: string) => async (id: string) => {
  const res = await api('POST', '/v1/production/documents', ADMIN_KEY, {
    customerId,
    id,
    type: 'event',
    data: { id, padding: 'x'.repeat(1024) },
  });
  if (res.status !== 202) throw new Error(`submit ${id}: ${res.status} ${JSON.stringify(res.body)}`);
};

/** The healthy customer's paced documents, submit -> received. */
async function healthyLoad(api: Api, receiver: Receiver, prefix: string) {
  const submittedAt = await paced(prefix, HEALTHY, RATE, submit(api, 'healthy'));
  await until(`${prefix} delivered`, () => endToEnd(receiver, submittedAt).length >= HEALTHY, DEADLINE_MS);
  const latency = endToEnd(receiver, submittedAt);
  return { p50Ms: percentile(latency, 50), p99Ms: percentile(latency, 99), slowest: slowest(receiver, submittedAt) };
}

/** The three slowest documents: when each was submitted (seconds into the load) and how long it took, for a tail. */
function slowest(receiver: Receiver, submittedAt: Map<string, number>): string {
  const t0 = Math.min(...submittedAt.values());
  return [...firstArrivals(receiver, submittedAt)]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([id, ms]) => `${ms} ms at ${((submittedAt.get(id)! - t0) / 1000).toFixed(1)} s`)
    .join(', ');
}

/** What became of every neighbour document: its first attempt sent, skipped by the breaker, or not there (lost). */
async function neighbourOutcome(api: Api, customerId: string, ids: string[]) {
  const seen = new Map<string, { status: string; attempts: { skipped?: string; error?: string }[] }>();
  await until(
    'every neighbour document attempted once',
    async () => {
      const open = ids.filter((id) => !(seen.get(id)?.attempts.length ?? 0));
      const read = async (id: string) => {
        const res = await api('GET', `/v1/production/customers/${customerId}/documents/${id}`, ADMIN_KEY);
        seen.set(id, res.status === 200 ? res.body : { status: `HTTP ${res.status}`, attempts: [] });
      };
      for (let i = 0; i < open.length; i += 20) await Promise.all(open.slice(i, i + 20).map(read));
      return ids.every((id) => (seen.get(id)?.attempts.length ?? 0) > 0);
    },
    DEADLINE_MS,
  );
  const states = [...seen.values()];
  return {
    sent: states.filter((s) => s.attempts.length === 1 && !s.attempts[0].skipped).length,
    skippedByBreaker: states.filter((s) => s.attempts[0]?.skipped === 'breaker_open').length,
    skippedShareFull: states.filter((s) => s.attempts[0]?.skipped === 'share_full').length,
    retrying: states.filter((s) => s.status === 'retrying').length,
    delivered: states.filter((s) => s.status === 'delivered').length,
    lost: states.filter((s) => s.status.startsWith('HTTP') || s.attempts.length !== 1).length,
  };
}

export async function benchNoisy(stack: TestStack, neighbourDocuments: number) {
  const api = apiClient(stack.baseUrl);
  const healthy = await startReceiver(always(200));
  const receivers: Receiver[] = [healthy];
  try {
    await customer(api, 'healthy', healthy);
    // A first load warms the stack (bundles, connections); the reference is the one after it.
    await healthyLoad(api, healthy, 'warm_');
    const alone = await healthyLoad(api, healthy, 'alone_');
    const beside = [];
    for (const [n, neighbour] of NEIGHBOURS.entries()) {
      const receiver = await startReceiver(neighbour.behaviour);
      receivers.push(receiver);
      const customerId = `noisy-${n}`;
      await customer(api, customerId, receiver);
      const t0 = Date.now();
      const submitted = await inParallel(`n${n}_`, neighbourDocuments, 50, submit(api, customerId));
      const burstSubmittedInMs = Date.now() - t0;
      const load = await healthyLoad(api, healthy, `beside${n}_`);
      const outcome = await neighbourOutcome(api, customerId, [...submitted.keys()]);
      beside.push({
        neighbour: neighbour.name,
        documents: neighbourDocuments,
        burstSubmittedInMs,
        ...load,
        ratioP50: Number((load.p50Ms / alone.p50Ms).toFixed(2)),
        ratioP99: Number((load.p99Ms / alone.p99Ms).toFixed(2)),
        neighbourRequests: receiver.received.length,
        neighbourMostInFlight: receiver.mostOpen(),
        ...outcome,
      });
    }
    return { healthyDocuments: HEALTHY, healthyRate: RATE, alone, beside };
  } finally {
    for (const receiver of receivers) await receiver.close();
  }
}

export function printNoisy(result: Awaited<ReturnType<typeof benchNoisy>>) {
  const { alone, beside } = result;
  const line = (label: string, text: string) => console.log(`${label.padEnd(26)}${text}`);
  line('healthy customer', `${result.healthyDocuments} documents at ${result.healthyRate}/s, submit -> received`);
  line('alone', `p50 ${alone.p50Ms} ms  p99 ${alone.p99Ms} ms`);
  for (const b of beside) {
    line(`beside: ${b.neighbour}`, `p50 ${b.p50Ms} ms  p99 ${b.p99Ms} ms  ratio p50 ${b.ratioP50}, p99 ${b.ratioP99}`);
    line('', `slowest: ${b.slowest}`);
    line('', `neighbour: ${b.documents} documents submitted in ${(b.burstSubmittedInMs / 1000).toFixed(1)} s;`);
    line('', `${b.neighbourRequests} requests reached it, at most ${b.neighbourMostInFlight} at once;`);
    line('', `first attempts: ${b.sent} sent, ${b.skippedByBreaker} skipped by the breaker,`);
    line('', `${b.skippedShareFull} skipped with the share full; ${b.delivered} delivered,`);
    line('', `${b.retrying} retrying in 1h, ${b.lost} lost`);
  }
}
