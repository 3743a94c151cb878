import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Webhook } from 'standardwebhooks';
import { createDeliverActivities } from '../../src/activities/deliver';
import { createOperatorActivities } from '../../src/activities/operator';
import type { OperatorEvent } from '../../src/domain/operator-events';
import type { EndpointState } from '../../src/domain/schemas';
import { createDeliveryAgent, createOperatorAgent } from '../../src/lib/http-agent';
import { createMetrics } from '../../src/lib/metrics';
import { createSendGuards } from '../../src/lib/send-guards';
import { generateWebhookSecret } from '../../src/lib/signature';
import type { BodyStore } from '../../src/bucket/bodies';
import type { PendingQueue } from '../../src/bucket/queue';
import { SecretSeal } from '../../src/lib/secret-seal';
import { testConfig } from '../helpers/config';
import { always, startReceiver, type Receiver } from '../helpers/receiver';

const inActivity = <A, R>(fn: (arg: A) => Promise<R>, arg: A): Promise<R> =>
  new MockActivityEnvironment().run(fn, arg) as Promise<R>;

// Outside the local stack customers' URLs may not point at private networks (SSRF). The operator's webhook is the
// platform's own and often internal: with the same policy in force, it still receives its events.
describe('operator events on a private network, with the customers’ policy in force', () => {
  let receiver: Receiver;
  const secret = generateWebhookSecret();

  before(async () => {
    receiver = await startReceiver(always(200));
  });
  after(async () => {
    await receiver?.close();
  });

  it('reach an internal OPERATOR_WEBHOOK_URL, signed, while a customer URL on the same address is refused', async () => {
    const config = testConfig({
      ALLOW_PRIVATE_URLS: 'false',
      OPERATOR_WEBHOOK_URL: receiver.url,
      OPERATOR_WEBHOOK_SECRET: secret,
    });
    const guards = createSendGuards(config);
    const operator = createOperatorActivities({ operatorHttp: createOperatorAgent(config), config, guards });
    const event: OperatorEvent = {
      id: 'op_1',
      type: 'endpoint.suspended',
      timestamp: new Date().toISOString(),
      data: { customerId: 'c', environment: 'production' },
    };
    assert.equal(await inActivity(operator.sendOperatorEvent, event), 'sent');
    assert.equal(receiver.received.length, 1);
    const { headers, body } = receiver.received[0];
    assert.doesNotThrow(() =>
      new Webhook(secret).verify(body, {
        'webhook-id': String(headers['webhook-id']),
        'webhook-timestamp': String(headers['webhook-timestamp']),
        'webhook-signature': String(headers['webhook-signature']),
      }),
    );

    const endpoint: EndpointState = {
      customerId: 'c',
      customerName: 'c',
      environment: 'production',
      apiKeyHash: 'x',
      url: receiver.url,
      secret: generateWebhookSecret(),
      status: 'active',
      preferences: { pendingNotifications: true },
      counters: { retriesExhausted: 0, suspensions: 0 },
      updatedAt: '',
    };
    const deliver = createDeliverActivities({
      http: createDeliveryAgent(config),
      endpoints: { get: async () => endpoint },
      slots: { reserve: async () => Date.now() },
      store: {} as PendingQueue,
      bodies: {} as BodyStore,
      seal: new SecretSeal(config.SECRET_KEYS),
      config,
      metrics: createMetrics(),
      guards,
    });
    const document = { id: 'd1', customerId: 'c', environment: 'production' as const, type: 'event' as const };
    const outcome = await inActivity(deliver.attemptDelivery, {
      document: { ...document, createdAt: new Date().toISOString(), data: {} },
      attemptNumber: 1,
      trigger: 'scheduled',
    });
    assert.equal(outcome.delivered, false);
    assert.match(outcome.attempt.error!, /EPRIVATEADDRESS/);
    assert.equal(receiver.received.length, 1, 'the customer URL on a private address got nothing');
  });
});
