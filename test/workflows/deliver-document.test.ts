import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Config } from '../../src/config';
import type { Environment, SubmitDocument } from '../../src/domain/schemas';
import { MAX_RESENT_RUNS } from '../../src/api/service/resend';
import { deliveryWorkflowId } from '../../src/domain/ids';
import { testConfig } from '../helpers/config';
import { always, startReceiver, type Behaviour, type Receiver } from '../helpers/receiver';
import { listKeys, readObject, startTestS3 } from '../helpers/s3';
import { startTimeSkipping, type TimeSkipping } from '../helpers/temporal';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
// Jitter adds at most 10% of an interval, capped at 5 minutes; a few seconds cover activity and HTTP latency.
const SLACK = 5 * M + 10_000;

describe('deliverDocument with time skipping', () => {
  let s3: Awaited<ReturnType<typeof startTestS3>>;
  let ts: TimeSkipping;
  let config: Config;
  const receivers: Receiver[] = [];
  let customerSeq = 0;

  before(async () => {
    s3 = await startTestS3();
    config = testConfig({ ...s3.env, DELIVERY_TIMEOUT: '2s' });
    ts = await startTimeSkipping(config);
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await ts?.stop();
    await s3?.stop();
  });

  /** A new customer whose endpoint in `environment` points at a new receiver behaving as told. */
  async function customerWith(behaviour: Behaviour, environment: Environment = 'production', retrySchedule?: string) {
    const customerId = `cust${++customerSeq}`;
    await ts.service.createCustomer({ id: customerId, name: `Customer ${customerSeq}` });
    const receiver = await startReceiver(behaviour, ts.now);
    receivers.push(receiver);
    await ts.service.configureWebhook(environment, customerId, { url: receiver.url, retrySchedule });
    return { customerId, receiver, environment };
  }

  const submit = (environment: Environment, customerId: string, id: string, data: SubmitDocument['data'] = { n: 1 }) =>
    ts.service.submitDocument(environment, { customerId, id, type: 'event', data });

  /** Moves the server clock in steps until the document has the status (retries end at a jittered time). */
  async function sleepUntilStatus(
    environment: Environment,
    customerId: string,
    id: string,
    status: string,
    step: number,
  ) {
    for (let i = 0; i < 200; i++) {
      if ((await ts.service.getDocument(environment, customerId, id)).status === status) return;
      await ts.env.sleep(step);
    }
    throw new Error(`${id} never became ${status}`);
  }

  function assertOffsets(receiver: Receiver, offsets: number[]) {
    const times = receiver.received.map((r) => r.at);
    assert.equal(
      times.length,
      offsets.length,
      `attempts seen at +${times.map((t) => t - times[0]).join(', +')} ms, expected ${offsets.length}`,
    );
    offsets.forEach((offset, i) => {
      const seen = times[i] - times[0];
      assert.ok(
        seen >= offset - 2_000 && seen <= offset + SLACK,
        `attempt ${i + 1} at +${seen} ms, expected +${offset}`,
      );
    });
  }

  it('a receiver that fails everything sees 1 + 3 attempts at 0, 2 h, 24 h, 48 h; then the document is pending in the production bucket until it expires after 10 days', async () => {
    const { customerId, receiver } = await customerWith(always(500));
    await submit('production', customerId, 'evt_fail');
    await ts.env.sleep(47 * H);
    await sleepUntilStatus('production', customerId, 'evt_fail', 'pending', 10 * M);

    assertOffsets(receiver, [0, 2 * H, 24 * H, 48 * H]);
    const state = await ts.service.getDocument('production', customerId, 'evt_fail');
    assert.equal(state.status, 'pending');
    assert.equal(state.attempts.length, 4);
    assert.deepEqual(
      state.attempts.map((a) => [a.attemptNumber, a.trigger, a.responseStatusCode]),
      [1, 2, 3, 4].map((n) => [n, 'scheduled', 500]),
    );
    assert.ok(state.retriesExhaustedAt);
    assert.equal(Date.parse(state.expiresAt!) - Date.parse(state.pendingSince!), 10 * D);

    const keys = await listKeys(ts.s3, config.BUCKET_PRODUCTION, `pending/${customerId}/`);
    assert.equal(keys.length, 1);
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_SANDBOX, `pending/${customerId}/`), []);
    const object = await readObject(ts.s3, config.BUCKET_PRODUCTION, keys[0]);
    assert.deepEqual(JSON.parse(object.body).data, { n: 1 });
    assert.equal(object.body, receiver.received[0].body, 'the bucket holds what the receiver was sent');
    assert.equal(object.metadata['customer-id'], customerId);
    assert.equal(object.metadata['document-type'], 'event');
    assert.equal(object.metadata['expires-at'], state.expiresAt);

    await ts.env.sleep(10 * D);
    const expired = await ts.service.getDocument('production', customerId, 'evt_fail');
    assert.equal(expired.status, 'expired');
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_PRODUCTION, `pending/${customerId}/`), []);
    // While pending, the suspended endpoint was probed with it; once it expired there is nothing left to send.
    const seen = receiver.received.length;
    await ts.env.sleep(5 * D);
    assert.equal(receiver.received.length, seen, 'no request once nothing is pending');
  });

  it('a receiver that recovers at attempt 3 gets the document, the same webhook-id each time, and nothing is archived', async () => {
    const { customerId, receiver } = await customerWith((n) => ({ status: n < 3 ? 503 : 200 }));
    await submit('production', customerId, 'evt_recover');
    await ts.env.sleep(25 * H);

    assertOffsets(receiver, [0, 2 * H, 24 * H]);
    assert.deepEqual(new Set(receiver.received.map((r) => r.headers['webhook-id'])), new Set(['evt_recover']));
    const state = await ts.service.getDocument('production', customerId, 'evt_recover');
    assert.equal(state.status, 'delivered');
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_PRODUCTION, `pending/${customerId}/`), []);
    await ts.env.sleep(3 * D);
    assert.equal(receiver.received.length, 3, 'no attempt after delivery');
  });

  it('410 Gone stops the retries at once and archives the document', async () => {
    const { customerId, receiver } = await customerWith(always(410));
    await submit('production', customerId, 'evt_gone');
    await ts.env.sleep(1 * H);
    assert.equal(receiver.received.length, 1);
    assert.equal((await ts.service.getDocument('production', customerId, 'evt_gone')).status, 'pending');
    assert.equal((await listKeys(ts.s3, config.BUCKET_PRODUCTION, `pending/${customerId}/`)).length, 1);
    const endpoint = await ts.service.findEndpoint('production', customerId);
    assert.equal(endpoint?.status, 'suspended');
    assert.match(endpoint!.suspension!.reason, /410 Gone/);
  });

  it('Retry-After on 429 moves the next attempt later than the schedule, never earlier', async () => {
    const { customerId, receiver } = await customerWith((n) =>
      n === 1 ? { status: 429, headers: { 'retry-after': String(5 * 3600) } } : { status: 200 },
    );
    await submit('production', customerId, 'evt_later');
    await ts.env.sleep(3 * H);
    assert.equal(receiver.received.length, 1, 'the 2 h attempt waited for Retry-After');
    const pending = await ts.service.getDocument('production', customerId, 'evt_later');
    assert.equal(pending.status, 'retrying');
    await ts.env.sleep(3 * H);
    assertOffsets(receiver, [0, 5 * H]);
    assert.equal((await ts.service.getDocument('production', customerId, 'evt_later')).status, 'delivered');
  });

  it('Retry-After shorter than the schedule does not bring the attempt forward', async () => {
    const { customerId, receiver } = await customerWith((n) =>
      n === 1 ? { status: 503, headers: { 'retry-after': '60' } } : { status: 200 },
    );
    await submit('production', customerId, 'evt_soon');
    await ts.env.sleep(3 * H);
    assertOffsets(receiver, [0, 2 * H]);
  });

  it('the suspension-8 preset on a sandbox endpoint: 9 attempts at 5m … 168h, then the sandbox bucket for 3 days', async () => {
    const { customerId, receiver } = await customerWith(always(500), 'sandbox', 'suspension-8');
    await submit('sandbox', customerId, 'evt_s8');
    await ts.env.sleep(167 * H);
    await sleepUntilStatus('sandbox', customerId, 'evt_s8', 'pending', 1 * M);
    assertOffsets(receiver, [0, 5 * M, 15 * M, 30 * M, 1 * H, 6 * H, 24 * H, 96 * H, 168 * H]);
    const state = await ts.service.getDocument('sandbox', customerId, 'evt_s8');
    assert.equal(state.status, 'pending');
    assert.equal(Date.parse(state.expiresAt!) - Date.parse(state.pendingSince!), 3 * D);
    assert.equal((await listKeys(ts.s3, config.BUCKET_SANDBOX, `pending/${customerId}/`)).length, 1);
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_PRODUCTION, `pending/${customerId}/`), []);
  });

  it('a URL fixed mid-schedule is used by the next attempt', async () => {
    const { customerId, receiver } = await customerWith(always(500));
    await submit('production', customerId, 'evt_fixed');
    await ts.env.sleep(1 * H);
    const fixed = await startReceiver(always(200), ts.now);
    receivers.push(fixed);
    await ts.service.configureWebhook('production', customerId, { url: fixed.url });
    await ts.env.sleep(2 * H);
    assert.equal(receiver.received.length, 1);
    assert.equal(fixed.received.length, 1);
    assert.equal((await ts.service.getDocument('production', customerId, 'evt_fixed')).status, 'delivered');
  });

  it('the same document submitted twice is delivered once', async () => {
    const { customerId, receiver } = await customerWith(always(200));
    assert.equal(await submit('production', customerId, 'evt_twice'), 'sending');
    await ts.env.sleep(1 * M);
    assert.equal(await submit('production', customerId, 'evt_twice', { n: 2 }), 'delivered');
    await ts.env.sleep(1 * M);
    assert.equal(receiver.received.length, 1);
    assert.deepEqual(JSON.parse(receiver.received[0].body).data, { n: 1 });
  });

  it('a delivered document resent: one attempt at once, its log going on; a failed resend waits pending 10 days, then expires', async () => {
    const receiver = await startReceiver(always(200), ts.now);
    receivers.push(receiver);
    const customerId = `cust${++customerSeq}`;
    await ts.service.createCustomer({ id: customerId, name: 'Resender' });
    await ts.service.configureWebhook('production', customerId, { url: receiver.url });
    await submit('production', customerId, 'evt_again', { n: 7 });
    await sleepUntilStatus('production', customerId, 'evt_again', 'delivered', M);
    await ts.env.sleep(3 * D);

    const resent = await ts.service.resendToEndpoint('production', customerId, 'evt_again', 'ep_default');
    assert.deepEqual(resent, { id: 'evt_again', endpointId: 'ep_default', resent: 'new_run' });
    await sleepUntilStatus('production', customerId, 'evt_again', 'delivered', M);
    const delivered = await ts.service.getDocument('production', customerId, 'evt_again');
    assert.deepEqual(
      delivered.attempts.map((a) => [a.attemptNumber, a.trigger, a.responseStatusCode]),
      [
        [1, 'scheduled', 200],
        [2, 'resend', 200],
      ],
    );
    assert.equal(receiver.received.length, 2);
    assert.equal(receiver.received[1].body, receiver.received[0].body, 'the document as it was submitted');
    assert.ok(receiver.received[1].at - receiver.received[0].at >= 3 * D, 'sent when asked, not on a schedule');

    // The receiver now fails: the resend keeps it pending (no retry schedule), until its retention ends.
    receiver.setBehaviour(always(500));
    await ts.service.resendToEndpoint('production', customerId, 'evt_again', 'ep_default');
    await sleepUntilStatus('production', customerId, 'evt_again', 'pending', M);
    const pending = await ts.service.getDocument('production', customerId, 'evt_again');
    assert.equal(pending.attempts.at(-1)!.trigger, 'resend');
    assert.equal(pending.attemptCount, 3);
    assert.equal(Date.parse(pending.expiresAt!) - Date.parse(pending.pendingSince!), 10 * D);
    const keys = await listKeys(ts.s3, config.BUCKET_PRODUCTION, `pending/${customerId}/`);
    assert.equal(keys.length, 1);
    assert.deepEqual(JSON.parse((await readObject(ts.s3, config.BUCKET_PRODUCTION, keys[0])).body).data, { n: 7 });
    await ts.env.sleep(10 * D + H);
    assert.equal((await ts.service.getDocument('production', customerId, 'evt_again')).status, 'expired');
    // Past its retention: an operator restore, not a resend, brings it back.
    await assert.rejects(ts.service.resendToEndpoint('production', customerId, 'evt_again', 'ep_default'), {
      httpStatus: 409,
    });
  });

  it(`a delivered document is resent at most ${MAX_RESENT_RUNS} times after it ended: each a run that visibility keeps`, async () => {
    const { customerId, receiver } = await customerWith(always(200));
    await submit('production', customerId, 'evt_loop');
    const handle = ts.client.workflow.getHandle(deliveryWorkflowId('production', customerId, 'evt_loop'));
    await handle.result();
    for (let n = 1; n <= MAX_RESENT_RUNS; n++) {
      const resent = await ts.service.resendToEndpoint('production', customerId, 'evt_loop', 'ep_default');
      assert.equal(resent.resent, 'new_run');
      // Ended again before the next: a resend of a run under way is not a new one.
      assert.equal((await handle.result()).status, 'delivered');
    }
    await assert.rejects(ts.service.resendToEndpoint('production', customerId, 'evt_loop', 'ep_default'), {
      httpStatus: 409,
      message: new RegExp(`resent to ep_default ${MAX_RESENT_RUNS} times`),
    });
    assert.equal(receiver.received.length, MAX_RESENT_RUNS + 1);
    const state = await ts.service.getDocument('production', customerId, 'evt_loop');
    assert.equal(state.attemptCount, MAX_RESENT_RUNS + 1, 'every run went on from the one before');
  });
});
