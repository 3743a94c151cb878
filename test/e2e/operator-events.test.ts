import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '../../scripts/lib/stack';
import { generateWebhookSecret } from '../../src/lib/signature';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

const OPERATOR_SECRET = generateWebhookSecret();

interface OperatorBody {
  type: string;
  timestamp: string;
  data: { customerId: string; environment: string; documentId?: string; count?: number; restoreId?: string };
}

// OPERATOR_WEBHOOK_URL: the platform operator hears of suspensions, recoveries, reactivations, exhausted and expired
// documents and restores, signed with OPERATOR_WEBHOOK_SECRET, in Svix's operational-webhook shape.
describe('operator events, end to end', () => {
  let stack: TestStack;
  let operator: Receiver;
  let hook: Receiver;
  let api: ReturnType<typeof apiClient>;

  before(async () => {
    [operator, hook] = await Promise.all([startReceiver(always(200)), startReceiver(always(500))]);
    stack = await startTestStack({
      RETRY_SCHEDULE_PRODUCTION: '1s',
      RETRY_SCHEDULE_SANDBOX: '1s',
      RETENTION_SANDBOX: '6s',
      DELIVERY_TIMEOUT: '2s',
      // A recovery is noticed by a probe: every second here, not the production floor of a minute.
      PROBE_MIN_INTERVAL: '1s',
      OPERATOR_WEBHOOK_URL: operator.url,
      OPERATOR_WEBHOOK_SECRET: OPERATOR_SECRET,
    });
    api = apiClient(stack.baseUrl);
  });
  after(async () => {
    await Promise.all([operator?.close(), hook?.close()]);
    await stack?.stop();
  });

  /** Every event received so far, each verified with the operator secret as a Standard Webhooks receiver would. */
  const events = (): OperatorBody[] =>
    operator.received.map(
      (r) => new Webhook(OPERATOR_SECRET).verify(r.body, r.headers as Record<string, string>) as OperatorBody,
    );
  const waitForEvent = (type: string, environment = 'production') =>
    waitFor(`${type} (${environment})`, async () => {
      assert.ok(
        events().some((e) => e.type === type && e.data.environment === environment),
        `seen: ${events()
          .map((e) => e.type)
          .join(', ')}`,
      );
    });

  it('tells the operator of every suspension, recovery, reactivation, exhausted and expired document and restore', async () => {
    const keys = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'op-co', name: 'Op Co' })).body.apiKeys;
    for (const env of ['production', 'sandbox'] as const) {
      assert.equal((await api('PUT', `/v1/${env}/webhook`, keys[env], { url: hook.url })).status, 200);
    }
    const submit = (env: string, id: string) =>
      api('POST', `/v1/${env}/documents`, ADMIN_KEY, { customerId: 'op-co', id, type: 'event', data: { id } });

    // Retries run out: the document is exhausted and the endpoint suspended.
    await submit('production', 'p1');
    await waitForEvent('document.exhausted');
    await waitForEvent('endpoint.suspended');
    const exhausted = events().find((e) => e.type === 'document.exhausted')!;
    assert.deepEqual(exhausted.data.documentId, 'p1');
    assert.equal(exhausted.data.customerId, 'op-co');
    assert.ok(!Number.isNaN(Date.parse(exhausted.timestamp)));

    // The endpoint answers again: a probe recovers it.
    hook.setBehaviour(always(200));
    await waitForEvent('endpoint.recovered');

    // The customer turns it off and on again.
    await api('PATCH', '/v1/production/webhook', keys.production, { active: false });
    await api('PATCH', '/v1/production/webhook', keys.production, { active: true });
    await waitForEvent('endpoint.reactivated');

    // A sandbox document past its retention expires; the operator restores it.
    hook.setBehaviour(always(500));
    await submit('sandbox', 's1');
    await waitForEvent('document.expired', 'sandbox');
    assert.equal(events().find((e) => e.type === 'document.expired')!.data.documentId, 's1');
    const restored = await api('POST', '/v1/sandbox/customers/op-co/restore', ADMIN_KEY, {});
    assert.equal(restored.status, 202);
    await waitForEvent('restore.completed', 'sandbox');
    const completed = events().find((e) => e.type === 'restore.completed')!.data;
    assert.deepEqual([completed.count, completed.restoreId], [1, restored.body.restoreId]);

    // Each event once: receivers deduplicate on webhook-id, and no producer sent one twice.
    const ids = operator.received.map((r) => String(r.headers['webhook-id']));
    assert.equal(new Set(ids).size, ids.length, `duplicates among ${ids.join(', ')}`);
    // No secret of the customer's, no payload of theirs: ids and reasons only.
    assert.ok(operator.received.every((r) => !r.body.includes('whsec_')));
    // Started one way, by the entity (suspended, recovered, reactivated) or an activity (exhausted, expired,
    // restored): each under the operator's fairness key, beside the customers' work rather than in one's turn.
    const client = await stack.temporalClient();
    try {
      for (const id of ids) {
        const { raw } = await client.workflow.getHandle(`operator-event:${id}`).describe();
        assert.equal(raw.workflowExecutionInfo?.priority?.fairnessKey, 'operator', `the fairness key of event ${id}`);
      }
    } finally {
      await client.connection.close();
    }
  });
});
