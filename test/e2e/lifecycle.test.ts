import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { listKeys } from '../helpers/s3';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

describe('end to end over HTTP: suspension, email, reactivation and preferences', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let receiver: Receiver;
  let key: string;
  let sandboxKey: string;

  before(async () => {
    stack = await startTestStack({ NOTIFICATION_WINDOW: '1s', REPLAY_CONCURRENCY: '1' });
    api = apiClient(stack.baseUrl);
    receiver = await startReceiver(always(500));
    const created = await api('POST', '/v1/customers', ADMIN_KEY, { id: 'wayne', name: 'Wayne Enterprises' });
    key = created.body.apiKeys.production;
    sandboxKey = created.body.apiKeys.sandbox;
    const put = await api('PUT', '/v1/production/webhook', key, {
      url: receiver.url,
      suspensionEmail: 'ops@wayne.example',
      retrySchedule: '1s,1s',
    });
    assert.equal(put.status, 200);
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  const submit = (id: string) =>
    api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: 'wayne', id, type: 'event', data: { id } });

  it('a failing endpoint is suspended, its contact gets one email, and new documents wait in the bucket', async () => {
    await submit('w1');
    const webhook = await waitFor('suspension', async () => {
      const res = await api('GET', '/v1/production/webhook', key);
      assert.equal(res.body.status, 'suspended');
      return res.body;
    });
    assert.ok(webhook.suspendedAt);
    assert.match(webhook.suspensionReason, /retries ran out/);
    assert.equal(webhook.lastError, 'HTTP 500');

    // Turned off by hand so the probe loop (1 s here) does not race the replay assertions below.
    assert.equal((await api('PATCH', '/v1/production/webhook', key, { active: false })).body.status, 'suspended');
    const seen = receiver.received.length;
    await submit('w2');
    await waitFor('w2 pending', async () =>
      assert.equal((await api('GET', '/v1/production/documents/w2', key)).body.status, 'pending'),
    );
    assert.equal(receiver.received.length, seen, 'nothing sent while suspended');
    assert.equal((await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/wayne/')).length, 2);

    const mail = await waitFor('the suspension email', async () => {
      const found = stack.mail.messages.filter((m) => [m.to].flat().some((a) => a?.text.includes('ops@wayne.example')));
      assert.equal(found.length, 1);
      return found[0];
    });
    assert.match(mail.subject!, /suspended/i);
    assert.ok(mail.text!.includes(receiver.url));
  });

  it('PATCH { active: true } reactivates and replays everything pending, oldest first', async () => {
    receiver.setBehaviour(always(200));
    const before = receiver.received.length;
    const res = await api('PATCH', '/v1/production/webhook', key, { active: true });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'active');
    await waitFor('the replay', async () => {
      assert.equal((await api('GET', '/v1/production/documents/w2', key)).body.status, 'delivered');
      assert.equal((await api('GET', '/v1/production/documents/w1', key)).body.status, 'delivered');
    });
    assert.deepEqual(
      receiver.received.slice(before).map((r) => r.headers['webhook-id']),
      ['w1', 'w2'],
    );
    assert.deepEqual(await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/wayne/'), []);
    assert.equal((await api('PATCH', '/v1/production/webhook', key, { active: true })).status, 200, 'no-op');
  });

  it('preferences are read and written per environment, and bad input changes nothing', async () => {
    assert.deepEqual((await api('GET', '/v1/production/preferences', key)).body, { pendingNotifications: true });
    const put = await api('PUT', '/v1/production/preferences', key, { pendingNotifications: false });
    assert.deepEqual(put, { status: 200, body: { pendingNotifications: false } });
    assert.deepEqual((await api('GET', '/v1/production/preferences', key)).body, { pendingNotifications: false });
    assert.deepEqual((await api('GET', '/v1/sandbox/preferences', sandboxKey)).body, { pendingNotifications: true });

    const bad = await api('PUT', '/v1/production/preferences', key, { pendingNotifications: 'no' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0].path, 'body.pendingNotifications');
    assert.equal((await api('PATCH', '/v1/production/webhook', key, { active: 'yes' })).status, 400);
    assert.equal((await api('PATCH', '/v1/production/webhook', sandboxKey, { active: false })).status, 403);
    assert.equal((await api('GET', '/v1/production/webhook', key)).body.status, 'active', 'nothing changed');
  });
});
