import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Webhook } from 'standardwebhooks';
import { createDeliverActivities, type EndpointReader } from '../../src/activities/deliver';
import type { DocumentInput, EndpointState } from '../../src/domain/schemas';
import { createDeliveryAgent } from '../../src/lib/http-agent';
import { createMetrics } from '../../src/lib/metrics';
import type { BodyStore } from '../../src/bucket/bodies';
import type { PendingQueue } from '../../src/bucket/queue';
import { SecretSeal } from '../../src/lib/secret-seal';
import { generateWebhookSecret } from '../../src/lib/signature';
import { freePort } from '../../scripts/lib/stack';
import { testConfig } from '../helpers/config';
import { always, startReceiver, type Receiver } from '../helpers/receiver';

const secret = generateWebhookSecret();
const document: DocumentInput = {
  customerId: 'acme',
  id: 'evt_1',
  type: 'event',
  environment: 'production',
  createdAt: '2026-11-23T08:00:00.000Z',
  data: { amount: 42, note: 'héllo' },
};

/** Documents here are sent by value: nothing is read from a bucket. */
const store = {} as PendingQueue;
// These documents carry their data: nothing is read from the stored bodies.
const bodies = {} as BodyStore;
/** The endpoints here hold their secrets in the clear, as entities made before sealing do; both sign alike. */
const seal = new SecretSeal(testConfig().SECRET_KEYS);

/** Slots as an entity hands them out for a limit of 2 per second, from now on. */
let nextSlot = 0;
const slots = {
  async reserve() {
    const at = Math.max(Date.now(), nextSlot);
    nextSlot = at + 1100 / 2;
    return at;
  },
};

/** Runs an activity function in an activity context, as the worker does (it heartbeats while it waits). */
const inActivity = <A, R>(fn: (arg: A) => Promise<R>, arg: A): Promise<R> =>
  new MockActivityEnvironment().run(fn, arg) as Promise<R>;

/** The endpoint as the entity would answer it; the activity reads it at every attempt. */
function endpointAt(url: string | undefined, extra: Partial<EndpointState> = {}): EndpointReader {
  const endpoint: EndpointState = {
    customerId: 'acme',
    customerName: 'Acme',
    environment: 'production',
    apiKeyHash: 'x',
    url,
    secret,
    status: 'active',
    preferences: { pendingNotifications: true },
    counters: { retriesExhausted: 0, suspensions: 0 },
    updatedAt: '',
    ...extra,
  };
  return { get: async () => endpoint };
}

