import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Transporter } from 'nodemailer';
import {
  createDeliverActivities,
  MAX_WAITED_ROUNDS,
  type AttemptDeliveryInput,
  type EndpointReader,
} from '../../src/activities/deliver';
import { createEndpointActivities } from '../../src/activities/endpoint';
import { createOperatorActivities } from '../../src/activities/operator';
import type { DocumentInput, EndpointState } from '../../src/domain/schemas';
import { createDeliveryAgent } from '../../src/lib/http-agent';
import { createMetrics, registerSendGauges } from '../../src/lib/metrics';
import { createSendGuards } from '../../src/lib/send-guards';
import { generateWebhookSecret } from '../../src/lib/signature';
import type { PendingCounter } from '../../src/bucket/counts';
import type { BodyStore } from '../../src/bucket/bodies';
import type { PendingQueue } from '../../src/bucket/queue';
import { SecretSeal } from '../../src/lib/secret-seal';
import { testConfig } from '../helpers/config';
import { always, startReceiver, type Receiver } from '../helpers/receiver';

const inActivity = <A, R>(fn: (arg: A) => Promise<R>, arg: A): Promise<R> =>
  new MockActivityEnvironment().run(fn, arg) as Promise<R>;

const until = async (what: string, check: () => boolean) => {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never: ${what}`);
};

/** Two customers' endpoints, each at its own receiver. */
function endpointsAt(urls: Record<string, string>, extra: Partial<EndpointState> = {}): EndpointReader {
  return {
    get: async (environment, customerId) => ({
      customerId,
      customerName: customerId,
      environment,
      apiKeyHash: 'x',
      url: urls[`${environment}/${customerId}`] ?? urls[customerId],
      notificationUrl: urls[customerId],
      secret: generateWebhookSecret(),
      status: 'active',
      preferences: { pendingNotifications: true },
      counters: { retriesExhausted: 0, suspensions: 0 },
      updatedAt: '',
      ...extra,
    }),
  };
}

const doc = (customerId: string, id: string): DocumentInput => ({
  customerId,
  id,
  type: 'event',
  environment: 'production',
  createdAt: '2026-12-01T08:00:00.000Z',
  data: { id },
});

describe("every sending path takes a place in its endpoint's share; scheduled attempts pass its breaker", () => {
  let slow: Receiver;
  let fine: Receiver;
  const config = testConfig({
    DELIVERY_TIMEOUT: '3s',
    ENDPOINT_MAX_IN_FLIGHT: '2',
    BREAKER_FAILURES: '3',
    BREAKER_COOLDOWN: '1m',
    OPERATOR_WEBHOOK_SECRET: generateWebhookSecret(),
  });
  const http = createDeliveryAgent(config);
  before(async () => {
    slow = await startReceiver(() => 'hang');
    fine = await startReceiver(always(200));
  });
  after(async () => {
    await slow.close();
    await fine.close();
    await http.close();
  });

  function activities(endpoints: EndpointReader) {
    const guards = createSendGuards(config);
    const metrics = createMetrics();
    registerSendGauges(metrics.registry, guards);
    const slots = { reserve: async () => Date.now() };
    const seal = new SecretSeal(config.SECRET_KEYS);
    const store = {} as PendingQueue;
    const bodies = {} as BodyStore;
    return {
      metrics,
      deliver: createDeliverActivities({ http, endpoints, slots, store, bodies, seal, config, metrics, guards }),
      endpoint: createEndpointActivities({
        counter: {} as PendingCounter,
        http,
        endpoints,
        mailer: {} as Transporter,
        config,
        metrics,
        guards,
        seal,
      }),
      operator: (url: string) =>
        createOperatorActivities({ operatorHttp: http, config: { ...config, OPERATOR_WEBHOOK_URL: url }, guards }),
    };
  }

  it('a hanging endpoint holds two places; its next attempt, notification and resend send nothing; other endpoints send', async () => {
    const { deliver, endpoint, metrics } = activities(
      endpointsAt({ slow: slow.url, fine: fine.url, 'sandbox/slow': fine.url }),
    );
    const request = (customerId: string, id: string, extra: Partial<AttemptDeliveryInput> = {}) =>
      inActivity(deliver.attemptDelivery, {
        document: doc(customerId, id),
        attemptNumber: 1,
        trigger: 'scheduled' as const,
        ...extra,
      });
    const hanging = [request('slow', 'a1'), request('slow', 'a2')];
    await until('two requests at the slow receiver', () => slow.open() === 2);

    const third = await request('slow', 'a3');
    assert.ok(third.busyForMs! >= 250, `wait ${third.busyForMs} ms on a timer`);
    assert.equal(third.attempt.skipped, undefined, 'not an attempt: nothing is recorded');
    const resend = await request('slow', 'a3', { trigger: 'manual', force: true });
    assert.ok(resend.busyForMs !== undefined, 'a resend takes a place too');
    const notified = await inActivity(endpoint.notifyPending, {
      environment: 'production' as const,
      customerId: 'slow',
      notificationId: 'ntf_1',
      reminder: false,
      summary: { pending: { events: 1, summaries: 0 }, documentIds: ['a3'], oldestExpiresAt: '' },
    });
    assert.equal(notified, 'busy');
    const given = await request('slow', 'a3', { waitedRounds: MAX_WAITED_ROUNDS });
    assert.equal(given.attempt.skipped, 'share_full', 'after the last round the attempt is skipped and recorded');

    const other = await request('fine', 'b1');
    assert.equal(other.delivered, true);
    const sandbox = await inActivity(deliver.attemptDelivery, {
      document: { ...doc('slow', 's1'), environment: 'sandbox' as const },
      attemptNumber: 1,
      trigger: 'scheduled' as const,
    });
    assert.equal(sandbox.delivered, true, "the same customer's sandbox endpoint has a share of its own");
    assert.equal(slow.received.length, 2, 'the slow receiver saw only the two');
    assert.equal(slow.mostOpen(), 2);
    const text = await metrics.registry.metrics();
    assert.match(text, /webhook_requests_in_flight\{kind="delivery"\} 2/);
    assert.match(text, /webhook_endpoint_share_waits_total\{environment="production"\} 2/);
    assert.match(text, /webhook_delivery_attempts_skipped_total\{environment="production",reason="share_full"\} 1/);

    const timedOut = await Promise.all(hanging);
    assert.ok(timedOut.every((o) => o.attempt.error?.startsWith('timeout')));
    assert.match(await metrics.registry.metrics(), /webhook_requests_in_flight\{kind="delivery"\} 0/);
  });

  it('the operator endpoint has a share of its own', async () => {
    const { operator } = activities(endpointsAt({}));
    const send = operator(slow.url).sendOperatorEvent;
    const event = (n: number) => ({
      id: `op_${n}`,
      type: 'endpoint.suspended' as const,
      timestamp: new Date().toISOString(),
      data: { customerId: 'c', environment: 'production' as const },
    });
    const before = slow.received.length;
    const hanging = [inActivity(send, event(1)), inActivity(send, event(2))].map((p) => p.catch(() => 'failed'));
    await until('two operator events at the slow receiver', () => slow.received.length === before + 2);
    assert.equal(await inActivity(send, event(3)), 'busy');
    await Promise.all(hanging);
  });

  it('a URL that failed three times is skipped until its trial; a resend still goes; the trial closes it', async () => {
    const failing = await startReceiver(always(503));
    const { deliver, metrics } = activities(endpointsAt({ flaky: failing.url }));
    try {
      const attempt = (id: string, force = false) =>
        inActivity(deliver.attemptDelivery, {
          document: doc('flaky', id),
          attemptNumber: 1,
          trigger: force ? ('manual' as const) : ('scheduled' as const),
          force,
        });
      for (const id of ['f1', 'f2', 'f3']) assert.equal((await attempt(id)).attempt.responseStatusCode, 503);
      const skipped = await attempt('f4');
      assert.equal(skipped.attempt.skipped, 'breaker_open');
      assert.match(skipped.attempt.error!, /circuit breaker is open until/);
      assert.equal(failing.received.length, 3, 'the skipped attempt sent nothing');
      assert.match(await metrics.registry.metrics(), /webhook_circuit_breakers_open 1/);
      assert.match(
        await metrics.registry.metrics(),
        /webhook_delivery_attempts_skipped_total\{environment="production",reason="breaker_open"\} 1/,
      );

      // A customer's resend goes through an open breaker, and its success closes it.
      failing.setBehaviour(always(200));
      assert.equal((await attempt('f4', true)).delivered, true);
      assert.equal((await attempt('f5')).delivered, true);
      assert.match(await metrics.registry.metrics(), /webhook_circuit_breakers_open 0/);
    } finally {
      await failing.close();
    }
  });
});
