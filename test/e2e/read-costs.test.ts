import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { frontendCalls, readCallsOf, type ReadOperation } from '../helpers/server-calls';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

// What a read of one document costs the Temporal server, at a customer with 20 endpoints whose documents go to two of
// them (issue 27): it pays for the deliveries the document has, never for the endpoints the customer has. Measured by
// the server's own request counters (the frontend's, by operation) around one request, while nothing else runs.

/** Calls that are not visibility's: describes, queries and history reads of the deliveries. */
const workflowReads = (calls: Record<ReadOperation, number>) =>
  calls.DescribeWorkflowExecution +
  calls.QueryWorkflow +
  calls.GetWorkflowExecutionHistory +
  calls.PollWorkflowExecutionHistory;

/**
 * The bound a customer's request on one document keeps: the key's check and the customer's record (a describe each),
 * the document's own delivery (a describe, then its state: a query or the ended run's result), two reads per other
 * delivery it has, and (counted apart) one visibility listing for the deliveries a resend started at endpoints it was
 * never routed to. For a customer with one endpoint that is 4 reads, what a document read always cost.
 */
const perDocument = (deliveries: number) => 4 + 2 * deliveries;

type Delivery = { endpointId: string; status: string };

describe('reads cost what a document has, not what its customer has', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  /** Failing receivers: the first endpoint, the one for shipments, and one the documents are never routed to. */
  let first: Receiver;
  let shipments: Receiver;
  let late: Receiver;
  /** Every other endpoint (for invoices) answers here. */
  let invoices: Receiver;
  let solo: Receiver;
  let key: string;
  let shipmentsId: string;
  let lateId: string;
  let okId: string;
  const endpointIds: string[] = [];
  const calls: Record<string, unknown> = {};

  before(async () => {
    stack = await startTestStack({ DELIVERY_TIMEOUT: '2s', PROBE_MIN_INTERVAL: '1h', NOTIFICATION_WINDOW: '1h' });
    api = apiClient(stack.baseUrl);
    [first, shipments, late, invoices, solo] = await Promise.all([
      startReceiver(always(500)),
      startReceiver(always(500)),
      startReceiver(always(500)),
      startReceiver(always(200)),
      startReceiver(always(200)),
    ]);
    for (const name of ['shipment.delivered', 'invoice.paid']) {
      assert.equal((await api('POST', '/v1/event-types', ADMIN_KEY, { name, kind: 'event' })).status, 201);
    }
    key = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'manyco', name: 'Many Co' })).body.apiKeys.production;
    const webhook = await api('PUT', '/v1/production/webhook', key, { url: first.url, retrySchedule: '1s' });
    assert.equal(webhook.status, 200, JSON.stringify(webhook.body));
    const add = async (body: Record<string, unknown>) => {
      const res = await api('POST', '/v1/production/endpoints', key, body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      endpointIds.push(res.body.id);
      return res.body.id as string;
    };
    shipmentsId = await add({ url: shipments.url, filterTypes: ['shipment.*'], retrySchedule: '1s' });
    lateId = await add({ url: late.url, filterTypes: ['invoice.*'], retrySchedule: '1s' });
    okId = await add({ url: invoices.url, filterTypes: ['invoice.*'] });
    while (endpointIds.length < 19) await add({ url: invoices.url, filterTypes: ['invoice.*'] });
    assert.equal((await api('GET', '/v1/production/endpoints', key)).body.data.length, 20);
  });
  after(async () => {
    await Promise.all([first, shipments, late, invoices, solo].map((r) => r?.close()));
    await stack?.stop();
    console.log('read costs', JSON.stringify(calls));
  });

  const submit = (id: string) =>
    api('POST', '/v1/production/documents', ADMIN_KEY, {
      customerId: 'manyco',
      id,
      type: 'event',
      eventType: 'shipment.delivered',
      data: { n: id },
    });
  const document = async (id: string) => (await api('GET', `/v1/production/documents/${id}`, key)).body;
  const statusAt = (doc: { status: string; endpoints: Delivery[] }) =>
    Object.fromEntries(doc.endpoints.map((e) => [e.endpointId, e.status]));
  const resendTo = async (id: string, endpointId: string) => {
    const res = await api('POST', `/v1/production/documents/${id}/endpoints/${endpointId}/resend`, key);
    assert.equal(res.status, 202, JSON.stringify(res.body));
  };
  const received = (receiver: Receiver, id: string) =>
    receiver.received.filter((r) => r.headers['webhook-id'] === id).length;

  /**
   * A document routed to the first endpoint and the one for shipments (18 endpoints take invoices only), pending at
   * both, then resent by the customer to `lateId` (failing: pending there too) and, with `okId`, there (delivered).
   */
  async function pendingAtThree(id: string, okId?: string): Promise<void> {
    assert.equal((await submit(id)).status, 202);
    await waitFor(`${id} pending where it was routed`, async () => {
      assert.deepEqual(statusAt(await document(id)), { ep_default: 'pending', [shipmentsId]: 'pending' });
    });
    await resendTo(id, lateId);
    if (okId) await resendTo(id, okId);
    await waitFor(`${id} pending where it was resent`, async () => {
      assert.deepEqual(statusAt(await document(id)), {
        ep_default: 'pending',
        [shipmentsId]: 'pending',
        [lateId]: 'pending',
        ...(okId ? { [okId]: 'delivered' } : {}),
      });
    });
  }

  it('a customer with one endpoint: a document read costs what it always did', async () => {
    const soloKey = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'soloco', name: 'Solo' })).body.apiKeys
      .production;
    assert.equal((await api('PUT', '/v1/production/webhook', soloKey, { url: solo.url })).status, 200);
    assert.equal(
      (
        await api('POST', '/v1/production/documents', ADMIN_KEY, {
          customerId: 'soloco',
          id: 'one',
          type: 'event',
          data: {},
        })
      ).status,
      202,
    );
    await waitFor('delivered', async () => {
      assert.equal((await api('GET', '/v1/production/documents/one', soloKey)).body.status, 'delivered');
    });
    const read = await readCallsOf(stack.metricsUrl, () => api('GET', '/v1/production/documents/one', soloKey));
    calls.soloGet = read.calls;
    assert.equal(read.result.body.endpoints, undefined);
    // The key's check and the customer's record (one describe: a GET shares its reads) and its own delivery (a
    // describe, and the ended run's result): one read fewer than a write's, and no visibility.
    assert.equal(workflowReads(read.calls), perDocument(0) - 1, JSON.stringify(read.calls));
    assert.equal(read.visibility, 0);
  });

  it('GET /documents/{id} reads the deliveries the document has, a resend-started one included', async () => {
    await pendingAtThree('d1', okId);
    const read = await readCallsOf(stack.metricsUrl, () => api('GET', '/v1/production/documents/d1', key));
    calls.get = read.calls;
    assert.equal(read.result.status, 200);
    const deliveries = read.result.body.endpoints.filter((e: Delivery) => e.endpointId !== 'ep_default');
    // The routed one, and the two a resend started at endpoints the document was never routed to.
    assert.deepEqual(statusAt(read.result.body), {
      ep_default: 'pending',
      [shipmentsId]: 'pending',
      [lateId]: 'pending',
      [okId]: 'delivered',
    });
    assert.equal(deliveries.length, 3);
    assert.ok(
      workflowReads(read.calls) <= perDocument(deliveries.length),
      `${workflowReads(read.calls)} reads for ${deliveries.length} deliveries: ${JSON.stringify(read.calls)}`,
    );
    assert.ok(read.visibility <= 1, JSON.stringify(read.calls));
  });

  it('pull and acknowledge everywhere read only where the document is', async () => {
    // Acknowledged at the first endpoint alone: pulled from wherever else it waits.
    assert.equal((await api('DELETE', '/v1/production/endpoints/ep_default/pending/d1', key)).status, 204);
    const pull = await readCallsOf(stack.metricsUrl, () => api('GET', '/v1/production/pending/d1', key));
    calls.pull = pull.calls;
    assert.deepEqual([pull.result.status, pull.result.body.data], [200, { n: 'd1' }]);
    assert.ok(workflowReads(pull.calls) <= perDocument(3), JSON.stringify(pull.calls));
    assert.ok(pull.visibility <= 1, JSON.stringify(pull.calls));

    const updatesBefore = (await frontendCalls(stack.metricsUrl)).UpdateWorkflowExecution ?? 0;
    const ack = await readCallsOf(stack.metricsUrl, () => api('DELETE', '/v1/production/pending/d1', key));
    const updates = ((await frontendCalls(stack.metricsUrl)).UpdateWorkflowExecution ?? 0) - updatesBefore;
    calls.acknowledge = { ...ack.calls, UpdateWorkflowExecution: updates };
    assert.equal(ack.result.status, 204);
    assert.ok(workflowReads(ack.calls) <= perDocument(3), JSON.stringify(ack.calls));
    assert.ok(ack.visibility <= 1, JSON.stringify(ack.calls));
    // An Update at most per delivery (the first endpoint's, then each other the document has), not per endpoint.
    assert.ok(updates <= 4, `${updates} updates`);
    // Acknowledged everywhere it waited, the resend-started delivery included.
    assert.deepEqual(statusAt(await document('d1')), {
      ep_default: 'acknowledged',
      [shipmentsId]: 'acknowledged',
      [lateId]: 'acknowledged',
      [okId]: 'delivered',
    });
    assert.equal((await api('GET', '/v1/production/pending/d1', key)).status, 404);
  });

  it('resend everywhere, one id or several, attempts where the document waits and reads nothing more', async () => {
    await pendingAtThree('d2');
    await pendingAtThree('d3');
    const receivers = [first, shipments, late];
    const countOf = (id: string) => receivers.map((r) => received(r, id));
    const sent = countOf('d2');
    // The API answers once each delivery took the request; the attempts (each reads its endpoint: one describe) are
    // waited for inside the measure, so what they read is counted too.
    const one = await readCallsOf(stack.metricsUrl, async () => {
      const res = await api('POST', '/v1/production/pending/d2/resend', key);
      await waitFor('d2 attempted at its three endpoints', async () => {
        assert.deepEqual(
          countOf('d2'),
          sent.map((n) => n + 1),
        );
      });
      return res;
    });
    calls.resend = one.calls;
    assert.equal(one.result.status, 202);
    assert.ok(workflowReads(one.calls) <= perDocument(2) + 3, JSON.stringify(one.calls));
    assert.ok(one.visibility <= 1, JSON.stringify(one.calls));

    const before = { d2: countOf('d2'), d3: countOf('d3') };
    // 120 ids, three pages of 50: d2 in the first, d3 in the third, the rest unknown.
    const unknown = Array.from({ length: 118 }, (_, i) => `nope-${i}`);
    const ids = ['d2', ...unknown.slice(0, 99), 'd3', ...unknown.slice(99)];
    const many = await readCallsOf(stack.metricsUrl, async () => {
      const res = await api('POST', '/v1/production/pending/resend', key, { ids });
      await waitFor('d2 and d3 attempted at their three endpoints', async () => {
        assert.deepEqual(
          countOf('d2'),
          before.d2.map((n) => n + 1),
        );
        assert.deepEqual(
          countOf('d3'),
          before.d3.map((n) => n + 1),
        );
      });
      return res;
    });
    calls.resendMany = many.calls;
    assert.deepEqual([many.result.status, many.result.body], [202, { count: 2, skipped: unknown }]);
    // The key's check and the customer's record once; per id its own delivery (an unknown one: a describe that finds
    // nothing) and two reads per other delivery; the six attempts' own reads. One listing per page with a document
    // that went elsewhere, never more than the pages.
    const bound = 2 + 2 * (2 + 2 * 2) + 2 * unknown.length + 6;
    assert.ok(
      workflowReads(many.calls) <= bound,
      `${workflowReads(many.calls)} > ${bound}: ${JSON.stringify(many.calls)}`,
    );
    assert.ok(many.visibility <= Math.ceil(ids.length / 50), JSON.stringify(many.calls));
    for (const id of ['d2', 'd3']) {
      assert.deepEqual(statusAt(await document(id)), {
        ep_default: 'pending',
        [shipmentsId]: 'pending',
        [lateId]: 'pending',
      });
    }
  });
});
