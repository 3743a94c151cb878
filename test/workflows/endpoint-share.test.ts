import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Config } from '../../src/config';
import type { SubmitDocument } from '../../src/domain/schemas';
import { testConfig } from '../helpers/config';
import { always, startReceiver, type Behaviour, type Receiver } from '../helpers/receiver';
import { startTestS3 } from '../helpers/s3';
import { startTimeSkipping, type TimeSkipping } from '../helpers/temporal';

const H = 3_600_000;

/**
 * The mechanism of issue 17 with the real worker on the time-skipping server, without timing assertions: a worker
 * with 20 workflow-task and local-activity slots (24 hanging first attempts would take them all), endpoints allowed
 * two requests in flight, breakers that open after three failures.
 */
describe("one endpoint's failures cost other endpoints nothing: its share of the worker and its breaker", () => {
  let s3: Awaited<ReturnType<typeof startTestS3>>;
  let ts: TimeSkipping;
  let config: Config;
  const receivers: Receiver[] = [];
  let seq = 0;

  before(async () => {
    s3 = await startTestS3();
    config = testConfig({
      ...s3.env,
      DELIVERY_TIMEOUT: '30s',
      ENDPOINT_MAX_IN_FLIGHT: '2',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '20',
      WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: '20',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '4',
      BREAKER_FAILURES: '3',
      BREAKER_WINDOW: '1m',
      BREAKER_COOLDOWN: '2s',
    });
    ts = await startTimeSkipping(config);
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await ts?.stop();
    await s3?.stop();
  });

  async function customerWith(behaviour: Behaviour) {
    const customerId = `share${++seq}`;
    await ts.service.createCustomer({ id: customerId, name: customerId });
    const receiver = await startReceiver(behaviour, ts.now);
    receivers.push(receiver);
    await ts.service.configureWebhook('production', customerId, { url: receiver.url, retrySchedule: '1h' });
    return { customerId, receiver };
  }
  const submit = (customerId: string, id: string, data: SubmitDocument['data'] = { id }) =>
    ts.service.submitDocument('production', { customerId, id, type: 'event', data });
  const documentOf = (customerId: string, id: string) => ts.service.getDocument('production', customerId, id);
  async function until(what: string, check: () => Promise<boolean> | boolean) {
    for (let i = 0; i < 600; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`never: ${what}`);
  }
  /** A counter of the worker's, summed over its labels. */
  async function counted(name: string) {
    const metric = ts.metrics.registry.getSingleMetric(name);
    return ((await metric?.get())?.values ?? []).reduce((sum, v) => sum + v.value, 0);
  }
  const idsAt = (receiver: Receiver) => receiver.received.map((r) => String(r.headers['webhook-id']));

  it('while a hanging endpoint holds its whole share, a document for another endpoint reaches its receiver', async () => {
    const hanging = await customerWith(() => 'hang');
    const healthy = await customerWith(always(200));
    const burst = Array.from({ length: 24 }, (_, i) => `hang_${i}`);
    for (const id of burst) await submit(hanging.customerId, id);
    await until('the hanging endpoint holds its two places', () => hanging.receiver.open() === 2);
    // The other 22 found the share full and wait on timers: a time to try again, no slot held.
    await until(
      'the rest of the burst waiting',
      async () => (await counted('webhook_endpoint_share_waits_total')) >= 6,
    );

    await submit(healthy.customerId, 'healthy_1');
    await until(
      'the healthy document delivered',
      async () => (await documentOf(healthy.customerId, 'healthy_1')).status === 'delivered',
    );
    assert.deepEqual(idsAt(healthy.receiver), ['healthy_1']);
    // Delivered while the first two requests still hang: nothing the hanging endpoint holds was needed.
    assert.equal(hanging.receiver.open(), 2, 'the hanging requests are still out');
    assert.equal(hanging.receiver.received.length, 2, 'the hanging endpoint got no third request');
    assert.equal(hanging.receiver.mostOpen(), 2);
    // Let go of the hanging requests: the burst's retries, an hour on (the next test skips past it), fail at once
    // instead of holding the worker's activity slots for 30 real seconds each.
    await hanging.receiver.close();
  });

  it('a breaker that opened lets a trial through and closes on success; a skipped document is retried on its schedule', async () => {
    const { customerId, receiver } = await customerWith(() => 'reset');
    for (const id of ['f1', 'f2', 'f3']) {
      await submit(customerId, id);
      await until(`${id} failed`, async () => (await documentOf(customerId, id)).status === 'retrying');
    }
    await submit(customerId, 'skipped');
    await until('skipped is retrying', async () => (await documentOf(customerId, 'skipped')).status === 'retrying');
    const skipped = await documentOf(customerId, 'skipped');
    assert.equal(skipped.attempts.length, 1);
    assert.equal(skipped.attempts[0].skipped, 'breaker_open');
    assert.match(skipped.attempts[0].error!, /circuit breaker is open/);
    assert.deepEqual(idsAt(receiver), ['f1', 'f2', 'f3'], 'the skipped attempt sent nothing');
    const skippedAt = await ts.now();

    // The endpoint recovers; after the cooldown (real time: the breaker lives in the worker) one trial goes out.
    receiver.setBehaviour(always(200));
    await new Promise((r) => setTimeout(r, 2_500));
    await submit(customerId, 'trial');
    await until('the trial delivered', async () => (await documentOf(customerId, 'trial')).status === 'delivered');
    await submit(customerId, 'after');
    await until('after delivered', async () => (await documentOf(customerId, 'after')).status === 'delivered');
    const afterState = await documentOf(customerId, 'after');
    assert.equal(afterState.attempts.length, 1);
    assert.equal(afterState.attempts[0].skipped, undefined, 'the breaker closed: sent at once');

    // The skipped document keeps its schedule: its second attempt, an hour on, is delivered.
    await ts.env.sleep(1.2 * H);
    await until('skipped delivered', async () => (await documentOf(customerId, 'skipped')).status === 'delivered');
    const delivered = await documentOf(customerId, 'skipped');
    assert.deepEqual(
      delivered.attempts.map((a) => [a.attemptNumber, a.skipped ?? a.responseStatusCode]),
      [
        [1, 'breaker_open'],
        [2, 200],
      ],
    );
    const seen = receiver.received.filter((r) => r.headers['webhook-id'] === 'skipped');
    assert.equal(seen.length, 1);
    assert.ok(seen[0].at - skippedAt >= H - 5_000, `retried ${seen[0].at - skippedAt} ms after it was skipped`);
  });
});
