import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { readCallsOf } from '../helpers/server-calls';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

// What a page of the message log and an endpoint's stats cost Temporal's visibility, whose rate is the namespace's,
// shared by every customer (issue 27): a page is two listings and one more naming its rows' deliveries to the other
// endpoints (1,000 ids a listing), never a search by counts; the stats are 12 counts, answered again for a few seconds
// without any. Measured by the server's own request counters around one request, while nothing else runs.

const DOCUMENTS = 60;
const INVOICES = 3;

describe('a page of the log and the stats cost a few visibility calls, whatever the endpoints', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let receiver: Receiver;
  let key: string;
  const endpointIds: string[] = [];

  before(async () => {
    stack = await startTestStack();
    api = apiClient(stack.baseUrl);
    receiver = await startReceiver(always(200));
    assert.equal(
      (await api('POST', '/v1/event-types', ADMIN_KEY, { name: 'invoice.paid', kind: 'event' })).status,
      201,
    );
    key = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'logco', name: 'Log Co' })).body.apiKeys.production;
    assert.equal((await api('PUT', '/v1/production/webhook', key, { url: receiver.url })).status, 200);
    while (endpointIds.length < 19) {
      const res = await api('POST', '/v1/production/endpoints', key, { url: receiver.url, filterTypes: ['invoice.*'] });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      endpointIds.push(res.body.id);
    }
    for (let n = 0; n < DOCUMENTS; n++) {
      const res = await api('POST', '/v1/production/documents', ADMIN_KEY, {
        customerId: 'logco',
        id: `doc_${String(n).padStart(3, '0')}`,
        type: 'event',
        ...(n < INVOICES ? { eventType: 'invoice.paid' } : {}),
        data: { n },
      });
      assert.equal(res.status, 202);
    }
    // Every delivery made and in visibility: nothing runs while the calls are counted.
    await waitFor('every delivery', async () => assert.equal(receiver.received.length, DOCUMENTS + INVOICES * 19));
    await waitFor('the log complete', async () => {
      const page = await api('GET', '/v1/production/documents?limit=100', key);
      assert.equal(page.body.data.length, DOCUMENTS);
      assert.ok(
        page.body.data.every((d: { status: string }) => d.status === 'delivered'),
        'not all delivered yet',
      );
      const invoice = page.body.data.find((d: { id: string }) => d.id === 'doc_000');
      assert.equal(invoice.endpoints?.filter((e: { status: string }) => e.status === 'delivered').length, 20);
    });
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  it('a page is two listings and one naming its deliveries; no count', async () => {
    const first = await readCallsOf(stack.metricsUrl, () => api('GET', '/v1/production/documents?limit=50', key));
    assert.equal(first.result.status, 200);
    assert.equal(first.calls.CountWorkflowExecutions, 0, 'no search by counts');
    // 50 rows at 19 other endpoints: 950 ids, one listing.
    assert.equal(first.calls.ListWorkflowExecutions, 3);
    // The customer's entity, read to check the key and to know its endpoints: one describe serves both.
    assert.equal(first.calls.DescribeWorkflowExecution, 1, 'the entity described once');
    const cursor = first.result.body.nextCursor as string;
    assert.ok(cursor);
    const second = await readCallsOf(stack.metricsUrl, () =>
      api('GET', `/v1/production/documents?limit=50&cursor=${encodeURIComponent(cursor)}`, key),
    );
    assert.equal(second.calls.CountWorkflowExecutions, 0);
    assert.ok(second.calls.ListWorkflowExecutions <= 3, `${second.calls.ListWorkflowExecutions} listings`);
    const ids = [...first.result.body.data, ...second.result.body.data].map((d: { id: string }) => d.id);
    assert.deepEqual(
      ids,
      Array.from({ length: DOCUMENTS }, (_, n) => `doc_${String(DOCUMENTS - 1 - n).padStart(3, '0')}`),
      'every document once, newest first',
    );
    assert.equal(second.result.body.nextCursor, undefined);
    // The invoices' row shows each delivery.
    const invoice = second.result.body.data.find((d: { id: string }) => d.id === 'doc_000');
    assert.equal(invoice.endpoints.length, 20);
  });

  it("an endpoint's stats are 12 counts, and answered again for a few seconds without any", async () => {
    const path = `/v1/production/endpoints/${endpointIds[0]}/stats`;
    const counted = await readCallsOf(stack.metricsUrl, () => api('GET', path, key));
    assert.equal(counted.result.status, 200);
    assert.equal(counted.result.body['24h'].delivered, INVOICES);
    assert.equal(counted.visibility, 12);
    const again = await readCallsOf(stack.metricsUrl, () => api('GET', path, key));
    assert.deepEqual(again.result.body, counted.result.body);
    assert.equal(again.visibility, 0);
  });
});
