import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { listKeys, readObject } from '../helpers/s3';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

// The 5,000 (RESTORE_COLD=5000; about 7 minutes here, where the dev server runs some 60 workflow and activity
// tasks a second and each restored document takes five) and CI's 500 cross the same paging and kill.
const COLD = Number(process.env.RESTORE_COLD ?? 500);

describe('end to end over HTTP: expiry to the cold store and the operator restore job', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let receiver: Receiver;
  let key: string;

  before(async () => {
    stack = await startTestStack({ RETENTION_PRODUCTION: '8s' });
    api = apiClient(stack.baseUrl);
    receiver = await startReceiver(always(500));
    key = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'acct', name: 'Acct' })).body.apiKeys.production;
    await api('PUT', '/v1/production/webhook', key, { url: receiver.url, retrySchedule: '1s' });
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  /** A restore job's progress once it has finished, read through the API. */
  const finished = (env: string, customerId: string, restoreId: string, timeoutMs = 60_000) =>
    waitFor(
      `restore ${restoreId} completed`,
      async () => {
        const res = await api('GET', `/v1/${env}/customers/${customerId}/restores/${restoreId}`, ADMIN_KEY);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.status, 'completed');
        return res.body;
      },
      timeoutMs,
    );

  it('an expired document can no longer be pulled; a restore job brings it back as pending with a new window', async () => {
    await api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: 'acct', id: 'e1', type: 'event', data: 9 });
    await api('PATCH', '/v1/production/webhook', key, { active: false });
    await waitFor('expiry', async () =>
      assert.equal((await api('GET', '/v1/production/documents/e1', key)).body.status, 'expired'),
    );
    assert.equal((await api('GET', '/v1/production/pending/e1', key)).status, 404);
    assert.equal((await api('POST', '/v1/production/pending/e1/resend', key)).status, 404);
    assert.deepEqual(await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'expired/acct/'), [
      'expired/acct/e1.json',
    ]);

    assert.equal((await api('POST', '/v1/production/customers/acct/restore', key, {})).status, 401, 'operators only');
    const badSince = await api('POST', '/v1/production/customers/acct/restore', ADMIN_KEY, { since: 'yesterday' });
    assert.equal(badSince.status, 400);
    assert.equal(badSince.body.error.details[0].path, 'body.since');
    const badLimit = await api('POST', '/v1/production/customers/acct/restore', ADMIN_KEY, { limit: 10_001 });
    assert.equal(badLimit.body.error.details[0].path, 'body.limit');
    assert.equal((await api('POST', '/v1/production/customers/nobody/restore', ADMIN_KEY, {})).status, 404);
    assert.equal((await api('GET', '/v1/production/customers/acct/restores/rst_none', ADMIN_KEY)).status, 404);

    const started = await api('POST', '/v1/production/customers/acct/restore', ADMIN_KEY, {
      since: new Date(Date.now() - 3_600_000).toISOString(),
    });
    assert.equal(started.status, 202);
    assert.match(started.body.restoreId, /^rst_[0-9a-f]{32}$/);
    assert.equal(started.body.status, 'running');
    const done = await finished('production', 'acct', started.body.restoreId);
    assert.deepEqual([done.restored, done.skipped, done.more], [1, 0, false]);
    const pulled = await waitFor('restored', async () => {
      const res = await api('GET', '/v1/production/pending/e1', key);
      assert.equal(res.status, 200);
      return res.body;
    });
    assert.equal(pulled.data, 9);
    assert.deepEqual(await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'restores/acct/'), [
      `restores/acct/${started.body.restoreId}/000000.json`,
    ]);
  });

  it("another endpoint's expired documents come back from its own cold store, to it alone", async () => {
    const created = await api('POST', '/v1/production/endpoints', key, { url: receiver.url, retrySchedule: '1s' });
    assert.equal(created.status, 201);
    const ep = created.body.id as string;
    await api('PATCH', `/v1/production/endpoints/${ep}`, key, { active: false });
    const doc = { customerId: 'acct', id: 's9', type: 'summary', data: { at: ep } };
    assert.equal((await api('POST', '/v1/production/documents', ADMIN_KEY, doc)).status, 202);
    const at = (path: string) => api('GET', `/v1/production/documents/s9${path}`, key);
    await waitFor('expiry at both endpoints', async () => {
      assert.equal((await at(`?endpointId=${ep}`)).body.status, 'expired');
      assert.equal((await at('')).body.status, 'expired');
    });
    assert.deepEqual(await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, `expired/acct~${ep}/`), [
      `expired/acct~${ep}/s9.json`,
    ]);

    const restore = (body: Record<string, unknown>) =>
      api('POST', '/v1/production/customers/acct/restore', ADMIN_KEY, body);
    assert.equal((await restore({ endpointId: 'ep_nope' })).status, 404);
    assert.equal((await restore({ endpointId: 'nope' })).body.error.details[0].path, 'body.endpointId');
    const started = await restore({ endpointId: ep });
    assert.deepEqual([started.status, started.body.endpointId], [202, ep]);
    const done = await finished('production', 'acct', started.body.restoreId);
    assert.deepEqual([done.restored, done.skipped], [1, 0]);
    const pulled = await waitFor('pending at that endpoint again', async () => {
      const res = await api('GET', `/v1/production/endpoints/${ep}/pending/s9`, key);
      assert.equal(res.status, 200);
      return res.body;
    });
    assert.deepEqual(pulled.data, { at: ep });
    assert.equal((await at(`?endpointId=${ep}`)).body.status, 'pending');
    // The webhook's copy stays where it was: expired, in its own cold store.
    assert.equal((await at('')).body.status, 'expired');
    assert.equal((await api('GET', '/v1/production/endpoints/ep_default/pending/s9', key)).status, 404);
    assert.deepEqual(await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, `expired/acct~${ep}/`), []);
    assert.ok(
      (await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'expired/acct/')).includes('expired/acct/s9.json'),
    );
  });

  it(`${COLD.toLocaleString('en')} cold documents, the worker and the API killed mid-job: each restored once, billed once`, async () => {
    await api('POST', '/v1/customers', ADMIN_KEY, { id: 'archive', name: 'Archive' });
    const bucket = stack.config.BUCKET_SANDBOX;
    const ids = Array.from({ length: COLD }, (_, n) => `old-${String(n).padStart(5, '0')}`);
    // Stored as the expiry stores them: the body a receiver would have got, under the cold key.
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < ids.length) {
          const id = ids[next++];
          await stack.s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: `expired/archive/${id}.json`,
              ContentType: 'application/json',
              Body: JSON.stringify({
                id,
                type: 'event',
                environment: 'sandbox',
                createdAt: '2026-11-01T00:00:00.000Z',
                data: { id },
              }),
            }),
          );
        }
      }),
    );

    const started = await api('POST', '/v1/sandbox/customers/archive/restore', ADMIN_KEY, {});
    assert.equal(started.status, 202);
    const { restoreId } = started.body;
    const progress = () => api('GET', `/v1/sandbox/customers/archive/restores/${restoreId}`, ADMIN_KEY);
    await waitFor(
      'a fifth restored',
      async () => assert.ok((await progress()).body.restored >= COLD / 5, 'not yet'),
      120_000,
    );
    // Both processes die with pages under way; the job goes on once a worker is back.
    await stack.killWorker();
    await stack.killApi();
    const atKill = (await readAllPages()).length;
    await stack.restartApi();
    await stack.restartWorker();
    const done = await finished('sandbox', 'archive', restoreId, 300_000);
    console.log(`# ${done.restored} restored in ${done.pages} pages; ${atKill} page records at the kill`);
    assert.deepEqual([done.restored, done.skipped, done.pages, done.more], [COLD, 0, COLD / 100, false]);

    // In the bucket: each document pending once (its workflow stores it after the job has started it), and nothing
    // left in the cold store. A store the kill interrupted is retried under a new key and the earlier key removed once
    // no write of it can still land (settleMs), so for that moment a document has two objects: wait for one each.
    const idOf = (k: string) =>
      k
        .replace(/\.json$/, '')
        .split('_')
        .slice(4)
        .join('_');
    await waitFor(
      'every restored document in the bucket, once',
      async () => {
        const keys = await listKeys(stack.s3, bucket, 'pending/archive/');
        assert.equal(keys.length, COLD, `${keys.length} pending`);
        assert.deepEqual([...new Set(keys.map(idOf))].sort(), ids);
      },
      300_000,
    );
    await waitFor('the cold store emptied', async () =>
      assert.deepEqual(await listKeys(stack.s3, bucket, 'expired/archive/'), []),
    );

    // The billing record: one complete record per page, every document in exactly one of them.
    const pages = await readAllPages();
    assert.equal(pages.length, COLD / 100);
    assert.ok(pages.every((page) => page.complete && page.restoreId === restoreId));
    const billed = pages.flatMap((page) => page.restored as string[]);
    assert.equal(billed.length, COLD, 'no document billed twice');
    assert.deepEqual([...billed].sort(), ids);

    // Another restore finds nothing left.
    const again = await api('POST', '/v1/sandbox/customers/archive/restore', ADMIN_KEY, {});
    assert.equal((await finished('sandbox', 'archive', again.body.restoreId)).restored, 0);

    async function readAllPages() {
      const keys = await listKeys(stack.s3, bucket, `restores/archive/${restoreId}/`);
      return Promise.all(keys.map(async (k) => JSON.parse((await readObject(stack.s3, bucket, k)).body)));
    }
  });
});