describe('attemptDelivery against a real HTTP receiver', () => {
  let receiver: Receiver;
  const config = testConfig({ DELIVERY_TIMEOUT: '500ms', RETRY_SCHEDULE_PRODUCTION: '1s,2s' });
  const http = createDeliveryAgent(config);
  const metrics = createMetrics();
  const attempt = (url: string | undefined, extra?: Partial<EndpointState>) =>
    inActivity(
      createDeliverActivities({ http, endpoints: endpointAt(url, extra), slots, store, bodies, seal, config, metrics })
        .attemptDelivery,
      {
        document,
        attemptNumber: 1,
        trigger: 'scheduled',
      },
    );

  before(async () => {
    receiver = await startReceiver(always(200));
  });
  after(async () => {
    await receiver.close();
    await http.close();
  });

  it('delivers the body with Standard Webhooks headers that an independent verifier accepts', async () => {
    receiver.setBehaviour(always(204));
    const outcome = await attempt(receiver.url);
    assert.equal(outcome.delivered, true);
    assert.equal(outcome.attempt.responseStatusCode, 204);
    const got = receiver.received.at(-1)!;
    const verified = new Webhook(secret).verify(got.body, got.headers as Record<string, string>);
    assert.deepEqual(verified, {
      id: 'evt_1',
      type: 'event',
      environment: 'production',
      createdAt: document.createdAt,
      data: document.data,
    });
    assert.equal(got.headers['webhook-id'], 'evt_1');
    assert.throws(() => new Webhook(generateWebhookSecret()).verify(got.body, got.headers as Record<string, string>));
  });

  it('answers the schedule configured on the endpoint, else the environment default', async () => {
    assert.deepEqual((await attempt(receiver.url)).retryScheduleMs, [1000, 2000]);
    assert.deepEqual((await attempt(receiver.url, { retrySchedule: 'suspension-8' })).retryScheduleMs.length, 8);
  });

  for (const status of [500, 404, 302, 301]) {
    it(`records HTTP ${status} as a failed attempt and does not follow redirects`, async () => {
      const before = receiver.received.length;
      receiver.setBehaviour(() => ({ status, headers: { location: receiver.url + '?redirected' } }));
      const outcome = await attempt(receiver.url);
      assert.equal(outcome.delivered, false);
      assert.equal(outcome.attempt.responseStatusCode, status);
      assert.equal(outcome.attempt.error, `HTTP ${status}`);
      assert.equal(receiver.received.length, before + 1, 'exactly one request, no redirect followed');
    });
  }

  it("keeps the receiver's answer: the first 2 KB of its body, whole characters only, and its content type", async () => {
    const answer = JSON.stringify({ error: 'quota exceeded!', detail: 'é'.repeat(3000) });
    receiver.setBehaviour(() => ({ status: 422, headers: { 'content-type': 'application/json' }, body: answer }));
    const failed = (await attempt(receiver.url)).attempt;
    assert.equal(failed.responseContentType, 'application/json');
    // 2,048 bytes of an answer whose "é"s take two: the one cut in two at the end is left out.
    assert.equal(Buffer.byteLength(failed.responseBody!), 2047);
    assert.ok(answer.startsWith(failed.responseBody!));
    assert.ok(failed.responseBody!.startsWith('{"error":"quota exceeded!"'));

    receiver.setBehaviour(() => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'thanks' }));
    const ok = (await attempt(receiver.url)).attempt;
    assert.deepEqual([ok.responseBody, ok.responseContentType], ['thanks', 'text/plain']);
    receiver.setBehaviour(always(204));
    assert.equal((await attempt(receiver.url)).attempt.responseBody, undefined, 'no body, nothing kept');
  });

  it('410 Gone says stop', async () => {
    receiver.setBehaviour(always(410));
    const outcome = await attempt(receiver.url);
    assert.equal(outcome.gone, true);
    assert.equal(outcome.delivered, false);
  });

  it('takes Retry-After in seconds or as a date on 429 and 503, and ignores it elsewhere', async () => {
    receiver.setBehaviour(() => ({ status: 429, headers: { 'retry-after': '120' } }));
    assert.equal((await attempt(receiver.url)).retryAfterMs, 120_000);
    const date = new Date(Date.now() + 3_600_000).toUTCString();
    receiver.setBehaviour(() => ({ status: 503, headers: { 'retry-after': date } }));
    const ms = (await attempt(receiver.url)).retryAfterMs!;
    assert.ok(ms > 3_590_000 && ms <= 3_600_000, `${ms}`);
    receiver.setBehaviour(() => ({ status: 500, headers: { 'retry-after': '120' } }));
    assert.equal((await attempt(receiver.url)).retryAfterMs, undefined);
  });

  it('a receiver that does not answer within DELIVERY_TIMEOUT is a timeout', async () => {
    receiver.setBehaviour(() => 'hang');
    const started = Date.now();
    const outcome = await attempt(receiver.url);
    assert.equal(outcome.delivered, false);
    assert.match(outcome.attempt.error!, /timeout/i);
    assert.ok(Date.now() - started < 3_000, 'gave up near the 500 ms timeout');
    assert.ok(outcome.attempt.responseDurationMs >= 450);
  });

  it('a reset connection, a refused port and an unknown host are failed attempts with their cause', async () => {
    receiver.setBehaviour(() => 'reset');
    assert.match((await attempt(receiver.url)).attempt.error!, /socket|ECONNRESET|closed/i);
    const closed = await freePort();
    assert.match((await attempt(`http://127.0.0.1:${closed}/hook`)).attempt.error!, /ECONNREFUSED/);
    assert.match((await attempt('http://no-such-host.invalid/hook')).attempt.error!, /ENOTFOUND|EAI_AGAIN/);
  });

  it('no URL configured is a failed attempt, not an error', async () => {
    const outcome = await attempt(undefined);
    assert.equal(outcome.delivered, false);
    assert.match(outcome.attempt.error!, /no webhook URL/);
  });

  it('outside the local stack, private addresses are refused without a request', async () => {
    const strict = testConfig({ ALLOW_PRIVATE_URLS: 'false' });
    const agent = createDeliveryAgent(strict);
    const before = receiver.received.length;
    const run = (url: string) =>
      inActivity(
        createDeliverActivities({
          http: agent,
          endpoints: endpointAt(url),
          slots,
          store,
          bodies,
          seal,
          config: strict,
          metrics,
        }).attemptDelivery,
        {
          document,
          attemptNumber: 1,
          trigger: 'scheduled',
        },
      );
    assert.match((await run(receiver.url)).attempt.error!, /EPRIVATEADDRESS/);
    const port = new URL(receiver.url).port;
    assert.match((await run(`http://localhost:${port}/hook`)).attempt.error!, /EPRIVATEADDRESS/);
    assert.equal(receiver.received.length, before);
    await agent.close();
  });
  it('rate limited: a far slot answers throttled unsent; a reserved slot is sent in; a missed one is not used', async () => {
    receiver.setBehaviour(always(200));
    let reservations = 0;
    const farOff = { reserve: async () => (reservations++, Date.now() + 10_000) };
    const limited = (slotAt?: string) =>
      inActivity(
        createDeliverActivities({
          http,
          endpoints: endpointAt(receiver.url, { rateLimit: 2 }),
          slots: farOff,
          store,
          bodies,
          seal,
          config,
          metrics,
        }).attemptDelivery,
        { document, attemptNumber: 1, trigger: 'scheduled' as const, slotAt },
      );
    const before = receiver.received.length;

    const throttled = await limited();
    assert.ok(
      Date.parse(throttled.throttledUntil!) > Date.now() + 5_000,
      'the reserved slot, for the workflow to wait',
    );
    assert.equal(receiver.received.length, before, 'nothing sent');

    const slotAt = new Date(Date.now() + 300).toISOString();
    const sent = await limited(slotAt);
    assert.equal(sent.delivered, true);
    assert.ok(Date.parse(sent.attempt.at) >= Date.parse(slotAt), `sent at ${sent.attempt.at}, slot ${slotAt}`);
    assert.equal(reservations, 1, 'a reserved slot is not reserved again');

    // The workflow woke half a second after its slot: sending now could crowd the next ones, so a fresh slot is taken.
    const missed = await limited(new Date(Date.now() - 500).toISOString());
    assert.ok(missed.throttledUntil, 'not sent in a missed slot');
    assert.equal(reservations, 2);
    assert.equal(receiver.received.length, before + 1);
  });

  it("rate limited: slots are reckoned in the entity's clock, and a run that hands out no more answers busy", async () => {
    receiver.setBehaviour(always(200));
    // The entity's clock an hour ahead of this process (as the time-skipping server's is after a skip).
    const skew = 3_600_000;
    const notBefore: number[] = [];
    let refuse = false;
    const slots = {
      reserve: async (_e: string, _c: string, at: number) => (notBefore.push(at), refuse ? undefined : at + 200),
    };
    const limited = (slotAt?: string) =>
      inActivity(
        createDeliverActivities({
          http,
          endpoints: endpointAt(receiver.url, { rateLimit: 2 }),
          slots,
          store,
          bodies,
          seal,
          config,
          metrics,
          clock: async () => Date.now() + skew,
        }).attemptDelivery,
        { document, attemptNumber: 1, trigger: 'scheduled' as const, slotAt },
      );
    const before = receiver.received.length;
    const started = Date.now();
    const sent = await limited();
    assert.equal(sent.delivered, true, 'a slot 200 ms off on the entity clock is waited for inline, not an hour');
    assert.ok(Date.now() - started < 5_000);
    assert.ok(Math.abs(notBefore[0] - (started + skew)) < 1_000, 'notBefore is on the entity clock');
    // A slot reserved earlier and due now on the entity clock is sent in (on this process's clock it is an hour off).
    const inSlot = await limited(new Date(Date.now() + skew).toISOString());
    assert.equal(inSlot.delivered, true);
    assert.equal(notBefore.length, 1, 'a reserved slot is not reserved again');

    refuse = true;
    const refused = await limited();
    assert.equal(refused.delivered, false);
    assert.ok(refused.busyForMs! > 0, 'the attempt waits a moment and asks the next run');
    assert.equal(refused.attempt.error, undefined);
    assert.equal(receiver.received.length, before + 2, 'nothing sent without a slot');
  });

  it('counts every attempt by outcome in the metrics, and times the ones that were sent', async () => {
    const counted = async () => {
      const { values } = await metrics.attempts.get();
      return Object.fromEntries(values.map((v) => [v.labels.outcome, v.value]));
    };
    const before = await counted();
    const closed = await freePort();
    for (const status of [200, 404, 410, 503]) {
      receiver.setBehaviour(always(status));
      await attempt(receiver.url);
    }
    receiver.setBehaviour(() => 'hang');
    await attempt(receiver.url);
    await attempt(`http://127.0.0.1:${closed}/hook`);
    await attempt(undefined);
    await attempt(receiver.url, { status: 'suspended' });
    const after = await counted();
    const moved = Object.fromEntries(
      Object.entries(after)
        .map(([outcome, n]) => [outcome, Number(n) - (before[outcome] ?? 0)])
        .filter(([, n]) => n !== 0),
    );
    // The suspended one sent nothing and is not an attempt.
    assert.deepEqual(moved, { delivered: 1, http_4xx: 1, gone: 1, http_5xx: 1, timeout: 1, network: 1, not_sent: 1 });
    const text = await metrics.registry.metrics();
    assert.match(
      text,
      /webhook_delivery_attempt_duration_seconds_count\{environment="production",outcome="timeout"\} \d/,
    );
    assert.doesNotMatch(text, /webhook_delivery_attempt_duration_seconds_count\{[^}]*outcome="not_sent"/);
    assert.doesNotMatch(text, /acme/, 'no customer id in any label');
  });
});
