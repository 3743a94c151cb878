import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { listKeys } from '../helpers/s3';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

describe('end to end over HTTP: expiry to the cold store and the operator restore', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let receiver: Receiver;
  let key: string;

  before(async () => {
    stack = await startTestStack({ RETENTION_PRODUCTION: '8s' });
    api = apiClient(stack.baseUrl);
    receiver = await startReceiver(always(500));
    key = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'acct', name: 'Acct' })).body.apiKeys.production;
    await api('PUT', '/v1/production/webhook', key, { url: receiver.url, retrySchedule: '1s' });
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  it('an expired document can no longer be pulled; the operator restores it as pending with a new window', async () => {
    await api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: 'acct', id: 'e1', type: 'event', data: 9 });
    await api('PATCH', '/v1/production/webhook', key, { active: false });
    await waitFor('expiry', async () =>
      assert.equal((await api('GET', '/v1/production/documents/e1', key)).body.status, 'expired'),
    );
    assert.equal((await api('GET', '/v1/production/pending/e1', key)).status, 404);
    assert.equal((await api('POST', '/v1/production/pending/e1/resend', key)).status, 404);
    assert.deepEqual(await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'expired/acct/'), [
      'expired/acct/e1.json',
    ]);

    assert.equal((await api('POST', '/v1/production/customers/acct/restore', key, {})).status, 401, 'operators only');
    const badSince = await api('POST', '/v1/production/customers/acct/restore', ADMIN_KEY, { since: 'yesterday' });
    assert.equal(badSince.status, 400);
    assert.equal(badSince.body.error.details[0].path, 'body.since');
    assert.equal((await api('POST', '/v1/production/customers/nobody/restore', ADMIN_KEY, {})).status, 404);

    const restored = await api('POST', '/v1/production/customers/acct/restore', ADMIN_KEY, {
      since: new Date(Date.now() - 3_600_000).toISOString(),
    });
    assert.deepEqual(restored, { status: 200, body: { count: 1, ids: ['e1'] } });
    const pulled = await waitFor('restored', async () => {
      const res = await api('GET', '/v1/production/pending/e1', key);
      assert.equal(res.status, 200);
      return res.body;
    });
    assert.equal(pulled.data, 9);
    assert.equal((await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'restores/acct/')).length, 1);
  });
});
