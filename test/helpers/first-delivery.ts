import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '../../scripts/lib/stack';
import type { Receiver } from './receiver';
import type { apiClient } from './stack';

/**
 * What a deployment must do first (the image, the compose stack, the chart's pods): a new customer's production
 * webhook points at `receiver`, one document is submitted, and the receiver gets it once, with a signature its secret
 * verifies and the data submitted. `onTimeout` adds what explains a delivery that never came (the containers' logs).
 */
export async function assertFirstDelivery(
  api: ReturnType<typeof apiClient>,
  adminKey: string,
  receiver: Receiver,
  { customerId, data, onTimeout }: { customerId: string; data: unknown; onTimeout?: () => Promise<string> },
): Promise<void> {
  const created = await api('POST', '/v1/customers', adminKey, { id: customerId, name: customerId });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const key = created.body.apiKeys.production as string;
  const put = await api('PUT', '/v1/production/webhook', key, { url: receiver.url });
  assert.equal(put.status, 200, JSON.stringify(put.body));

  const id = `${customerId}_1`;
  const submitted = await api('POST', '/v1/production/documents', adminKey, { customerId, id, type: 'event', data });
  assert.deepEqual(submitted, { status: 202, body: { id, status: 'sending' } });
  // The worker bundles its workflows when it starts: the first delivery may wait for that, hence the bound.
  await waitFor(
    `${id} to be delivered`,
    async () => {
      const res = await api('GET', `/v1/production/documents/${id}`, key);
      if (res.body?.status !== 'delivered') throw new Error(`status ${JSON.stringify(res.body)}`);
    },
    120_000,
  ).catch(async (err: unknown) => {
    throw new Error(`${String(err)}${onTimeout ? `\n${await onTimeout()}` : ''}`);
  });
  assert.equal(receiver.received.length, 1);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(receiver.received.length, 1, 'delivered once');
  const { body, headers } = receiver.received[0];
  const payload = new Webhook(put.body.secret as string).verify(body, headers as Record<string, string>);
  assert.deepEqual((payload as { data: unknown }).data, data);
}
