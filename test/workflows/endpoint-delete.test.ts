import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { waitFor } from '../../scripts/lib/stack';
import { createDeliveryService } from '../../src/api/service';
import type { Config } from '../../src/config';
import { endpointWorkflowId } from '../../src/domain/ids';
import { EndpointStatusKey } from '../../src/domain/search-attributes';
import { testConfig } from '../helpers/config';
import { always, startReceiver, type Behaviour, type Receiver } from '../helpers/receiver';
import { listKeys, startTestS3 } from '../helpers/s3';
import { startTimeSkipping, type TimeSkipping } from '../helpers/temporal';

// An endpoint is created and deleted in one durable step, and a deleted endpoint stops: nothing is sent to it or about
// it once the DELETE has answered, it leaves the support desk's lists, what waits for it stays pullable until it
// expires, and then its entity ends.

const M = 60_000;
const H = 60 * M;

describe('endpoints created and deleted in one step (time skipping)', () => {
  let s3: Awaited<ReturnType<typeof startTestS3>>;
  let ts: TimeSkipping;
  let config: Config;
  const receivers: Receiver[] = [];
  let seq = 0;

  before(async () => {
    s3 = await startTestS3();
    config = testConfig({
      ...s3.env,
      DELIVERY_TIMEOUT: '2s',
      NOTIFICATION_WINDOW: '1m',
      NOTIFICATION_REMINDER: '1h',
      PROBE_MIN_INTERVAL: '1m',
      RETENTION_PRODUCTION: '1d',
    });
    ts = await startTimeSkipping(config);
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await ts?.stop();
    await s3?.stop();
  });

  async function receiver(behaviour: Behaviour) {
    const started = await startReceiver(behaviour, ts.now);
    receivers.push(started);
    return started;
  }

  /**
   * A customer whose first endpoint (the webhook) fails and retries only days later: each document's own workflow stays
   * open through a test. (The time-skipping server stops skipping time for good once a delivery to another endpoint, a
   * child its document abandons, ends after its document's workflow has: temporalio/sdk-typescript#1101.)
   */
  async function customer() {
    const customerId = `del${++seq}`;
    await ts.service.createCustomer({ id: customerId, name: customerId });
    const webhook = await receiver(always(503));
    await ts.service.configureWebhook('production', customerId, { url: webhook.url, retrySchedule: '5d' });
    return customerId;
  }

  const submit = (customerId: string, id: string) =>
    ts.service.submitDocument('production', { customerId, id, type: 'event', data: { id } });
  const entity = (customerId: string, endpointId: string) =>
    ts.client.workflow.getHandle(endpointWorkflowId('production', customerId, endpointId));
  /** What the support desk's list reads: the entity's EndpointStatus, while it runs. */
  async function deskSees(customerId: string, endpointId: string) {
    const described = await entity(customerId, endpointId).describe();
    return {
      running: described.status.name === 'RUNNING',
      status: described.typedSearchAttributes.get(EndpointStatusKey),
      memo: (described.memo?.endpoint as { status: string }).status,
    };
  }
  const listedEverywhere = async (customerId: string) =>
    (await ts.service.listPendingEverywhere('production', customerId, { limit: 100 })).data.map(
      (d) => `${d.id}@${'endpointId' in d ? d.endpointId : 'ep_default'}`,
    );
  const deliveryAt = async (customerId: string, id: string, endpointId: string) =>
    (await ts.service.getDocument('production', customerId, id)).deliveries?.find((d) => d.endpointId === endpointId);

  it('a deleted endpoint with pending documents: nothing is sent to it or about it, it leaves the desk, its documents stay pullable until they expire, then its entity ends', async () => {
    const customerId = await customer();
    const hook = await receiver(always(500));
    const notes = await receiver(always(200));
    const { id: endpointId } = await ts.service.createEndpoint('production', customerId, {
      url: hook.url,
      retrySchedule: '1m',
      notificationUrl: notes.url,
    });
    await submit(customerId, 'd1');
    await submit(customerId, 'd2');
    // Both run out (an attempt and one retry a minute later): the endpoint is suspended, probed every minute, and
    // notified about what waits.
    await ts.env.sleep(6 * M);
    assert.deepEqual(await deskSees(customerId, endpointId), { running: true, status: 'suspended', memo: 'suspended' });
    assert.ok(hook.received.length >= 4, `${hook.received.length} requests: attempts, retries and a probe`);
    await waitFor('the notification', async () => assert.ok(notes.received.length >= 1, 'not notified yet'));
    const expiries = await Promise.all(
      ['d1', 'd2'].map(async (id) => (await deliveryAt(customerId, id, endpointId))!.expiresAt!),
    );

    const answer = await ts.service.deleteEndpoint('production', customerId, endpointId);
    assert.deepEqual(
      { ...answer, deletedAt: undefined },
      { id: endpointId, deleted: true, deletedAt: undefined, pendingCount: 2, expiresBy: expiries.sort().at(-1) },
    );
    const sent = { hook: hook.received.length, notes: notes.received.length };

    // Gone from the desk's lists at once (it lists by EndpointStatus), and every attempt reads `deleted` from its memo.
    assert.deepEqual(await deskSees(customerId, endpointId), { running: true, status: 'deleted', memo: 'deleted' });
    await assert.rejects(ts.service.getEndpoint('production', customerId, endpointId), /not found/);
    assert.deepEqual(
      (await ts.service.listEndpoints('production', customerId)).map((e) => e.id),
      ['ep_default'],
    );
    // Its documents stay pullable through the customer-wide routes, saying whose they are.
    assert.deepEqual((await listedEverywhere(customerId)).sort(), [`d1@${endpointId}`, `d2@${endpointId}`]);
    assert.deepEqual((await ts.service.pullPendingEverywhere('production', customerId, 'd1')).data, { id: 'd1' });
    // A resend sends nothing, and says why in the document's attempt log.
    await ts.service.resendEverywhere('production', customerId, 'd1');
    await waitFor('the resend recorded', async () => {
      const delivery = await deliveryAt(customerId, 'd1', endpointId);
      assert.equal(delivery?.attempts.at(-1)?.trigger, 'resend', JSON.stringify(delivery?.attempts.at(-1)));
      assert.equal(delivery?.attempts.at(-1)?.error, 'not sent: the endpoint was deleted');
      assert.equal(delivery?.status, 'pending');
    });

    // Through the probes' schedule, the reminders (an hour before expiry) and past the expiry: nothing at all.
    await ts.env.sleep(23 * H + 30 * M);
    assert.equal(hook.received.length, sent.hook, 'no attempt, probe, replay or resend reached the receiver');
    assert.equal(notes.received.length, sent.notes, 'no notification and no reminder');
    assert.deepEqual((await listedEverywhere(customerId)).sort(), [`d1@${endpointId}`, `d2@${endpointId}`]);
    await ts.env.sleep(2 * H);
    assert.equal((await deliveryAt(customerId, 'd1', endpointId))?.status, 'expired');
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_PRODUCTION, `pending/${customerId}~${endpointId}/`), []);
    // Its documents settled, its entity ended and its first endpoint's record forgot it.
    assert.deepEqual(await deskSees(customerId, endpointId), { running: false, status: 'deleted', memo: 'deleted' });
    assert.equal((await ts.service.findEndpoint('production', customerId))!.deletedEndpoints, undefined);
    assert.deepEqual(await listedEverywhere(customerId), []);
    assert.equal(hook.received.length, sent.hook);
    assert.equal(notes.received.length, sent.notes);
  });

  it('a delivery still retrying when its endpoint is deleted sends nothing more: it joins the pending documents, and the entity waits for it', async () => {
    const customerId = await customer();
    const hook = await receiver(always(500));
    const { id: endpointId } = await ts.service.createEndpoint('production', customerId, {
      url: hook.url,
      retrySchedule: '30m,30m',
    });
    await submit(customerId, 'r1');
    await ts.env.sleep(1 * M);
    assert.equal((await deliveryAt(customerId, 'r1', endpointId))?.status, 'retrying');
    assert.equal(hook.received.length, 1);

    const answer = await ts.service.deleteEndpoint('production', customerId, endpointId);
    assert.deepEqual([answer.pendingCount, answer.expiresBy], [0, null]);
    // Its retry comes, sends nothing, and stores it where the customer pulls it.
    await ts.env.sleep(45 * M);
    assert.equal(hook.received.length, 1, 'the retry sent nothing');
    assert.equal((await deliveryAt(customerId, 'r1', endpointId))?.status, 'pending');
    assert.deepEqual(await listedEverywhere(customerId), [`r1@${endpointId}`]);
    assert.equal((await deskSees(customerId, endpointId)).running, true, 'its entity waits for it');
    await ts.env.sleep(26 * H);
    assert.equal((await deliveryAt(customerId, 'r1', endpointId))?.status, 'expired');
    assert.equal((await deskSees(customerId, endpointId)).running, false);
    assert.equal(hook.received.length, 1);
  });

  it('a create whose API dies once its Update is recorded still ends with a working endpoint', async () => {
    const customerId = await customer();
    const hook = await receiver(always(200));
    // The API process dies right after its first Update reached the first endpoint's entity: it never answers, and
    // does nothing more (before creation was one step, it never configured the endpoint it had listed).
    const dying = createDeliveryService({ client: diesAfterFirstUpdate(ts.client), s3: ts.s3, config });
    await assert.rejects(dying.createEndpoint('production', customerId, { url: hook.url }), /the API process died/);

    const listed = await ts.service.listEndpoints('production', customerId);
    assert.equal(listed.length, 2);
    const created = listed[1];
    assert.equal(created.state.url, hook.url, 'configured');
    assert.equal((await deskSees(customerId, created.id)).running, true, 'its entity runs');
    await submit(customerId, 'c1');
    await waitFor('c1 at the new endpoint', async () =>
      assert.deepEqual(
        hook.received.map((r) => r.headers['webhook-id']),
        ['c1'],
      ),
    );
    assert.equal((await deliveryAt(customerId, 'c1', created.id))?.status, 'delivered');
  });

  it('a refused create changes nothing: past the limit, or with a bad configuration', async () => {
    const customerId = await customer();
    const hook = await receiver(always(200));
    await assert.rejects(
      ts.service.createEndpoint('production', customerId, { url: hook.url, retrySchedule: 'often' }),
      (err: { httpStatus?: number; message?: string }) => err.httpStatus === 400 && /retrySchedule/.test(err.message!),
    );
    for (let i = 0; i < 19; i++) await ts.service.createEndpoint('production', customerId, { url: hook.url });
    await assert.rejects(
      ts.service.createEndpoint('production', customerId, { url: hook.url }),
      (err: { httpStatus?: number }) => err.httpStatus === 422,
    );
    const listed = await ts.service.listEndpoints('production', customerId);
    assert.equal(listed.length, 20);
    assert.ok(listed.every((e) => e.state.url === hook.url || e.id === 'ep_default'));
  });
});

/**
 * A client whose process dies once its first Update has reached a workflow: that call and every one after it throw,
 * as for an API killed while it waited for the answer.
 */
function diesAfterFirstUpdate(client: Client): Client {
  let dead = false;
  const died = () => new Error('the API process died');
  const guarded = <T extends object>(target: T, onCall?: (name: string | symbol) => void): T =>
    new Proxy(target, {
      get(object, name) {
        const value = Reflect.get(object, name, object) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (dead) throw died();
          const result = (value as (...a: unknown[]) => unknown).apply(object, args);
          if (name === 'getHandle') return guarded(result as object, onCall);
          if (!(result instanceof Promise)) return result;
          return result.then((answer) => {
            onCall?.(name);
            if (dead) throw died();
            return answer;
          });
        };
      },
    });
  const workflow = guarded(client.workflow, (name) => {
    if (String(name).includes('Update')) dead = true;
  });
  return new Proxy(client, { get: (object, name) => (name === 'workflow' ? workflow : Reflect.get(object, name)) });
}
