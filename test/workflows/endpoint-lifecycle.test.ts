import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { startMailSink, type MailSink } from '../../scripts/lib/mail-sink';
import { freePort, waitFor } from '../../scripts/lib/stack';
import type { Config } from '../../src/config';
import { testConfig } from '../helpers/config';
import { always, startReceiver, type Behaviour, type Receiver } from '../helpers/receiver';
import { listKeys, startTestS3 } from '../helpers/s3';
import { startTimeSkipping, type TimeSkipping } from '../helpers/temporal';

const M = 60_000;
const H = 60 * M;

describe('endpoint lifecycle with time skipping: suspension, probes, reactivation, notifications', () => {
  let s3: Awaited<ReturnType<typeof startTestS3>>;
  let ts: TimeSkipping;
  let mail: MailSink;
  let config: Config;
  const receivers: Receiver[] = [];
  const customers: string[] = [];
  let seq = 0;

  before(async () => {
    s3 = await startTestS3();
    mail = await startMailSink({ port: await freePort() });
    config = testConfig({
      ...s3.env,
      SMTP_URL: `smtp://127.0.0.1:${mail.port}`,
      DELIVERY_TIMEOUT: '2s',
      REPLAY_CONCURRENCY: '1',
      // Replay reads the bucket two documents at a time, so five documents take three reads.
      REPLAY_PAGE_SIZE: '2',
      NOTIFICATION_WINDOW: '1m',
      NOTIFICATION_REMINDER: '1h',
      RETENTION_PRODUCTION: '10d',
    });
    ts = await startTimeSkipping(config);
  });
  // A manually suspended endpoint is not probed: finished tests must not keep probing through later tests' days.
  afterEach(async () => {
    for (const customerId of customers.splice(0)) await ts.service.setActive('production', customerId, false);
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await ts?.stop();
    await mail?.close();
    await s3?.stop();
  });

  async function receiver(behaviour: Behaviour) {
    const r = await startReceiver(behaviour, ts.now);
    receivers.push(r);
    return r;
  }

  async function customer(opts: { behaviour: Behaviour; schedule: string; email?: boolean; notify?: Behaviour }) {
    const customerId = `life${++seq}`;
    customers.push(customerId);
    await ts.service.createCustomer({ id: customerId, name: `Life ${seq}` });
    const hook = await receiver(opts.behaviour);
    const notifications = opts.notify ? await receiver(opts.notify) : undefined;
    const endpoint = await ts.service.configureWebhook('production', customerId, {
      url: hook.url,
      retrySchedule: opts.schedule,
      suspensionEmail: opts.email === false ? undefined : `ops+${customerId}@example.com`,
      notificationUrl: notifications?.url,
    });
    return { customerId, hook, notifications, secret: endpoint.secret! };
  }

  const submit = (customerId: string, id: string, type: 'event' | 'summary' = 'event') =>
    ts.service.submitDocument('production', { customerId, id, type, data: { id } });
  const status = async (customerId: string, id: string) =>
    (await ts.service.getDocument('production', customerId, id)).status;
  const endpoint = async (customerId: string) => (await ts.service.findEndpoint('production', customerId))!;
  const quiesce = (customerId: string) => ts.service.setActive('production', customerId, false);
  const mailsTo = (customerId: string) =>
    mail.messages.filter((m) => [m.to].flat().some((a) => a?.text.includes(customerId)));

  it('documents that run out suspend the endpoint once, with exactly one email that says what happened', async () => {
    const { customerId, hook } = await customer({ behaviour: always(500), schedule: '1m,1m' });
    await submit(customerId, 'a');
    await submit(customerId, 'b');
    await ts.env.sleep(5 * M);

    const state = await endpoint(customerId);
    assert.equal(state.status, 'suspended');
    assert.match(state.suspension!.reason, /retries ran out/);
    assert.equal(state.lastError, 'HTTP 500');
    assert.equal(state.counters.suspensions, 1, 'two documents ran out, one suspension');
    assert.ok(state.counters.retriesExhausted >= 1);
    assert.equal(await ts.service.countPending('production', customerId), 2);

    const mails = mailsTo(customerId);
    assert.equal(mails.length, 1, 'exactly one email per suspension');
    assert.match(mails[0].subject!, /suspended/i);
    for (const fact of [
      customerId,
      'production',
      hook.url,
      state.suspension!.at,
      'HTTP 500',
      '2 document(s)',
      'PATCH',
    ]) {
      assert.ok(mails[0].text!.includes(fact), `the email mentions ${fact}`);
    }
  });

  it('while suspended, new documents go to the bucket without any attempt at the receiver', async () => {
    const { customerId, hook } = await customer({ behaviour: always(503), schedule: '1m,1m', email: false });
    await submit(customerId, 'first');
    await ts.env.sleep(3 * M);
    assert.equal((await endpoint(customerId)).status, 'suspended');
    await submit(customerId, 'while-suspended');
    await ts.env.sleep(10 * M);
    // Probes go on with the oldest pending document; the new one is never sent.
    assert.ok(
      hook.received.every((r) => r.headers['webhook-id'] === 'first'),
      'the new document was not attempted',
    );
    const doc = await ts.service.getDocument('production', customerId, 'while-suspended');
    assert.equal(doc.status, 'pending');
    assert.deepEqual(doc.attempts, []);
    assert.equal((await listKeys(ts.s3, config.BUCKET_PRODUCTION, `pending/${customerId}/`)).length, 2);
    assert.equal(mailsTo(customerId).length, 0, 'no suspension email configured: none sent, suspension still recorded');
  });

  it('the probe loop tries the oldest pending document on the schedule and reactivates when the receiver is back', async () => {
    const { customerId, hook } = await customer({ behaviour: always(500), schedule: '1h,2h' });
    await submit(customerId, 'p1');
    await ts.env.sleep(3 * H + 10 * M);
    assert.equal((await endpoint(customerId)).status, 'suspended');
    await ts.env.sleep(1 * M);
    await submit(customerId, 'p2');
    await ts.env.sleep(1 * M);
    const suspendedAt = Date.parse((await endpoint(customerId)).suspension!.at);

    // Probes restart from the first interval: 1 h after suspension, then 2 h later, then every 2 h.
    const before = hook.received.length;
    await ts.env.sleep(3 * H + 10 * M);
    const probes = hook.received.slice(before);
    assert.deepEqual(
      probes.map((r) => r.headers['webhook-id']),
      ['p1', 'p1'],
      'each probe uses the oldest pending document',
    );
    assert.ok(Math.abs(probes[0].at - (suspendedAt + 1 * H)) < 10_000);
    assert.ok(Math.abs(probes[1].at - (suspendedAt + 3 * H)) < 10_000);

    hook.setBehaviour(always(200));
    await ts.env.sleep(2 * H + 10 * M);
    const state = await endpoint(customerId);
    assert.equal(state.status, 'active');
    assert.equal(await status(customerId, 'p1'), 'delivered');
    assert.equal(await status(customerId, 'p2'), 'delivered', 'the rest is replayed after the probe succeeds');
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_PRODUCTION, `pending/${customerId}/`), []);
    const mails = mailsTo(customerId);
    assert.deepEqual(
      mails.map((m) => (/recovered/i.test(m.subject!) ? 'recovered' : 'suspended')),
      ['suspended', 'recovered'],
    );
  });

  it("a customer's resend that the fixed receiver accepts revives the endpoint at once, as a probe would", async () => {
    const { customerId, hook } = await customer({ behaviour: always(500), schedule: '1h,2h' });
    await submit(customerId, 'v1');
    await ts.env.sleep(3 * H + 10 * M);
    const suspended = await endpoint(customerId);
    assert.equal(suspended.status, 'suspended');
    await submit(customerId, 'v2');
    await ts.env.sleep(1 * M);
    assert.equal(await status(customerId, 'v2'), 'pending', 'straight to the bucket while suspended');

    // The customer fixes the receiver and resends one document, long before the first probe (1 h after suspension).
    hook.setBehaviour(always(200));
    await ts.service.resend('production', customerId, 'v1');
    await ts.env.sleep(2 * M);
    const revived = await endpoint(customerId);
    assert.equal(revived.status, 'active', 'reactivated by the resend, not left for the probe');
    assert.ok((await ts.now()) < Date.parse(suspended.suspension!.at) + 1 * H, 'before any probe');
    assert.equal(await status(customerId, 'v1'), 'delivered');
    assert.equal(await status(customerId, 'v2'), 'delivered', 'the rest is replayed');
    assert.deepEqual(
      hook.received.filter((r) => r.at > Date.parse(suspended.suspension!.at)).map((r) => r.headers['webhook-id']),
      ['v1', 'v2'],
      'no probe came: the resend, then the replay',
    );
    await waitFor('the recovered email', async () =>
      assert.deepEqual(
        mailsTo(customerId).map((m) => (/recovered/i.test(m.subject!) ? 'recovered' : 'suspended')),
        ['suspended', 'recovered'],
      ),
    );
  });

  it('manual reactivation replays every pending document oldest first and empties the bucket', async () => {
    const { customerId, hook } = await customer({ behaviour: always(500), schedule: '1m', email: false });
    await submit(customerId, 'm0');
    await ts.env.sleep(2 * M);
    assert.equal((await endpoint(customerId)).status, 'suspended');
    for (const id of ['m1', 'm2', 'm3', 'm4']) {
      await submit(customerId, id);
      await ts.env.sleep(1 * M);
    }
    await ts.env.sleep(10 * M);
    assert.equal(await ts.service.countPending('production', customerId), 5);
    const before = hook.received.length;
    hook.setBehaviour(always(200));

    const reactivated = await ts.service.setActive('production', customerId, true);
    assert.equal(reactivated.status, 'active');
    await ts.env.sleep(5 * M);
    assert.deepEqual(
      hook.received.slice(before).map((r) => r.headers['webhook-id']),
      ['m0', 'm1', 'm2', 'm3', 'm4'],
    );
    for (const id of ['m0', 'm1', 'm2', 'm3', 'm4']) assert.equal(await status(customerId, id), 'delivered');
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_PRODUCTION, `pending/${customerId}/`), []);
    assert.equal(await ts.service.countPending('production', customerId), 0);

    const again = await ts.service.setActive('production', customerId, true);
    assert.equal(again.status, 'active', 'reactivating an active endpoint is a no-op');
  });

  it('a replayed document that fails again stays pending with its expiry unchanged', async () => {
    const { customerId, hook } = await customer({ behaviour: always(500), schedule: '1m', email: false });
    await submit(customerId, 'r1');
    await ts.env.sleep(3 * M);
    const expiresAt = (await ts.service.getDocument('production', customerId, 'r1')).expiresAt;
    const before = hook.received.length;
    await ts.service.setActive('production', customerId, true);
    await ts.env.sleep(30_000);
    assert.equal(hook.received.length, before + 1);
    const doc = await ts.service.getDocument('production', customerId, 'r1');
    assert.equal(doc.status, 'pending');
    assert.equal(doc.expiresAt, expiresAt);
    assert.equal(doc.attempts.at(-1)!.trigger, 'replay', 'the replay after the reactivation says so');
  });

  it('reactivated while the receiver is still down: suspended again and probed, so all is delivered once it recovers', async () => {
    let down = true;
    const { customerId, hook } = await customer({
      behaviour: () => ({ status: down ? 500 : 200 }),
      schedule: '1m',
      email: false,
    });
    const ids = ['s0', 's1', 's2'];
    for (const id of ids) await submit(customerId, id);
    await ts.env.sleep(3 * M);
    for (const id of ids) assert.equal(await status(customerId, id), 'pending');
    assert.equal((await endpoint(customerId)).status, 'suspended');

    // The customer turns it on too early: the replay fails for every document.
    const before = hook.received.length;
    assert.equal((await ts.service.setActive('production', customerId, true)).status, 'active');
    await ts.env.sleep(30_000);
    assert.equal(hook.received.length, before + ids.length, 'each replayed once');
    const again = await endpoint(customerId);
    assert.equal(again.status, 'suspended', 'suspended again, not left active with nothing coming');
    assert.match(again.suspension!.reason, /replay after the reactivation failed/);

    // The receiver recovers a minute later: the next probe finds it, and the replay delivers everything.
    down = false;
    await ts.env.sleep(5 * M);
    for (const id of ids) assert.equal(await status(customerId, id), 'delivered', id);
    assert.equal((await endpoint(customerId)).status, 'active');
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_PRODUCTION, `pending/${customerId}/`), []);
  });

  it('documents entering the bucket within a window share one signed notification; preferences opt out', async () => {
    const { customerId, notifications, secret } = await customer({
      behaviour: always(500),
      schedule: '1m',
      email: false,
      notify: always(200),
    });
    await submit(customerId, 'n1', 'event');
    await submit(customerId, 'n2', 'summary');
    await submit(customerId, 'n3', 'event');
    await ts.env.sleep(4 * M);

    const got = notifications!.received.filter((r) => !JSON.parse(r.body).reminder);
    assert.equal(got.length, 1, 'one notification for three documents');
    const body = new Webhook(secret).verify(got[0].body, got[0].headers as Record<string, string>) as {
      type: string;
      pending: { events: number; summaries: number };
      documentIds: string[];
      oldestExpiresAt: string;
    };
    assert.equal(body.type, 'documents.pending');
    assert.deepEqual(body.pending, { events: 2, summaries: 1 });
    assert.deepEqual([...body.documentIds].sort(), ['n1', 'n2', 'n3']);
    assert.ok(body.oldestExpiresAt);

    await ts.service.updatePreferences('production', customerId, { pendingNotifications: false });
    await ts.service.setActive('production', customerId, false);
    await submit(customerId, 'n4');
    await ts.env.sleep(5 * M);
    assert.equal(notifications!.received.length, 1, 'opted out: no notification');
    assert.equal(await status(customerId, 'n4'), 'pending', 'documents are still stored');
  });

  it('a reminder goes before the oldest pending document expires', async () => {
    const { customerId, notifications } = await customer({
      behaviour: always(500),
      schedule: '1m',
      email: false,
      notify: always(200),
    });
    await submit(customerId, 'old');
    await ts.env.sleep(5 * M);
    await quiesce(customerId);
    const expiresAt = Date.parse((await ts.service.getDocument('production', customerId, 'old')).expiresAt!);
    await ts.env.sleep(10 * 24 * H - 30 * M);
    const reminders = notifications!.received.filter((r) => JSON.parse(r.body).reminder);
    assert.equal(reminders.length, 1);
    assert.ok(Math.abs(reminders[0].at - (expiresAt - 1 * H)) < 10_000, 'one hour before expiry');
  });

  it('a failing notification URL is tried a few times, then given up, and never holds a document back', async () => {
    const { customerId, notifications } = await customer({
      behaviour: always(500),
      schedule: '1m',
      email: false,
      notify: always(500),
    });
    await submit(customerId, 'f1');
    await ts.env.sleep(30 * M);
    assert.equal(notifications!.received.length, 4, 'four tries, then given up');
    assert.equal(await status(customerId, 'f1'), 'pending');
    await ts.service.setActive('production', customerId, true);
    assert.equal((await endpoint(customerId)).status, 'active');
  });
});
