import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '../../scripts/lib/stack';
import { deliveryWorkflowId } from '../../src/domain/ids';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { listKeys, readObject } from '../helpers/s3';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

describe('end to end over HTTP: dev server, versitygw, worker and API processes', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  const receivers: Receiver[] = [];

  before(async () => {
    stack = await startTestStack({ RETRY_SCHEDULE_PRODUCTION: '1s,1s', DELIVERY_TIMEOUT: '2s' });
    api = apiClient(stack.baseUrl);
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await stack?.stop();
  });

  async function receiver(behaviour: Parameters<typeof startReceiver>[0]) {
    const r = await startReceiver(behaviour);
    receivers.push(r);
    return r;
  }

  async function customer(id: string, url?: string, extra: Record<string, unknown> = {}) {
    const created = await api('POST', '/v1/customers', ADMIN_KEY, { id, name: `Customer ${id}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const keys = created.body.apiKeys as { sandbox: string; production: string };
    let secret: string | undefined;
    if (url) {
      const put = await api('PUT', '/v1/production/webhook', keys.production, { url, ...extra });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      secret = put.body.secret;
    }
    return { keys, secret: secret! };
  }

  /** The operator submits an event for a customer's production endpoint. */
  const submit = (customerId: string, id: string, data: unknown) =>
    api('POST', '/v1/production/documents', ADMIN_KEY, { customerId, id, type: 'event', data });

  const documentStatus = async (key: string, id: string, wanted: string) =>
    waitFor(
      `document ${id} to be ${wanted}`,
      async () => {
        const res = await api('GET', `/v1/production/documents/${id}`, key);
        if (res.body?.status !== wanted) throw new Error(`status ${JSON.stringify(res.body)}`);
        return res.body;
      },
      30_000,
    );

  const recordedAttempts = (key: string, id: string, count: number) =>
    waitFor(`${count} attempt(s) of ${id} recorded`, async () =>
      assert.equal((await api('GET', `/v1/production/documents/${id}`, key)).body.attempts.length, count),
    );

  it('answers /healthz once Temporal and S3 are reachable', async () => {
    const health = await api('GET', '/healthz');
    assert.deepEqual([health.status, health.body], [200, { status: 'ok' }]);
  });

  it('creates a customer, sets a webhook and delivers a signed document', async () => {
    const r = await receiver(always(200));
    const { keys, secret } = await customer('acme', r.url);
    assert.match(keys.sandbox, /^sk_sandbox_/);
    assert.match(secret, /^whsec_/);

    const webhook = await api('GET', '/v1/production/webhook', keys.production);
    assert.equal(webhook.status, 200);
    assert.equal(webhook.body.url, r.url);
    assert.equal(webhook.body.status, 'active');
    assert.equal(webhook.body.retrySchedule, '1s,1s');
    assert.equal(webhook.body.secret, undefined, 'the secret is shown only when the webhook is set');

    const submitted = await api('POST', '/v1/production/documents', ADMIN_KEY, {
      customerId: 'acme',
      id: 'evt_1',
      type: 'event',
      data: { hello: 'world' },
    });
    assert.deepEqual(submitted, { status: 202, body: { id: 'evt_1', status: 'sending' } });
    const delivered = await documentStatus(keys.production, 'evt_1', 'delivered');
    assert.equal(delivered.attempts.length, 1);
    assert.equal(delivered.attempts[0].responseStatusCode, 200);

    assert.equal(r.received.length, 1);
    const payload = new Webhook(secret).verify(r.received[0].body, r.received[0].headers as Record<string, string>);
    assert.deepEqual((payload as { data: unknown }).data, { hello: 'world' });

    const again = await api('POST', '/v1/production/documents', ADMIN_KEY, {
      customerId: 'acme',
      id: 'evt_1',
      type: 'event',
      data: { hello: 'again' },
    });
    assert.deepEqual(again, { status: 202, body: { id: 'evt_1', status: 'delivered' } });
    const operatorView = await api('GET', '/v1/production/customers/acme/documents/evt_1', ADMIN_KEY);
    assert.equal(operatorView.body.status, 'delivered');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(r.received.length, 1, 'the same id again is not delivered again');
  });

  it('keeps a delivered document for the idempotency window, so a resubmit inside it never delivers twice', async () => {
    // The stack made its namespace with IDEMPOTENCY_WINDOW (30 days), not Temporal's 1-day default: that is how long
    // a closed document's workflow, and with it its id, is kept.
    const client = await stack.temporalClient();
    try {
      const { namespaceInfo, config } = await client.connection.workflowService.describeNamespace({
        namespace: 'default',
      });
      assert.equal(namespaceInfo?.name, 'default');
      assert.equal(Number(config?.workflowExecutionRetentionTtl?.seconds), 30 * 24 * 3600);
      const r = await receiver(always(200));
      await customer('initial', r.url);
      const body = { customerId: 'initial', id: 'evt_window', type: 'event', data: 1 };
      assert.equal((await api('POST', '/v1/production/documents', ADMIN_KEY, body)).status, 202);
      const handle = client.workflow.getHandle(deliveryWorkflowId('production', 'initial', 'evt_window'));
      await handle.result();
      assert.equal((await handle.describe()).status.name, 'COMPLETED', 'its workflow has ended');
      for (let i = 0; i < 3; i++) {
        const again = await api('POST', '/v1/production/documents', ADMIN_KEY, { ...body, data: i });
        assert.deepEqual(again.body, { id: 'evt_window', status: 'delivered' });
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(r.received.length, 1, 'delivered once');
    } finally {
      await client.connection.close();
    }
  });

  it('archives a document whose retries run out in the production bucket', async () => {
    const r = await receiver(always(500));
    const { keys } = await customer('globex', r.url);
    await api('POST', '/v1/production/documents', ADMIN_KEY, {
      customerId: 'globex',
      id: 'sum_1',
      type: 'summary',
      data: { total: 3 },
    });
    const pending = await documentStatus(keys.production, 'sum_1', 'pending');
    assert.equal(pending.attempts.length, 3);
    assert.equal(r.received.length, 3);
    assert.ok(pending.expiresAt);
    const objects = await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/globex/');
    assert.equal(objects.length, 1);
    const object = await readObject(stack.s3, stack.config.BUCKET_PRODUCTION, objects[0]);
    assert.deepEqual(JSON.parse(object.body).data, { total: 3 });
    assert.equal(object.metadata['document-type'], 'summary');
  });

  it('refuses bad input with the field, unknown keys, the other environment and other customers', async () => {
    const r = await receiver(always(200));
    const { keys } = await customer('initech', r.url);
    const { keys: otherKeys } = await customer('hooli', r.url);

    const noKey = await api('POST', '/v1/customers', undefined, { id: 'x', name: 'x' });
    assert.equal(noKey.status, 401);
    assert.equal(noKey.body.error.code, 'unauthorized');
    assert.equal((await api('POST', '/v1/customers', keys.production, { id: 'x', name: 'x' })).status, 401);
    const dup = await api('POST', '/v1/customers', ADMIN_KEY, { id: 'initech', name: 'again' });
    assert.equal(dup.status, 409);

    const bad = await api('POST', '/v1/customers', ADMIN_KEY, { id: 'has space', name: '' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'validation_failed');
    assert.deepEqual(bad.body.error.details.map((d: { path: string }) => d.path).sort(), ['body.id', 'body.name']);

    const badUrl = await api('PUT', '/v1/production/webhook', keys.production, { url: 'ftp://example.com' });
    assert.equal(badUrl.status, 400);
    assert.equal(badUrl.body.error.details[0].path, 'body.url');
    assert.equal((await api('GET', '/v1/production/webhook', keys.production)).body.url, r.url, 'nothing changed');
    const badSchedule = await api('PUT', '/v1/production/webhook', keys.production, {
      url: r.url,
      retrySchedule: 'sometimes',
    });
    assert.equal(badSchedule.status, 400);
    assert.equal(badSchedule.body.error.details[0].path, 'body.retrySchedule');

    assert.equal((await api('GET', '/v1/production/webhook', 'sk_production_bm9ib2R5_' + '0'.repeat(64))).status, 401);
    const wrongEnv = await api('GET', '/v1/production/webhook', keys.sandbox);
    assert.equal(wrongEnv.status, 403);
    assert.equal(wrongEnv.body.error.code, 'forbidden');

    await submit('initech', 'mine', 1);
    await documentStatus(keys.production, 'mine', 'delivered');
    const other = await api('GET', '/v1/production/documents/mine', otherKeys.production);
    assert.equal(other.status, 404);
    assert.equal(other.body.error.code, 'not_found');

    const unknownCustomer = await api('POST', '/v1/production/documents', ADMIN_KEY, {
      customerId: 'nobody',
      id: 'x',
      type: 'event',
      data: 1,
    });
    assert.equal(unknownCustomer.status, 404);
    const badType = await api('POST', '/v1/sandbox/documents', ADMIN_KEY, {
      customerId: 'initech',
      id: 'x',
      type: 'memo',
      data: 1,
    });
    assert.equal(badType.status, 400);
    assert.equal(badType.body.error.details[0].path, 'body.type');
    const badEnv = await api('POST', '/v1/staging/documents', ADMIN_KEY, {
      customerId: 'initech',
      id: 'x',
      type: 'event',
      data: 1,
    });
    assert.equal(badEnv.status, 400);
    assert.equal(badEnv.body.error.details[0].path, 'params.env');

    const big = await api('POST', '/v1/production/documents', ADMIN_KEY, {
      customerId: 'initech',
      id: 'big',
      type: 'event',
      // Past MAX_BODY_BYTES (1 MiB by default).
      data: 'x'.repeat(1024 * 1024 + 1),
    });
    assert.equal(big.status, 413);
    assert.equal((await api('GET', '/v1/production/documents/big', keys.production)).status, 404, 'nothing started');
    const notJson = await api('POST', '/v1/customers', ADMIN_KEY, '{"id":');
    assert.equal(notJson.status, 400);
  });

  it('a worker killed mid-schedule and restarted still delivers, once', async () => {
    const r = await receiver((n) => ({ status: n === 1 ? 500 : 200 }));
    const { keys } = await customer('umbrella', r.url, { retrySchedule: '3s,3s' });
    await submit('umbrella', 'evt_k', 1);
    await waitFor('the first attempt', async () => assert.equal(r.received.length, 1));
    // Killed between attempts, as the test says: an attempt still running on the killed worker would only be retried
    // after its activity timeout.
    await recordedAttempts(keys.production, 'evt_k', 1);
    await stack.killWorker();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    assert.equal(r.received.length, 1, 'no attempt while the worker is down');
    await stack.restartWorker();
    await documentStatus(keys.production, 'evt_k', 'delivered');
    assert.equal(r.received.length, 2);
  });

  it('a worker killed in the middle of an attempt has it retried within seconds, not after a 5-minute timeout', async () => {
    // The first request never gets an answer: the worker dies while it waits for one.
    const r = await receiver((n) => (n === 1 ? 'hang' : { status: 200 }));
    const { keys } = await customer('tyrell', r.url);
    await submit('tyrell', 'evt_m', 1);
    await waitFor('the first attempt to reach the receiver', async () => assert.equal(r.received.length, 1));
    await stack.killWorker();
    const killedAt = Date.now();
    await stack.restartWorker();
    const delivered = await documentStatus(keys.production, 'evt_m', 'delivered');
    const retriedAfterMs = r.received[1].at - killedAt;
    // The attempt heartbeats every 2 s with a 10 s heartbeat timeout; a worker restart takes a few seconds more.
    assert.ok(retriedAfterMs < 30_000, `retried ${retriedAfterMs} ms after the worker died`);
    assert.equal(r.received.length, 2);
    assert.equal(delivered.attempts.length, 1, 'the same attempt, retried: the first never finished');
  });

  it('a worker killed mid-schedule and restarted still archives, exactly once in the bucket', async () => {
    const r = await receiver(always(502));
    const { keys } = await customer('cyberdyne', r.url, { retrySchedule: '2s,2s' });
    await submit('cyberdyne', 'evt_a', 7);
    await waitFor('the second attempt', async () => assert.equal(r.received.length, 2));
    await recordedAttempts(keys.production, 'evt_a', 2);
    await stack.killWorker();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await stack.restartWorker();
    const pending = await documentStatus(keys.production, 'evt_a', 'pending');
    assert.equal(pending.attempts.length, 3);
    assert.equal((await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/cyberdyne/')).length, 1);
  });
});
