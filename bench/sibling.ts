import { always, startReceiver, type Behaviour, type Receiver } from '../test/helpers/receiver';
import { ADMIN_KEY, apiClient, type TestStack } from '../test/helpers/stack';
import { endToEnd, paced, percentile, until } from './measure';

// `npm run bench -- --sibling`: what a customer's webhook that never answers costs the customer's other endpoint
// (issue 27). Two customers, each with a webhook and one more endpoint that answers 200 at once: the reference's
// webhook answers 200 too, the other's accepts the connection and never answers (DELIVERY_TIMEOUT, 15 s, is what
// each of its requests waits). DOCUMENTS documents at RATE a second to each, one customer after the other; printed:
// submit -> received at the other endpoint, p50 and p99, for both, and their ratio (target about 1: before routing
// came first, every document reached the other endpoint a whole DELIVERY_TIMEOUT late, 15.1 s).

const DOCUMENTS = 20;
const RATE = 5;
const DEADLINE_MS = 120_000;

type Api = ReturnType<typeof apiClient>;

async function customerWith(api: Api, id: string, webhook: Receiver, other: Receiver): Promise<void> {
  const created = await api('POST', '/v1/customers', ADMIN_KEY, { id, name: id });
  if (created.status !== 201) throw new Error(`create ${id}: ${created.status}`);
  const key = created.body.apiKeys.production as string;
  const put = await api('PUT', '/v1/production/webhook', key, { url: webhook.url, retrySchedule: '1h' });
  if (put.status !== 200) throw new Error(`webhook ${id}: ${put.status}`);
  const second = await api('POST', '/v1/production/endpoints', key, { url: other.url, retrySchedule: '1h' });
  if (second.status !== 201) throw new Error(`endpoint ${id}: ${second.status}`);
}

/** The other endpoint's submit -> received times for DOCUMENTS documents to a customer whose webhook behaves so. */
async function load(api: Api, customerId: string, webhookBehaviour: Behaviour) {
  const [webhook, other] = [await startReceiver(webhookBehaviour), await startReceiver(always(200))];
  try {
    await customerWith(api, customerId, webhook, other);
    const submittedAt = await paced(`${customerId}_`, DOCUMENTS, RATE, async (id) => {
      const res = await api('POST', '/v1/production/documents', ADMIN_KEY, {
        customerId,
        id,
        type: 'event',
        data: { id },
      });
      if (res.status !== 202) throw new Error(`submit ${id}: ${res.status}`);
    });
    await until('the other endpoint has every document', () => other.received.length >= DOCUMENTS, DEADLINE_MS);
    const latency = endToEnd(other, submittedAt);
    return {
      p50Ms: percentile(latency, 50),
      p99Ms: percentile(latency, 99),
      webhookRequestsStillOpen: webhook.open(),
    };
  } finally {
    await webhook.close();
    await other.close();
  }
}

export async function benchSibling(stack: TestStack) {
  const api = apiClient(stack.baseUrl);
  // A first load warms the stack (bundles, connections); the reference is the one after it.
  await load(api, 'sibling-warm', always(200));
  const reference = await load(api, 'sibling-ref', always(200));
  const hanging = await load(api, 'sibling-hang', () => 'hang');
  return {
    documents: DOCUMENTS,
    rate: RATE,
    deliveryTimeoutMs: stack.config.DELIVERY_TIMEOUT,
    reference,
    hanging,
    ratioP50: Number((hanging.p50Ms / reference.p50Ms).toFixed(2)),
    ratioP99: Number((hanging.p99Ms / reference.p99Ms).toFixed(2)),
  };
}

export function printSibling(result: Awaited<ReturnType<typeof benchSibling>>) {
  const line = (label: string, text: string) => console.log(`${label.padEnd(30)}${text}`);
  line('other endpoint', `${result.documents} documents at ${result.rate}/s, submit -> received`);
  line('webhook answers 200', `p50 ${result.reference.p50Ms} ms  p99 ${result.reference.p99Ms} ms`);
  line('webhook never answers', `p50 ${result.hanging.p50Ms} ms  p99 ${result.hanging.p99Ms} ms`);
  line('', `ratio p50 ${result.ratioP50}, p99 ${result.ratioP99}`);
  line('', `(DELIVERY_TIMEOUT ${result.deliveryTimeoutMs} ms; webhook requests still open when measured:`);
  line('', ` ${result.hanging.webhookRequestsStillOpen} of ${result.documents})`);
}
