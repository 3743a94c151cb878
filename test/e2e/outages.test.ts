import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { listKeys, readObject } from '../helpers/s3';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('no document is lost when S3 or the Temporal server goes down', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  const receivers: Receiver[] = [];

  before(async () => {
    stack = await startTestStack({ DELIVERY_TIMEOUT: '2s' });
    api = apiClient(stack.baseUrl);
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await stack?.stop();
  });

  async function customer(id: string, receiver: Receiver, retrySchedule: string) {
    const created = await api('POST', '/v1/customers', ADMIN_KEY, { id, name: id });
    const key = created.body.apiKeys.production as string;
    assert.equal((await api('PUT', '/v1/production/webhook', key, { url: receiver.url, retrySchedule })).status, 200);
    return key;
  }
  const status = async (key: string, id: string) => (await api('GET', `/v1/production/documents/${id}`, key)).body;

  it('S3 down when retries run out: the document is archived once S3 is back, exactly once', async () => {
    const receiver = await startReceiver(always(500));
    receivers.push(receiver);
    const key = await customer('s3down', receiver, '2s');
    await api('POST', '/v1/production/documents', ADMIN_KEY, {
      customerId: 's3down',
      id: 'd1',
      type: 'event',
      data: 1,
    });
    await waitFor('the first attempt', async () => assert.equal(receiver.received.length, 1));
    await stack.killS3();
    await waitFor('the last attempt', async () => assert.equal(receiver.received.length, 2));
    await pause(3_000);
    assert.equal((await status(key, 'd1')).status, 'retrying', 'not pending while the bucket is unreachable');
    const health = await api('GET', '/healthz');
    assert.equal(health.status, 503, 'the API says it cannot reach S3');

    await stack.restartS3();
    const pending = await waitFor('pending', async () => {
      const body = await status(key, 'd1');
      assert.equal(body.status, 'pending');
      return body;
    });
    assert.ok(pending.expiresAt);
    const keys = await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/s3down/');
    assert.equal(keys.length, 1);
    assert.deepEqual(JSON.parse((await readObject(stack.s3, stack.config.BUCKET_PRODUCTION, keys[0])).body).data, 1);
  });

  it('the Temporal server killed mid-schedule and restarted on its data: the document is still delivered, once', async () => {
    const receiver = await startReceiver((n) => ({ status: n === 1 ? 503 : 200 }));
    receivers.push(receiver);
    const key = await customer('tdown', receiver, '4s');
    await api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: 'tdown', id: 't1', type: 'event', data: 2 });
    await waitFor('the first attempt', async () => assert.equal(receiver.received.length, 1));
    await stack.killTemporal();
    assert.equal((await api('GET', '/healthz')).status, 503, 'the API says it cannot reach Temporal');
    // Meanwhile a submit and a read answer 503 with Retry-After, never 500: a client that retries loses nothing.
    const second = { customerId: 'tdown', id: 't2', type: 'event', data: 3 };
    const refused = await api('POST', '/v1/production/documents', ADMIN_KEY, second);
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(refused.body.error.code, 'unavailable');
    assert.equal((await api('GET', '/v1/production/documents/t1', key)).status, 503);
    await pause(5_000);
    await stack.restartTemporal();
    await waitFor('the retried submit taken', async () => {
      assert.equal((await api('POST', '/v1/production/documents', ADMIN_KEY, second)).status, 202);
    });
    await waitFor(
      'delivery after the restart',
      async () => {
        assert.equal((await status(key, 't1')).status, 'delivered');
        assert.equal((await status(key, 't2')).status, 'delivered');
      },
      90_000,
    );
    assert.equal(receiver.received.length, 3);
    // t1 twice (its refused attempt, its retry), t2 once. After the restart t1's overdue retry and t2's first attempt
    // race: their order across two documents is no promise.
    assert.deepEqual(receiver.received.map((r) => r.headers['webhook-id']).sort(), ['t1', 't1', 't2']);
  });
});
