import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

const DOCUMENTS = 20;

/** Workflow tasks the server's matching service handed to pollers of the task queue (sticky queues aside). */
async function workflowTasksPolled(metricsUrl: string, taskQueue: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('poll_success{')) continue;
    if (!line.includes('task_type="Workflow"') || !line.includes(`taskqueue="${taskQueue}"`)) continue;
    if (line.includes('partition="__sticky__"')) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

// API_EMBEDDED_WORKER: the API runs the worker in its own process and starts each document with eager start, so the
// server answers the start with the first workflow task and no worker has to poll for it.
describe('eager start: the API runs the worker', () => {
  let stack: TestStack;
  let receiver: Receiver;

  before(async () => {
    stack = await startTestStack({ API_EMBEDDED_WORKER: 'true' }, { workers: 0 });
    receiver = await startReceiver(always(200));
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  it('delivers documents with no worker process, their first workflow task never queued', async () => {
    const api = apiClient(stack.baseUrl);
    const created = await api('POST', '/v1/customers', ADMIN_KEY, { id: 'eager', name: 'Eager' });
    assert.equal(created.status, 201);
    const put = await api('PUT', '/v1/production/webhook', created.body.apiKeys.production, { url: receiver.url });
    assert.equal(put.status, 200);

    const polledBefore = await workflowTasksPolled(stack.metricsUrl, stack.config.TASK_QUEUE);
    for (let n = 0; n < DOCUMENTS; n++) {
      const res = await api('POST', '/v1/production/documents', ADMIN_KEY, {
        customerId: 'eager',
        id: `evt_${n}`,
        type: 'event',
        data: { n },
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
    }
    await waitFor('every document to arrive', async () => assert.equal(receiver.received.length, DOCUMENTS));
    for (let n = 0; n < DOCUMENTS; n++) {
      const status = await api('GET', `/v1/production/documents/evt_${n}`, created.body.apiKeys.production);
      assert.equal(status.body.status, 'delivered');
    }
    // Without eager start each document's first task goes through the task queue (>= DOCUMENTS polls).
    const polled = (await workflowTasksPolled(stack.metricsUrl, stack.config.TASK_QUEUE)) - polledBefore;
    assert.ok(
      polled < DOCUMENTS / 4,
      `${polled} workflow tasks went through the task queue for ${DOCUMENTS} documents`,
    );
  });
});
