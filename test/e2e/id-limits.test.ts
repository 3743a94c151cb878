import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '../../scripts/lib/stack';
import { generateWebhookSecret } from '../../src/lib/signature';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

const OPERATOR_SECRET = generateWebhookSecret();
/** The longest customer id the API takes, and the longest document id it leaves room for. */
const CUSTOMER = `tenant-${'0123456789'.repeat(13)}`.slice(0, 128);
const LONGEST = `doc-${'abcdefghij'.repeat(7)}`.slice(0, 62);

// The dev server of every stack enforces the engine's id limit as docker-compose and the cluster do
// (limit.maxIDLength=255), so ids that would fail on a production cluster fail here too.
describe('the longest ids the API accepts, on a Temporal server that enforces limit.maxIDLength=255', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let first: Receiver;
  let second: Receiver;
  let failing: Receiver;
  let operator: Receiver;

  before(async () => {
    [first, second, failing, operator] = await Promise.all([
      startReceiver(always(200)),
      startReceiver(always(200)),
      startReceiver(always(500)),
      startReceiver(always(200)),
    ]);
    stack = await startTestStack({
      DELIVERY_TIMEOUT: '2s',
      PROBE_MIN_INTERVAL: '1h',
      NOTIFICATION_WINDOW: '1s',
      OPERATOR_WEBHOOK_URL: operator.url,
      OPERATOR_WEBHOOK_SECRET: OPERATOR_SECRET,
    });
    api = apiClient(stack.baseUrl);
  });
  after(async () => {
    await Promise.all([first, second, failing, operator].map((r) => r?.close()));
    await stack?.stop();
  });

  it('the server refuses a workflow id of 256 characters', async () => {
    const client = await stack.temporalClient();
    try {
      await assert.rejects(
        client.workflow.start('deliverDocument', { taskQueue: 'nobody', workflowId: 'x'.repeat(256), args: [] }),
        (err: Error & { cause?: { details?: string } }) =>
          /WorkflowId length exceeds limit/.test(String(err.cause?.details)),
      );
    } finally {
      await client.connection.close();
    }
  });

  it('delivers a document with the longest ids to each endpoint, tells the operator of its failure at a third, and refuses one character more', async () => {
    assert.equal(CUSTOMER.length, 128);
    const created = await api('POST', '/v1/customers', ADMIN_KEY, { id: CUSTOMER, name: 'Long Id Co' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const key = created.body.apiKeys.production;
    assert.equal((await api('PUT', '/v1/production/webhook', key, { url: first.url })).status, 200);
    const added = await api('POST', '/v1/production/endpoints', key, { url: second.url });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const broken = await api('POST', '/v1/production/endpoints', key, { url: failing.url, retrySchedule: '1s' });
    assert.equal(broken.status, 201, JSON.stringify(broken.body));

    const submit = (id: string) =>
      api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: CUSTOMER, id, type: 'event', data: { id } });
    assert.deepEqual(await submit(LONGEST), { status: 202, body: { id: LONGEST, status: 'sending' } });
    for (const id of [`${LONGEST}x`, 'd'.repeat(128)]) {
      const refused = await submit(id);
      assert.equal(refused.status, 400, `${id.length}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error.code, 'validation_failed');
      assert.deepEqual(
        refused.body.error.details.map((d: { path: string }) => d.path),
        ['body.id'],
      );
      assert.match(refused.body.error.message, /^body\.id: at most 62 characters for this customer/);
    }

    await waitFor('the document at both endpoints', async () => {
      for (const receiver of [first, second]) {
        assert.deepEqual(
          receiver.received.map((r) => r.headers['webhook-id']),
          [LONGEST],
        );
      }
    });
    const events = () =>
      operator.received.map(
        (r) =>
          new Webhook(OPERATOR_SECRET).verify(r.body, r.headers as Record<string, string>) as {
            type: string;
            data: { customerId: string; documentId?: string };
          },
      );
    // Its event's id holds the customer, the endpoint and the document: longer than the limit, its workflow's is not.
    await waitFor('the operator told of the exhausted document', async () => {
      const exhausted = events().find((e) => e.type === 'document.exhausted');
      assert.deepEqual(exhausted?.data.documentId, LONGEST, JSON.stringify(events()));
      assert.equal(exhausted?.data.customerId, CUSTOMER);
    });
    const document = await api('GET', `/v1/production/documents/${LONGEST}`, key);
    assert.equal(document.status, 200, JSON.stringify(document.body));
    assert.equal(document.body.status, 'delivered');
    assert.equal((await api('GET', `/v1/production/documents/${LONGEST}x`, key)).status, 404);
    // Nothing of the refused documents reached anyone.
    assert.equal(first.received.length + second.received.length, 2);
  });
});
