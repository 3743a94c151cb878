import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { Config } from '../../src/config';
import { endpointWorkflowId } from '../../src/domain/ids';
import type { EndpointState } from '../../src/domain/schemas';
import { generateApiKey, hashApiKey } from '../../src/lib/api-keys';
import { SecretSeal } from '../../src/lib/secret-seal';
import { generateWebhookSecret } from '../../src/lib/signature';
import type { endpointEntity } from '../../src/workflows';
import { endpointStateQuery } from '../../src/workflows/messages';
import { testConfig } from '../helpers/config';
import { always, startReceiver, type ReceivedRequest, type Receiver } from '../helpers/receiver';
import { startTestS3 } from '../helpers/s3';
import { startTimeSkipping, type TimeSkipping } from '../helpers/temporal';

const H = 3_600_000;

/** Queries until the entity's secret is sealed (its run's first task seals it). */
async function waitForSealed(read: () => Promise<EndpointState>): Promise<EndpointState> {
  for (let i = 0; i < 100; i++) {
    const state = await read();
    if (state.secret?.startsWith('sealed:v1:')) return state;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the secret was never sealed');
}

/** Whether a receiver holding only `secret` accepts the request, as the `standardwebhooks` package verifies it. */
function verifies(secret: string, request: ReceivedRequest): boolean {
  try {
    new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

// POST /webhook/secret/rotate: for SECRET_ROTATION_GRACE every delivery and notification carries both signatures, so a
// receiver still holding the old secret keeps verifying; once the grace has passed (skipped), only the new one signs.
describe('secret rotation with a grace period, with time skipping', () => {
  let s3: Awaited<ReturnType<typeof startTestS3>>;
  let ts: TimeSkipping;
  let config: Config;
  const receivers: Receiver[] = [];

  before(async () => {
    s3 = await startTestS3();
    config = testConfig({
      ...s3.env,
      DELIVERY_TIMEOUT: '2s',
      RETRY_SCHEDULE_PRODUCTION: '1m',
      NOTIFICATION_WINDOW: '1m',
      SECRET_ROTATION_GRACE: '24h',
    });
    ts = await startTimeSkipping(config);
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await ts?.stop();
    await s3?.stop();
  });

  it('signs with both secrets during the grace and with the new one only after it', async () => {
    // Documents whose id starts with "fail" are refused, so they go to the bucket and a notification follows.
    let hook: Receiver | undefined = undefined;
    hook = await startReceiver(
      (n) => ({ status: JSON.parse(hook!.received[n - 1].body).id.startsWith('fail') ? 500 : 200 }),
      ts.now,
    );
    const notifications = await startReceiver(always(200), ts.now);
    receivers.push(hook, notifications);
    await ts.service.createCustomer({ id: 'rotor', name: 'Rotor' });
    const configured = await ts.service.configureWebhook('production', 'rotor', {
      url: hook.url,
      notificationUrl: notifications.url,
    });
    const oldSecret = configured.secret!;
    const submit = (id: string) =>
      ts.service.submitDocument('production', { customerId: 'rotor', id, type: 'event', data: {} });
    const status = async (id: string) => (await ts.service.getDocument('production', 'rotor', id)).status;

    const rotated = await ts.service.rotateSecret('production', 'rotor');
    const newSecret = rotated.secret!;
    assert.match(newSecret, /^whsec_/);
    assert.notEqual(newSecret, oldSecret);
    const graceEnds = Date.parse(rotated.previousSecret!.expiresAt);
    const graceLeft = graceEnds - (await ts.now());
    assert.ok(Math.abs(graceLeft - 24 * H) < 60_000, `the grace is SECRET_ROTATION_GRACE (${graceLeft} ms left)`);

    // During the grace: a delivery, the failing attempts of another document, and the notification that follows.
    await submit('ok1');
    await submit('fail1');
    await ts.env.sleep(5 * 60_000);
    assert.equal(await status('ok1'), 'delivered');
    assert.equal(await status('fail1'), 'pending');
    assert.ok(hook.received.length >= 3, 'ok1 once, fail1 twice, then probes of the suspended endpoint');
    assert.ok(notifications.received.length >= 1, 'a notification of the pending document');
    for (const request of [...hook.received, ...notifications.received]) {
      assert.ok(verifies(newSecret, request), 'the new secret verifies');
      assert.ok(verifies(oldSecret, request), 'so does the old one, during the grace');
      assert.equal(String(request.headers['webhook-signature']).split(' ').length, 2);
    }

    // The grace passes: the entity drops the old secret.
    await ts.service.acknowledge('production', 'rotor', 'fail1');
    await ts.service.setActive('production', 'rotor', true);
    await ts.env.sleep(24 * H);
    assert.equal((await ts.service.findEndpoint('production', 'rotor'))!.previousSecret, undefined);
    const seen = { hook: hook.received.length, notifications: notifications.received.length };

    await submit('ok2');
    await submit('fail2');
    await ts.env.sleep(5 * 60_000);
    assert.equal(await status('ok2'), 'delivered');
    assert.equal(await status('fail2'), 'pending');
    const after = [...hook.received.slice(seen.hook), ...notifications.received.slice(seen.notifications)];
    assert.ok(after.length >= 4, `${after.length} requests after the grace`);
    for (const request of after) {
      assert.ok(verifies(newSecret, request), 'the new secret verifies');
      assert.ok(!verifies(oldSecret, request), 'the old one no longer does');
    }
  });

  it('an entity made before secrets were sealed seals them on its next run, and keeps signing with them', async () => {
    const receiver = await startReceiver(always(200), ts.now);
    receivers.push(receiver);
    const [current, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const now = await ts.now();
    // The state such an entity carries: its secrets in the clear, one of them in a rotation's grace.
    const state: EndpointState = {
      customerId: 'legacy',
      customerName: 'Legacy',
      environment: 'production',
      apiKeyHash: hashApiKey(generateApiKey('production', 'legacy')),
      url: receiver.url,
      secret: current,
      previousSecret: { secret: previous, expiresAt: new Date(now + 24 * H).toISOString() },
      status: 'active',
      preferences: { pendingNotifications: true },
      counters: { retriesExhausted: 0, suspensions: 0 },
      updatedAt: new Date(now).toISOString(),
    };
    const handle = await ts.client.workflow.start<typeof endpointEntity>('endpointEntity', {
      workflowId: endpointWorkflowId('production', 'legacy'),
      taskQueue: config.TASK_QUEUE,
      args: [{ state }],
      memo: { endpoint: state },
    });
    const held = await waitForSealed(() => handle.query(endpointStateQuery));
    assert.match(held.previousSecret!.secret, /^sealed:v1:/);
    assert.ok(!JSON.stringify(held).includes(current.slice('whsec_'.length)), 'neither secret readable in its state');
    assert.ok(!JSON.stringify(held).includes(previous.slice('whsec_'.length)));

    await ts.service.submitDocument('production', { customerId: 'legacy', id: 'after', type: 'event', data: 1 });
    await ts.env.sleep(10_000);
    assert.equal(receiver.received.length, 1);
    assert.ok(verifies(current, receiver.received[0]), 'the receiver verifies with the secret it always had');
    assert.ok(verifies(previous, receiver.received[0]), 'and with the one in its grace');
  });

  it('an entity made before header values were sealed seals them on its next run, and keeps sending them', async () => {
    const receiver = await startReceiver(always(200), ts.now);
    receivers.push(receiver);
    const token = `Bearer legacy_${randomBytes(12).toString('hex')}`;
    const now = await ts.now();
    // The state such an entity carries: its secret sealed, its header values in the clear.
    const state: EndpointState = {
      customerId: 'legacy-headers',
      customerName: 'Legacy headers',
      environment: 'production',
      apiKeyHash: hashApiKey(generateApiKey('production', 'legacy-headers')),
      url: receiver.url,
      headers: { Authorization: token, 'X-Tenant': 'legacy' },
      secret: new SecretSeal(config.SECRET_KEYS).seal(generateWebhookSecret()),
      status: 'active',
      preferences: { pendingNotifications: true },
      counters: { retriesExhausted: 0, suspensions: 0 },
      updatedAt: new Date(now).toISOString(),
    };
    const handle = await ts.client.workflow.start<typeof endpointEntity>('endpointEntity', {
      workflowId: endpointWorkflowId('production', 'legacy-headers'),
      taskQueue: config.TASK_QUEUE,
      args: [{ state }],
      memo: { endpoint: state },
    });
    const sealed = (held?: EndpointState) =>
      Object.values(held?.headers ?? {}).every((value) => value.startsWith('sealed:v1:'));
    for (let i = 0; i < 100 && !sealed(await handle.query(endpointStateQuery)); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // Its query and its memo (what every read of the endpoint uses): the names, each value sealed.
    const memo = (await handle.describe()).memo?.endpoint as EndpointState;
    for (const held of [await handle.query(endpointStateQuery), memo]) {
      assert.deepEqual(Object.keys(held.headers ?? {}), ['Authorization', 'X-Tenant']);
      assert.ok(sealed(held), `header values sealed: ${JSON.stringify(held.headers)}`);
      assert.ok(!JSON.stringify(held).includes(token.slice('Bearer '.length)), 'the token readable in its state');
    }

    await ts.service.submitDocument('production', { customerId: 'legacy-headers', id: 'h1', type: 'event', data: 1 });
    await ts.env.sleep(10_000);
    assert.equal(receiver.received.length, 1);
    const { headers } = receiver.received[0];
    assert.deepEqual([headers.authorization, headers['x-tenant']], [token, 'legacy'], 'the values it always had');
  });

  it('refuses a rotation before the webhook has a secret (409), changing nothing', async () => {
    await ts.service.createCustomer({ id: 'unset', name: 'Unset' });
    await assert.rejects(ts.service.rotateSecret('production', 'unset'), { httpStatus: 409 });
    assert.equal((await ts.service.findEndpoint('production', 'unset'))!.secret, undefined);
  });
});
