import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../scripts/lib/stack';
import type { Config } from '../../src/config';
import { deliveryWorkflowId } from '../../src/domain/ids';
import { testConfig } from '../helpers/config';
import { always, startReceiver, type Behaviour, type Receiver } from '../helpers/receiver';
import { startTestS3 } from '../helpers/s3';
import { startTimeSkipping, type TimeSkipping } from '../helpers/temporal';

// A document learns where it goes before anything is sent: its other deliveries start (recorded in its history)
// before the first endpoint's request, so they never wait on that request, and a workflow task that fails while
// starting them has sent nothing it would send again.

describe('routing comes before any attempt', () => {
  let s3: Awaited<ReturnType<typeof startTestS3>>;
  let ts: TimeSkipping;
  let config: Config;
  const receivers: Receiver[] = [];
  let seq = 0;

  before(async () => {
    s3 = await startTestS3();
    config = testConfig({ ...s3.env, DELIVERY_TIMEOUT: '20s' });
    // Every workflow here runs with the engine refusing its first try at starting a child (the task is retried).
    ts = await startTimeSkipping(config, [require.resolve('../fixtures/interceptors/refuse-first-child-start')]);
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await ts?.stop();
    await s3?.stop();
  });

  async function receiver(behaviour: Behaviour) {
    const started = await startReceiver(behaviour);
    receivers.push(started);
    return started;
  }

  /** A customer whose webhook and one more endpoint point at these receivers. */
  async function customerWith(webhook: Receiver, other: Receiver) {
    const customerId = `routed${++seq}`;
    await ts.service.createCustomer({ id: customerId, name: customerId });
    await ts.service.configureWebhook('production', customerId, { url: webhook.url });
    const { id } = await ts.service.createEndpoint('production', customerId, { url: other.url });
    return { customerId, endpointId: id };
  }

  it('a child start the engine refuses repeats no request: each endpoint receives the document once', async () => {
    const [first, second] = [await receiver(always(200)), await receiver(always(200))];
    const { customerId, endpointId } = await customerWith(first, second);
    await ts.service.submitDocument('production', { customerId, id: 'doc-1', type: 'event', data: { n: 1 } });
    await waitFor('both deliveries', async () => {
      const document = await ts.service.getDocument('production', customerId, 'doc-1');
      const other = document.deliveries?.find((d) => d.endpointId === endpointId);
      assert.equal(document.status, 'delivered', JSON.stringify(document));
      assert.equal(other?.status, 'delivered', JSON.stringify(document));
    });
    // The refused task did fail: the document's history shows it, so the retry was real.
    const history = await ts.client.workflow
      .getHandle(deliveryWorkflowId('production', customerId, 'doc-1'))
      .fetchHistory();
    const failedTasks = history.events!.filter((e) => e.workflowTaskFailedEventAttributes).length;
    assert.ok(failedTasks >= 1, 'the engine refused the first child start');
    // Before routing came first, the first endpoint's request went out in the refused task and again in its retry.
    assert.equal(first.received.length, 1, `the webhook received it ${first.received.length} times`);
    assert.equal(second.received.length, 1, `the other endpoint received it ${second.received.length} times`);
  });

  it('a webhook that never answers costs the other endpoint nothing: it is delivered there while that request hangs', async () => {
    const [hanging, healthy] = [await receiver(() => 'hang'), await receiver(always(200))];
    const { customerId } = await customerWith(hanging, healthy);
    for (const id of ['hang-1', 'hang-2', 'hang-3']) {
      await ts.service.submitDocument('production', { customerId, id, type: 'event', data: { id } });
    }
    // Well within DELIVERY_TIMEOUT (20 s): before, each reached the other endpoint when the webhook's request ended.
    await waitFor(
      'all three at the other endpoint, and sent to the webhook',
      async () => {
        assert.equal(healthy.received.length, 3, `${healthy.received.length} of 3 at the other endpoint`);
        assert.equal(hanging.received.length, 3, `${hanging.received.length} of 3 sent to the webhook`);
      },
      15_000,
    );
    // Each of the webhook's requests is still waiting for its answer (DELIVERY_TIMEOUT is 20 s): the other endpoint
    // did not wait for any of them to end. Before, each delivery there began when the webhook's request timed out.
    assert.equal(hanging.open(), 3, `${hanging.open()} requests to the webhook still open`);
  });
});
