import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { listKeys } from '../helpers/s3';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

/** The last commit before several endpoints, event types and the message log (issue 20): what ran before them. */
const BEFORE = path.join(__dirname, '../fixtures/releases/32b0383.tar.gz');

/**
 * Documents and endpoints started by the version before several endpoints, on its worker and API, finished by this
 * one's after an upgrade in place (same Temporal server, same buckets): a document mid-schedule is delivered, one
 * pending in the bucket is listed, pulled and replayed, and the customer's entity, started by the old code, takes a
 * second endpoint.
 */
describe('an upgrade from the version before several endpoints, on the real stack', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let receiver: Receiver;
  let second: Receiver;
  let oldTree: string;
  const keys: Record<string, string> = {};

  before(async () => {
    // The old version's code beside this one's packages (its dependencies are the same ones).
    oldTree = mkdtempSync(path.join(tmpdir(), 'webhooks-before-'));
    execFileSync('tar', ['-xzf', BEFORE, '-C', oldTree]);
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(oldTree, 'node_modules'));
    stack = await startTestStack({ DELIVERY_TIMEOUT: '2s', PROBE_MIN_INTERVAL: '1h' }, { codeRoot: oldTree });
    api = apiClient(stack.baseUrl);
    [receiver, second] = await Promise.all([startReceiver(always(500)), startReceiver(always(200))]);
  });
  after(async () => {
    await Promise.all([receiver?.close(), second?.close()]);
    await stack?.stop();
    if (oldTree) rmSync(oldTree, { recursive: true, force: true });
  });

  it('what the old version started, the new one finishes', async () => {
    // On the old version: a document retrying on a long second interval, and one pending after its endpoint failed.
    for (const [id, retrySchedule] of [
      ['slow', '1s,15s'],
      ['done', '1s'],
    ] as const) {
      keys[id] = (await api('POST', '/v1/customers', ADMIN_KEY, { id: `up-${id}`, name: id })).body.apiKeys.production;
      const put = await api('PUT', '/v1/production/webhook', keys[id], { url: receiver.url, retrySchedule });
      assert.equal(put.status, 200);
      const submitted = await api('POST', '/v1/production/documents', ADMIN_KEY, {
        customerId: `up-${id}`,
        id: `${id}-1`,
        type: 'event',
        data: { id },
      });
      assert.equal(submitted.status, 202);
    }
    await waitFor('the old version retrying one and storing the other', async () => {
      const slow = await api('GET', '/v1/production/documents/slow-1', keys.slow);
      assert.equal(slow.body.status, 'retrying');
      const done = await api('GET', '/v1/production/documents/done-1', keys.done);
      assert.equal(done.body.status, 'pending');
    });
    const oldEndpoint = (await api('GET', '/v1/production/webhook', keys.done)).body;
    assert.equal(oldEndpoint.status, 'suspended');
    assert.equal((await api('GET', '/v1/production/endpoints', keys.done)).status, 404, 'the old version has none');

    // The upgrade: worker and API stopped, started again from this checkout, on the same server and buckets.
    await stack.stopWorker();
    await stack.killApi();
    stack.useCode('.');
    await stack.restartWorker();
    await stack.restartApi();
    receiver.setBehaviour(always(200));

    // The retry the old version scheduled (1 s, then 15 s more) runs on the new worker, 16 s after the first attempt.
    const slow = await waitFor('the retry on the new version', async () => {
      const res = await api('GET', '/v1/production/documents/slow-1', keys.slow);
      assert.equal(res.body.status, 'delivered');
      return res.body;
    });
    assert.deepEqual(
      slow.attempts.map((a: { attemptNumber: number; responseStatusCode: number }) => [
        a.attemptNumber,
        a.responseStatusCode,
      ]),
      [
        [1, 500],
        [2, 500],
        [3, 200],
      ],
    );
    const gap = Date.parse(slow.attempts[2].at) - Date.parse(slow.attempts[0].at);
    assert.ok(gap >= 16_000 && gap < 30_000, `the last attempt ${gap} ms after the first`);

    // The pending one: listed and pulled by the new API from the layout the old one wrote.
    const listed = await api('GET', '/v1/production/pending', keys.done);
    assert.deepEqual(
      listed.body.data.map((d: { id: string }) => d.id),
      ['done-1'],
    );
    assert.deepEqual((await api('GET', '/v1/production/pending/done-1', keys.done)).body.data, { id: 'done' });
    // The old entity is the customer's first endpoint, and takes a second one.
    const endpoints = (await api('GET', '/v1/production/endpoints', keys.done)).body.data;
    assert.deepEqual(
      endpoints.map((e: { id: string; status: string; pendingCount: number }) => [e.id, e.status, e.pendingCount]),
      [['ep_default', 'suspended', 1]],
    );
    const added = await api('POST', '/v1/production/endpoints', keys.done, { url: second.url });
    assert.equal(added.status, 201, JSON.stringify(added.body));

    // Reactivated on the new version: the old document is replayed to the first endpoint only.
    assert.equal((await api('PATCH', '/v1/production/webhook', keys.done, { active: true })).body.status, 'active');
    await waitFor('the replay', async () => {
      assert.equal((await api('GET', '/v1/production/documents/done-1', keys.done)).body.status, 'delivered');
    });
    assert.deepEqual(await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/up-done/'), []);
    assert.deepEqual(second.received, [], 'documents from before the second endpoint are not sent to it');

    // And what is submitted now goes to both.
    await api('POST', '/v1/production/documents', ADMIN_KEY, {
      customerId: 'up-done',
      id: 'done-2',
      type: 'event',
      data: {},
    });
    await waitFor('done-2 at both endpoints', async () => {
      assert.ok(
        receiver.received.some((r) => r.headers['webhook-id'] === 'done-2'),
        'not yet',
      );
      assert.deepEqual(
        second.received.map((r) => r.headers['webhook-id']),
        ['done-2'],
      );
    });
  });
});
