import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '../../scripts/lib/stack';
import { deliveryWorkflowId } from '../../src/domain/ids';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { listKeys, readObject } from '../helpers/s3';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

const MiB = 1024 * 1024;
const LIMIT = 5 * MiB;
const ENDPOINTS = 20;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

// A document at the body limit (5 MiB, the most MAX_BODY_BYTES allows) to a customer with 20 endpoints. Before the
// claim check each of the 19 child starts carried the whole document: the task was too large for the engine and was
// retried for ever, its first endpoint receiving the document at every try and the others never.
describe('end to end over HTTP: a document at the body limit to 20 endpoints (claim check)', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  const receivers: Receiver[] = [];
  const secrets: string[] = [];
  let key: string;
  let body: string;

  before(async () => {
    stack = await startTestStack({ MAX_BODY_BYTES: String(LIMIT), DELIVERY_TIMEOUT: '10s' });
    api = apiClient(stack.baseUrl);
    key = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'bigco', name: 'Big Co' })).body.apiKeys.production;
    for (let i = 0; i < ENDPOINTS; i++) receivers.push(await startReceiver(always(200)));
    const webhook = await api('PUT', '/v1/production/webhook', key, { url: receivers[0].url });
    secrets.push(webhook.body.secret);
    for (const receiver of receivers.slice(1)) {
      const created = await api('POST', '/v1/production/endpoints', key, { url: receiver.url });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      secrets.push(created.body.secret);
    }
    // A request body of exactly the limit.
    const envelope = (blob: string) =>
      JSON.stringify({ customerId: 'bigco', id: 'big-1', type: 'event', data: { blob } });
    body = envelope('x'.repeat(LIMIT - envelope('').length));
    assert.equal(Buffer.byteLength(body), LIMIT);
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await stack?.stop();
  });

  it('a body one byte over the limit is refused with 413, and nothing starts', async () => {
    const over = await api('POST', '/v1/production/documents', ADMIN_KEY, body.replace('"xx', '"xxx'));
    assert.equal(over.status, 413, JSON.stringify(over.body));
    const status = await api('GET', '/v1/production/documents/big-1', key);
    assert.equal(status.status, 404);
  });

  it('each of the 20 endpoints receives it once, whole and signed with its own secret', async () => {
    const submitted = await api('POST', '/v1/production/documents', ADMIN_KEY, body);
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    await waitFor(
      'the document at all 20 endpoints',
      async () => {
        const got = receivers.filter((r) => r.received.length > 0).length;
        assert.equal(got, ENDPOINTS, `${got} of ${ENDPOINTS} endpoints have it`);
      },
      120_000,
    );
    const document = await waitFor('every delivery delivered', async () => {
      const answer = await api('GET', '/v1/production/documents/big-1', key);
      const statuses = (answer.body.endpoints ?? []).map((d: { status: string }) => d.status);
      assert.deepEqual(statuses, Array(ENDPOINTS).fill('delivered'), JSON.stringify(statuses));
      return answer.body;
    });
    assert.equal(document.status, 'delivered');
    // A while longer: a task retried for ever would send it again.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const data = (JSON.parse(body) as { data: unknown }).data;
    receivers.forEach((receiver, i) => {
      assert.equal(receiver.received.length, 1, `endpoint ${i} received it ${receiver.received.length} times`);
      const [request] = receiver.received;
      const verified = new Webhook(secrets[i]).verify(request.body, request.headers as Record<string, string>);
      assert.deepEqual((verified as { data: unknown }).data, data, `endpoint ${i} got the whole document`);
      assert.equal(request.headers['webhook-id'], 'big-1');
    });
    assert.equal(new Set(receivers.map((r) => sha(r.received[0].body))).size, 1, 'the same bytes everywhere');
  });

  it('the engine carries its key, not the document: no event of its workflow holds more than a few KB', async () => {
    // Stored once, at submit, in the environment's bucket.
    const stored = await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'bodies/');
    assert.equal(stored.filter((k) => k.includes('/bigco/big-1.')).length, 1, stored.join(', '));
    const client = await stack.temporalClient();
    try {
      const history = await client.workflow
        .getHandle(deliveryWorkflowId('production', 'bigco', 'big-1'))
        .fetchHistory();
      const largest = Math.max(...history.events!.map((event) => JSON.stringify(event).length));
      assert.ok(largest < 64 * 1024, `the largest event of the document's history has ${largest} bytes`);
      const childStarts = history.events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length;
      assert.equal(childStarts, ENDPOINTS - 1);
    } finally {
      await client.connection.close();
    }
  });

  it('a large document whose endpoint fails is stored pending whole, and pulled whole', async () => {
    const failing = await startReceiver(always(500));
    receivers.push(failing);
    // An id as long as the first customer's: the body stays at the limit.
    const small = await api('POST', '/v1/customers', ADMIN_KEY, { id: 'bigfx', name: 'Big Fail' });
    const failKey = small.body.apiKeys.production;
    await api('PUT', '/v1/production/webhook', failKey, { url: failing.url, retrySchedule: '1s' });
    const large = body.replace('"bigco"', '"bigfx"').replace('"big-1"', '"big-2"');
    assert.equal((await api('POST', '/v1/production/documents', ADMIN_KEY, large)).status, 202);
    const pulled = await waitFor(
      'the document pending',
      async () => {
        const answer = await api('GET', '/v1/production/pending/big-2', failKey);
        assert.equal(answer.status, 200, JSON.stringify(answer.body).slice(0, 200));
        return answer.body;
      },
      60_000,
    );
    assert.deepEqual(pulled.data, (JSON.parse(large) as { data: unknown }).data);
    assert.equal(failing.received.length, 2, 'the first attempt and one retry');
    const [pendingKey] = await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/bigfx/');
    const object = await readObject(stack.s3, stack.config.BUCKET_PRODUCTION, pendingKey);
    assert.equal(sha(object.body), sha(failing.received[0].body), 'the pending object is what the receiver got');
  });
});
