import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deliveryWorkflowId, restoreWorkflowId } from '../../src/domain/ids';
import type { RestoreProgress } from '../../src/workflows/restore';
import { sweepColdStores } from '../../src/workflows';
import { always } from '../helpers/receiver';
import { listKeys, readObject } from '../helpers/s3';
import { timeSkippingSuite } from '../helpers/temporal';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;

describe('retention, the cold store and the operator restore, with time skipping', () => {
  const suite = timeSkippingSuite({ DELIVERY_TIMEOUT: '2s' }, always(500));
  /** A restore job, started as the API starts it, and its outcome once it has finished. */
  async function restore(body: { ids?: string[] }): Promise<RestoreProgress> {
    const job = await suite.ts.service.restore('sandbox', 'cold', body);
    assert.equal(job.status, 'running');
    return suite.ts.client.workflow.getHandle(restoreWorkflowId('sandbox', 'cold', job.restoreId)).result();
  }

  it('a sandbox document expires after exactly 3 days pending, goes to the cold store, and a restore brings it back for 3 more days', async () => {
    const { ts, config, receiver } = suite;
    await ts.service.createCustomer({ id: 'cold', name: 'Cold' });
    await ts.service.configureWebhook('sandbox', 'cold', { url: receiver.url, retrySchedule: '1m' });
    await ts.service.submitDocument('sandbox', {
      customerId: 'cold',
      id: 'old',
      type: 'summary',
      data: { keep: 'me' },
    });
    await ts.env.sleep(2 * M);
    // Turned off by hand: no probes through three simulated days.
    await ts.service.setActive('sandbox', 'cold', false);
    const pending = await ts.service.getDocument('sandbox', 'cold', 'old');
    assert.equal(pending.status, 'pending');
    assert.equal(Date.parse(pending.expiresAt!) - Date.parse(pending.pendingSince!), 3 * D);

    await ts.env.sleep(3 * D - 2 * M - 1 * H);
    assert.equal((await ts.service.getDocument('sandbox', 'cold', 'old')).status, 'pending', 'not a moment early');
    await ts.env.sleep(2 * H);
    const expired = await ts.service.getDocument('sandbox', 'cold', 'old');
    assert.equal(expired.status, 'expired');
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_SANDBOX, 'pending/cold/'), []);
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_SANDBOX, 'expired/cold/'), ['expired/cold/old.json']);
    assert.equal(await ts.service.countPending('sandbox', 'cold'), 0);

    const restored = await restore({ ids: ['old'] });
    assert.deepEqual([restored.status, restored.restored, restored.skipped], ['completed', 1, 0]);
    assert.deepEqual(await ts.service.getRestore('sandbox', 'cold', restored.restoreId), restored);
    await ts.env.sleep(1 * M);
    const back = await ts.service.getDocument('sandbox', 'cold', 'old');
    assert.equal(back.status, 'pending');
    assert.ok(back.restoredAt);
    assert.equal(Date.parse(back.expiresAt!) - Date.parse(back.pendingSince!), 3 * D, 'a new retention window');
    assert.ok(Date.parse(back.pendingSince!) > Date.parse(expired.expiresAt!));
    const keys = await listKeys(ts.s3, config.BUCKET_SANDBOX, 'pending/cold/');
    assert.equal(keys.length, 1);
    assert.deepEqual(JSON.parse((await readObject(ts.s3, config.BUCKET_SANDBOX, keys[0])).body).data, { keep: 'me' });
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_SANDBOX, 'expired/cold/'), [], 'taken out of the cold store');
    assert.equal(await ts.service.countPending('sandbox', 'cold'), 1);

    const records = await listKeys(ts.s3, config.BUCKET_SANDBOX, 'restores/cold/');
    assert.deepEqual(
      records,
      [`restores/cold/${restored.restoreId}/000000.json`],
      'the restore is recorded for billing',
    );
    const record = JSON.parse((await readObject(ts.s3, config.BUCKET_SANDBOX, records[0])).body);
    assert.deepEqual([record.by, record.complete, record.restored], ['operator', true, ['old']]);

    const again = await restore({});
    assert.deepEqual([again.restored, again.skipped], [0, 0], 'nothing left to restore');
    await ts.env.sleep(3 * D);
    assert.equal((await ts.service.getDocument('sandbox', 'cold', 'old')).status, 'expired', 'expires again');
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_SANDBOX, 'expired/cold/'), ['expired/cold/old.json']);

    // The document's workflow ends at expiry: nothing of ours lives through the cold retention.
    const run = await ts.client.workflow.getHandle(deliveryWorkflowId('sandbox', 'cold', 'old')).describe();
    assert.equal(run.status.name, 'COMPLETED');

    // The cold store keeps it COLD_RETENTION (90 days): the sweep (a Temporal Schedule in the real stack) removes it
    // after that, then there is nothing left to restore.
    const sweep = () =>
      ts.client.workflow.execute(sweepColdStores, { taskQueue: config.TASK_QUEUE, workflowId: `sweep-${Date.now()}` });
    await ts.env.sleep(89 * D);
    assert.deepEqual(await sweep(), { sandbox: 0, production: 0 });
    assert.equal((await listKeys(ts.s3, config.BUCKET_SANDBOX, 'expired/cold/')).length, 1, 'still restorable');
    await ts.env.sleep(2 * D);
    assert.deepEqual(await sweep(), { sandbox: 1, production: 0 });
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_SANDBOX, 'expired/cold/'), []);
    assert.equal((await restore({})).restored, 0);
  });

  it("a large document's stored body is kept as long as a delivery can read it (233 days in sandbox), then swept", async () => {
    const { ts, config, receiver } = suite;
    await ts.service.createCustomer({ id: 'bigcold', name: 'Big Cold' });
    await ts.service.configureWebhook('sandbox', 'bigcold', { url: receiver.url, retrySchedule: '1m' });
    await ts.service.submitDocument('sandbox', {
      customerId: 'bigcold',
      id: 'large',
      type: 'event',
      data: { blob: 'x'.repeat(config.CLAIM_CHECK_BYTES) },
    });
    const bodies = () => listKeys(ts.s3, config.BUCKET_SANDBOX, 'bodies/');
    assert.equal((await bodies()).length, 1, 'stored once at submit');
    await ts.env.sleep(2 * M);
    await ts.service.setActive('sandbox', 'bigcold', false);
    assert.equal((await ts.service.getDocument('sandbox', 'bigcold', 'large')).status, 'pending');
    const sweep = () =>
      ts.client.workflow.execute(sweepColdStores, { taskQueue: config.TASK_QUEUE, workflowId: `sweep-${Date.now()}` });
    // The longest retrying (60 days of schedule, 20 Retry-Afters of 7 days), 3 days pending, the 30-day window.
    await ts.env.sleep(232 * D);
    await sweep();
    assert.equal((await bodies()).length, 1, 'kept while a rerun could still read it');
    await ts.env.sleep(2 * D);
    await sweep();
    assert.deepEqual(await bodies(), []);
  });
});
